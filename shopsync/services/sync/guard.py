"""The guard: every trigger (install, reconnect, Sync Now, API, CLI, beat, watchdog) goes through
`ensure_sync`, which returns the one active session for the shop and kind, creating and enqueueing it
only if there is none.

1. Validate the request (mode, resources, days, staleAfterMins).
2. A delta run (incremental, populate, update) asked for while a backfill (initial, full) is active is
   answered with the backfill: it covers the delta.
3. Insert the session inside a savepoint. The partial unique constraints
   (`syncsession_one_active_per_shop_kind`, `syncsession_one_active_backfill_per_shop`) make one of
   N concurrent inserts win; the others get IntegrityError and return the winner's session.
4. Enqueue its task after commit, only when this call created it. A publish that fails (broker down
   or unreachable) is logged, not raised: the session is committed and queued, and the watchdog
   dispatches a queued session whose message is gone again (`sessions_lost`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from kombu.exceptions import KombuError

from shopsync.enqueue import task_enqueue_on_commit
from shopsync.models import Shop, SyncAttempt, SyncEvent, SyncJob, SyncSeenRecord, SyncSession
from shopsync.models.sync import ACTIVE_STATUSES, BACKFILL_KINDS, CHECKPOINT_LIFETIME, SyncKind
from shopsync.queues import SYNC_QUEUE, sync_queue_for_kind
from shopsync.resources import DECLARATIONS
from shopsync.services.sync.config import sync_config
from shopsync.services.sync.errors import SyncInputError
from shopsync.services.sync.sessions import session_requeue_stale, sessions_stale

logger = logging.getLogger(__name__)

ALL_RESOURCES: tuple[str, ...] = tuple(DECLARATIONS)
# A hundred years covers any store (Shopify opened in 2006). Beyond it a window start soon falls
# before year 1 (OverflowError in the worker) and the values outgrow their integer columns.
SYNC_MAX_DAYS = 36_500
SYNC_MAX_STALE_AFTER_MINS = SYNC_MAX_DAYS * 24 * 60
CHECKPOINT_FIELDS = (
    "bulk_operation_id", "bulk_status", "bulk_url", "bulk_line", "bulk_byte_line", "bulk_byte_offset",
    "bulk_after_id", "bulk_rounds",
    "page_cursor", "watermark_updated_at", "watermark_id", "window_start", "window_end", "checkpoint_at",
    "total", "synced", "created", "updated", "skipped", "unchanged", "failed", "pages_done", "lines_done",
    "api_calls", "failures",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EnsureResult:
    session: SyncSession
    created: bool


def sync_request_validate(
    *, kind: str, resources: Iterable[str] | None, days: int | None, stale_after_mins: int | None
) -> list[str]:
    """Check a sync request; returns the resources in canonical order. Raises `SyncInputError`."""
    if kind not in SyncKind.values:
        raise SyncInputError(f"Unknown sync mode {kind!r}; expected one of {', '.join(SyncKind.values)}.")
    wanted = list(ALL_RESOURCES) if resources is None else [r.strip() for r in resources if r.strip()]
    unknown = sorted(set(wanted) - set(ALL_RESOURCES))
    if unknown:
        raise SyncInputError(
            f"Unknown resource {', '.join(unknown)}; expected orders, customers or products."
        )
    if not wanted:
        raise SyncInputError("Choose at least one resource: orders, customers or products.")
    if kind == SyncKind.UPDATE and (stale_after_mins is None or stale_after_mins <= 0):
        raise SyncInputError("Update mode needs staleAfterMins greater than 0.")
    if stale_after_mins is not None and stale_after_mins > SYNC_MAX_STALE_AFTER_MINS:
        raise SyncInputError(f"staleAfterMins must be at most {SYNC_MAX_STALE_AFTER_MINS} (100 years).")
    if kind != SyncKind.UPDATE and stale_after_mins is not None:
        raise SyncInputError("staleAfterMins applies to update mode only.")
    if days is not None and days <= 0:
        raise SyncInputError("days must be greater than 0.")
    if days is not None and days > SYNC_MAX_DAYS:
        raise SyncInputError(f"days must be at most {SYNC_MAX_DAYS} (100 years).")
    if days is not None and kind != SyncKind.POPULATE:
        raise SyncInputError("days applies to populate mode only.")
    return [r for r in ALL_RESOURCES if r in wanted]


def ensure_sync(
    *,
    shop: Shop,
    kind: str = SyncKind.INCREMENTAL,
    triggered_by: str,
    resources: Iterable[str] | None = None,
    days: int | None = None,
    stale_after_mins: int | None = None,
    enqueue: bool = True,
) -> EnsureResult:
    """Return the shop's active session of this kind (or the backfill that covers it), creating and
    enqueueing one if there is none. Safe to call from any number of concurrent triggers.

    `enqueue=False` is for `manage.py sync --inline`, which runs the created session in-process."""
    wanted = sync_request_validate(
        kind=kind, resources=resources, days=days, stale_after_mins=stale_after_mins
    )
    if triggered_by not in SyncSession.Trigger.values:
        raise SyncInputError(f"Unknown trigger {triggered_by!r}.")
    if not shop.is_installed:
        raise SyncInputError(f"{shop.domain} has uninstalled the app; reconnect it before syncing.")
    existing = _active_covering_session(shop=shop, kind=kind)
    if existing is not None:
        _resume_if_stuck(existing)
        return EnsureResult(existing, created=False)
    try:
        with transaction.atomic():
            session = _session_create(
                shop=shop,
                kind=kind,
                triggered_by=triggered_by,
                resources=wanted,
                days=days,
                stale_after_mins=stale_after_mins,
            )
    except IntegrityError:
        existing = _active_covering_session(shop=shop, kind=kind)
        if existing is None:  # the winner finished between its insert and our read: vanishingly rare
            raise
        return EnsureResult(existing, created=False)
    if enqueue:
        _enqueue(session)
    return EnsureResult(session, created=True)


def _active_covering_session(*, shop: Shop, kind: str) -> SyncSession | None:
    active = SyncSession.objects.filter(shop=shop, status__in=ACTIVE_STATUSES)
    same_kind = active.filter(kind=kind).first()
    if same_kind is not None:
        return same_kind
    # Initial and full exclude each other, and either covers any delta run.
    return active.filter(kind__in=BACKFILL_KINDS).first()


def _session_create(
    *,
    shop: Shop,
    kind: str,
    triggered_by: str,
    resources: list[str],
    days: int | None,
    stale_after_mins: int | None,
) -> SyncSession:
    now = timezone.now()
    session = SyncSession.objects.create(
        shop=shop,
        kind=kind,
        triggered_by=triggered_by,
        resources=resources,
        days=days,
        stale_after_mins=stale_after_mins,
        queued_at=now,
        enqueued_at=now,
        message=f"Queued ({triggered_by}).",
    )
    SyncEvent.objects.create(session=session, from_status="", to_status=SyncSession.Status.QUEUED,
                             note=f"created by {triggered_by}")  # fmt: skip
    previous = _previous_failed_jobs(shop=shop, kind=kind, days=days, stale_after_mins=stale_after_mins)
    for resource in resources:
        job = SyncJob.objects.create(
            session=session,
            shop=shop,
            resource=resource,
            mode=kind,
            days=days,
            stale_after_mins=stale_after_mins,
        )
        if resource in previous:
            _checkpoint_inherit(job=job, previous=previous[resource])
    return session


def _previous_failed_jobs(
    *, shop: Shop, kind: str, days: int | None, stale_after_mins: int | None
) -> dict[str, SyncJob]:
    """Jobs of the shop's last session of this kind, if it failed recently: a new run resumes them
    (checkpoint-based recovery) instead of starting over. A cleared run has no checkpoint to give."""
    last = SyncSession.objects.filter(shop=shop, kind=kind).exclude(status__in=ACTIVE_STATUSES).first()
    if last is None or last.status != SyncSession.Status.FAILED:
        return {}
    if (last.days, last.stale_after_mins) != (days, stale_after_mins):
        return {}
    if last.finished_at and last.finished_at < timezone.now() - CHECKPOINT_LIFETIME:
        return {}
    return {job.resource: job for job in last.jobs.all()}


def _checkpoint_inherit(*, job: SyncJob, previous: SyncJob) -> None:
    if previous.status == SyncJob.Status.COMPLETED:
        values = {name: getattr(previous, name) for name in CHECKPOINT_FIELDS}
        values.update(status=SyncJob.Status.COMPLETED, started_at=previous.started_at,
                      finished_at=previous.finished_at)  # fmt: skip
    elif previous.has_checkpoint:
        values = {name: getattr(previous, name) for name in CHECKPOINT_FIELDS}
    else:
        return
    SyncJob.objects.filter(pk=job.pk).update(**values)
    SyncSeenRecord.objects.filter(job=previous).update(job=job)
    # Handed over: the old job must not give the same checkpoint to a second run.
    SyncJob.objects.filter(pk=previous.pk).update(bulk_operation_id="", bulk_url="", bulk_line=0, bulk_byte_line=0,
                                                  bulk_byte_offset=0, bulk_after_id=None, page_cursor="")  # fmt: skip


def _resume_if_stuck(session: SyncSession) -> None:
    """Triggering a run whose worker died resumes it (the watchdog would, later)."""
    config = sync_config()
    now = timezone.now()
    if session.status == SyncSession.Status.RUNNING:
        if session in sessions_stale(now=now) and session_requeue_stale(
            session=session, note="resumed by a new trigger", now=now
        ):
            _enqueue(session)
    elif (
        not session.waiting_for_slot
        and session.enqueued_at
        and session.enqueued_at < now - timedelta(seconds=config.redispatch_after_seconds)
        and sync_queue_backlog(queue=sync_queue_for_kind(session.kind)) == 0
    ):
        session_redispatch(session=session)


def session_redispatch(*, session: SyncSession) -> bool:
    """Enqueue a queued session's task again (lost message, or a slot freed up). Only one of several
    concurrent dispatchers does it: the `enqueued_at` stamp is claimed with a conditional UPDATE."""
    now = timezone.now()
    claimed = SyncSession.objects.filter(
        pk=session.pk,
        status=SyncSession.Status.QUEUED,
        enqueued_at=session.enqueued_at,
        waiting_for_slot=session.waiting_for_slot,
    ).update(enqueued_at=now, waiting_for_slot=False, updated_at=now)
    if claimed:
        session.enqueued_at = now
        _enqueue(session)
    return bool(claimed)


def sessions_dispatch_waiting() -> int:
    """Enqueue queued sessions that were refused a slot earlier, round-robin between shops: the shop
    served longest ago first (never served: first of all), then the oldest session. FIFO by creation
    let one shop with many waiting runs (or one re-queued slice after another) go before every other
    shop; by last service, a shop that just had a turn waits for the others'."""
    return sum(session_redispatch(session=session) for session in sessions_waiting_in_turn()[:50])


def sessions_waiting_in_turn() -> QuerySet[SyncSession]:
    """Sessions waiting for a slot, in the order `sessions_dispatch_waiting` enqueues them."""
    last_served = (
        SyncAttempt.objects.filter(session__shop_id=OuterRef("shop_id"))
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    return (
        SyncSession.objects.filter(status=SyncSession.Status.QUEUED, waiting_for_slot=True)
        .annotate(shop_last_served=Subquery(last_served))
        .order_by(F("shop_last_served").asc(nulls_first=True), "created_at", "pk")
    )


def sessions_lost() -> list[SyncSession]:
    """Queued sessions whose task is gone: enqueued (or due, for a retry) longer ago than
    `SYNC_REDISPATCH_AFTER_SECONDS` while the sync queue is empty, so their message is neither
    waiting there nor anywhere else (a worker holds at most the message it runs, and a run claims its
    session at once). A message is lost when its publish failed or was dropped, when the broker lost
    it (a restart without persistence), or when a worker took it and ended without running the session.
    With a backlog in the queue nothing is counted lost: the message may be in it, and a new one
    would queue behind the same backlog anyway. An unreachable broker answers nothing: no dispatch."""
    cutoff = timezone.now() - timedelta(seconds=sync_config().redispatch_after_seconds)
    waiting = SyncSession.objects.filter(
        status=SyncSession.Status.QUEUED, waiting_for_slot=False, enqueued_at__lt=cutoff
    )
    candidates = list(waiting.order_by("enqueued_at")[:100])
    # Each run's message is on its kind's queue: a backlog of backfill slices says nothing about a
    # lost incremental's message, and the other way round.
    backlogs = {
        queue: sync_queue_backlog(queue=queue) for queue in {sync_queue_for_kind(s.kind) for s in candidates}
    }
    return [session for session in candidates if backlogs[sync_queue_for_kind(session.kind)] == 0]


def sync_queue_backlog(*, queue: str = SYNC_QUEUE) -> int | None:
    """Messages waiting in a sync queue (None: the broker did not answer)."""
    conn = current_app.connection_for_write()
    try:
        with conn:
            conn.ensure_connection(max_retries=1)
            return conn.default_channel.queue_declare(queue=queue).message_count
    except (KombuError, OSError, *conn.connection_errors, *conn.channel_errors) as exc:
        logger.warning("sync queue %s length unknown (broker unreachable): %s", queue, exc)
        return None


def _enqueue(session: SyncSession, *, countdown: float | None = None) -> None:
    """Publish the session's task once the current transaction commits (R5). A publish that fails is
    logged, not raised: the session is committed and queued, and the watchdog dispatches it again
    (`sessions_lost`). It goes to its kind's queue: short runs and backfills apart (`shopsync/queues.py`)."""
    task_enqueue_on_commit(
        "shopsync.tasks.sync_session_run_task", session.pk, countdown=countdown,
        queue=sync_queue_for_kind(session.kind), tolerate_publish_failure=True,
    )  # fmt: skip
