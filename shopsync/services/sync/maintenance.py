"""The periodic side of the engine: the watchdog, recovery when a worker starts, the beat fan-out, and
clearing a stuck run.

How a run survives its worker's death (SIGKILL, OOM, a machine gone):
1. the worker's pulse thread (`SessionPulse`) stops, so `heartbeat_at` ages; the dashboard says the
   worker stopped once it is a few beats old;
2. a worker of the same Celery node starting again resumes the sessions its previous process claimed
   at once (`sync_worker_started`); otherwise the watchdog (beat, every 15 s) requeues a session
   silent for `SYNC_HEARTBEAT_TIMEOUT_SECONDS` (30 s) and enqueues it;
3. any worker claims it (a conditional UPDATE: of two watchdogs, or a watchdog and a live worker, one
   wins) and resumes each job from its checkpoint, a bulk read with an HTTP Range from its byte offset.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from shopsync.models import Shop, SyncJob, SyncSeenRecord, SyncSession
from shopsync.models.sync import (
    ACTIVE_STATUSES,
    BACKFILL_KINDS,
    CHECKPOINT_LIFETIME,
    WORKER_STOPPED_MESSAGE,
    SyncKind,
)
from shopsync.services.sync.database import lock_wait_timed_out, lock_waits_limited
from shopsync.services.sync.guard import (
    _enqueue,
    ensure_sync,
    session_redispatch,
    sessions_dispatch_waiting,
    sessions_lost,
)
from shopsync.services.sync.sessions import (
    session_fail,
    session_requeue,
    session_requeue_stale,
    session_transition,
    sessions_orphaned_by_worker,
    sessions_stale,
)

logger = logging.getLogger(__name__)

# A watchdog statement waiting this long for a lock gives its step up; the next round (15 s) tries again.
WATCHDOG_LOCK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class WatchdogReport:
    resumed: list[int]
    redispatched: list[int]
    expired_checkpoints: int


def sync_watchdog() -> WatchdogReport:
    """1. Resume running sessions whose worker died (no heartbeat): running -> queued, enqueue.
    2. Enqueue queued sessions that lost their message or waited for a slot.
    3. Drop checkpoints of runs abandoned more than 7 days ago (their bulk URLs are gone too).

    It never waits behind a row lock: a stale session whose row is locked (its worker inside a
    transaction, perhaps on a host cut off mid-batch) is skipped until a later round, and any other
    statement waiting more than `WATCHDOG_LOCK_TIMEOUT_SECONDS` gives its step up for this round."""
    with lock_waits_limited(seconds=WATCHDOG_LOCK_TIMEOUT_SECONDS):
        resumed = _sessions_stale_resume(note="resumed by the watchdog (no heartbeat)")
        redispatched = _unless_locked(
            "redispatch", lambda: [s.pk for s in sessions_lost() if session_redispatch(session=s)], []
        )
        _unless_locked("dispatch waiting", sessions_dispatch_waiting, None)
        expired = _unless_locked("expire checkpoints", checkpoints_expire, 0)
    return WatchdogReport(resumed=resumed, redispatched=redispatched, expired_checkpoints=expired)


def _unless_locked[T](step: str, run: Callable[[], T], default: T) -> T:
    try:
        return run()
    except OperationalError as exc:
        if not lock_wait_timed_out(exc):
            raise
        logger.warning("sync watchdog: %s gave up a lock wait (%s); next round", step, exc)
        return default


def _sessions_stale_resume(*, note: str) -> list[int]:
    resumed = []
    for session in sessions_stale():
        if _unless_locked(
            f"session {session.pk}", lambda s=session: session_requeue_stale(session=s, note=note), False
        ):
            _enqueue(session)
            resumed.append(session.pk)
            logger.warning("sync session %s (shop %s) %s", session.pk, session.shop_id, note)
    return resumed


@dataclass(frozen=True, slots=True)
class OrphanReport:
    resumed: list[int]
    redispatched: list[int]


def sync_sessions_resume_orphaned(*, before: datetime, shop: Shop | None = None) -> OrphanReport:
    """Resume sessions a previous process left behind, now rather than after the watchdog's timeout
    (e.g. at start-up, `before` = this process's start): running sessions whose last heartbeat is
    older than `before` are requeued and enqueued; queued ones enqueued before it are enqueued again.
    Each resumes from its checkpoints; a bulk operation that no longer exists (expired, or the
    simulator restarted) is replaced by a new export from the last id written."""
    active = SyncSession.objects.filter(status__in=ACTIVE_STATUSES).select_related("shop")
    if shop is not None:
        active = active.filter(shop=shop)
    resumed, redispatched = [], []
    running = active.filter(status=SyncSession.Status.RUNNING).filter(
        Q(heartbeat_at__lt=before) | Q(heartbeat_at__isnull=True)
    )
    for session in running:
        if session_requeue(session=session, note="resumed: its process stopped", stale_before=before,
                           message=WORKER_STOPPED_MESSAGE):  # fmt: skip
            _enqueue(session)
            resumed.append(session.pk)
    queued = active.filter(status=SyncSession.Status.QUEUED).filter(
        Q(enqueued_at__lt=before) | Q(enqueued_at__isnull=True)
    )
    redispatched = [session.pk for session in queued if session_redispatch(session=session)]
    return OrphanReport(resumed=resumed, redispatched=redispatched)


def sync_worker_started(*, worker: str) -> OrphanReport:
    """A worker (Celery node `worker`, e.g. `sync@host`) started: resume at once the sessions its
    previous process was running (a node name is one process at a time, so those are orphans, however
    fresh their last heartbeat), then what the watchdog would resume or dispatch again now.

    Safe beside live workers: each requeue is fenced by the attempt number (and, for stale ones, by
    the heartbeat still being old), and a process wrongly taken for dead stops at its next batch."""
    with lock_waits_limited(seconds=WATCHDOG_LOCK_TIMEOUT_SECONDS):
        return _worker_orphans_resume(worker=worker)


def _worker_orphans_resume(*, worker: str) -> OrphanReport:
    resumed = []
    for session in sessions_orphaned_by_worker(worker=worker):
        requeue = lambda s=session: session_requeue(  # noqa: E731
            session=s,
            token=s.attempts,
            note=f"resumed: worker {worker} restarted",
            message=WORKER_STOPPED_MESSAGE,
        )
        if _unless_locked(f"session {session.pk}", requeue, False):
            _enqueue(session)
            resumed.append(session.pk)
            logger.warning("sync session %s resumed: its worker %s restarted", session.pk, worker)
    resumed += _sessions_stale_resume(note=f"resumed by starting worker {worker} (no heartbeat)")
    redispatched = [s.pk for s in sessions_lost() if session_redispatch(session=s)]
    return OrphanReport(resumed=resumed, redispatched=redispatched)


def checkpoints_expire() -> int:
    cutoff = timezone.now() - CHECKPOINT_LIFETIME
    abandoned = SyncJob.objects.filter(
        Q(session__status__in=[SyncSession.Status.FAILED, SyncSession.Status.CANCELLED])
        | Q(session__status__in=ACTIVE_STATUSES),
        updated_at__lt=cutoff,
    ).exclude(bulk_operation_id="", page_cursor="", bulk_after_id__isnull=True, bulk_line=0)
    job_ids = list(abandoned.values_list("pk", flat=True)[:1000])
    for job_id in job_ids:
        _checkpoint_drop(job_id)
    return len(job_ids)


def _checkpoint_drop(job_id: int) -> None:
    SyncJob.objects.filter(pk=job_id).update(
        bulk_operation_id="", bulk_status="", bulk_url="", bulk_line=0, bulk_byte_line=0, bulk_byte_offset=0,
        bulk_after_id=None,
        bulk_finished_at=None, page_cursor="", updated_at=timezone.now(),
    )  # fmt: skip
    SyncSeenRecord.objects.filter(job_id=job_id).delete()


def sync_session_clear(
    *, session: SyncSession, status: str = SyncSession.Status.CANCELLED, reason: str = ""
) -> bool:
    """ "Clear stuck run" (admins): end an active session as cancelled or failed and drop its jobs'
    checkpoints, so the next trigger starts a clean run. A worker still running it stops at its
    next batch (its heartbeat finds the session no longer running)."""
    if status not in (SyncSession.Status.CANCELLED, SyncSession.Status.FAILED):
        raise ValueError("a cleared run ends cancelled or failed")
    note = reason or "cleared by an admin"
    with transaction.atomic():
        moved = session_transition(
            session=session, from_statuses=ACTIVE_STATUSES, to=status, note=note,
            message=f"Cleared: {note}.", error=note if status == SyncSession.Status.FAILED else "",
        )  # fmt: skip
        if moved:
            SyncJob.objects.filter(session=session).exclude(status=SyncJob.Status.COMPLETED).update(
                status=SyncJob.Status.CANCELLED, updated_at=timezone.now()
            )
            for job_id in session.jobs.values_list("pk", flat=True):
                _checkpoint_drop(job_id)
    return moved


def sync_session_fail_by_id(*, session_id: int, error: str) -> bool:
    session = SyncSession.objects.filter(pk=session_id, status__in=ACTIVE_STATUSES).first()
    if session is None:
        return False
    return session_fail(session=session, error=error)


def sync_incremental_all_shops() -> int:
    """Beat: an incremental sync for every installed shop that has completed its initial sync
    (a shop still waiting for one is left to its install/reconnect trigger). Returns shops ensured."""
    synced_shop_ids = SyncSession.objects.filter(
        kind__in=BACKFILL_KINDS, status=SyncSession.Status.COMPLETED
    ).values("shop_id")
    shops = Shop.objects.filter(status=Shop.Status.INSTALLED, pk__in=synced_shop_ids)
    count = 0
    for shop in shops.iterator():
        ensure_sync(shop=shop, kind=SyncKind.INCREMENTAL, triggered_by=SyncSession.Trigger.BEAT)
        count += 1
    return count
