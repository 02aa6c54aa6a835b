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
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
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


@dataclass(frozen=True, slots=True)
class WatchdogReport:
    resumed: list[int]
    redispatched: list[int]
    expired_checkpoints: int


def sync_watchdog() -> WatchdogReport:
    """1. Resume running sessions whose worker died (no heartbeat): running -> queued, enqueue.
    2. Enqueue queued sessions that lost their message or waited for a slot.
    3. Drop checkpoints of runs abandoned more than 7 days ago (their bulk URLs are gone too)."""
    resumed = _sessions_stale_resume(note="resumed by the watchdog (no heartbeat)")
    redispatched = [s.pk for s in sessions_lost() if session_redispatch(session=s)]
    sessions_dispatch_waiting()
    return WatchdogReport(
        resumed=resumed, redispatched=redispatched, expired_checkpoints=checkpoints_expire()
    )


def _sessions_stale_resume(*, note: str) -> list[int]:
    resumed = []
    for session in sessions_stale():
        if session_requeue_stale(session=session, note=note):
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
    resumed = []
    for session in sessions_orphaned_by_worker(worker=worker):
        if session_requeue(session=session, token=session.attempts, note=f"resumed: worker {worker} restarted",
                           message=WORKER_STOPPED_MESSAGE):  # fmt: skip
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
