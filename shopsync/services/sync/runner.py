"""Running a claimed session: one guarded pipeline for every mode.

1. Claim the session (queued -> running, fencing token = attempt number), or return if someone else
   has it, it is done, or a concurrency cap says wait.
2. initial / full / populate: a bulk operation per resource (`bulk.py`); incremental / update: cursor
   pages (`paged.py`). Each job resumes from its checkpoint, so a resumed session neither misses nor
   repeats work.
   In a worker the run takes a turn (`slicing.py`): after its slice it is re-queued from the
   checkpoints, behind the runs queued meanwhile.
3. Finish: completed when every job completed, else failed (checkpoints kept for the next run);
   `shop_data_changed` fires once if data changed.

A lost database connection is treated like a lost worker, never as a failure: the checkpoints are
committed with each batch, so the run reconnects and resumes from them in this task. A run that keeps
losing it without committing anything, or whose database stays away, is put back to queued with a
new task due shortly (or, if even that cannot be written, left running: its heartbeat stops and the
watchdog resumes it). A task never ends leaving its session queued without a successor: that is
how a run "never started" (issue: the cut-connections e2e test found a session queued for minutes).
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from shopsync.models import Shop, SyncJob, SyncSession
from shopsync.models.sync import SyncKind
from shopsync.queues import BULK_KINDS
from shopsync.services.sync.bulk import bulk_jobs_run
from shopsync.services.sync.config import SYNC_RETRY_BACKOFF_MAX_SECONDS, sync_config
from shopsync.services.sync.database import CONNECTION_ERRORS, database_connection_lost, database_reconnect
from shopsync.services.sync.errors import SyncStopped
from shopsync.services.sync.guard import _enqueue, sessions_dispatch_waiting
from shopsync.services.sync.jobs import job_context, job_fail, job_skip_if_unscoped
from shopsync.services.sync.paged import paged_job_run
from shopsync.services.sync.sessions import (
    Heartbeat,
    SessionPulse,
    Status,
    scope_note,
    session_claim,
    session_fail,
    session_finish,
    session_heartbeat,
    session_requeue,
    session_transition,
)
from shopsync.services.sync.slicing import SyncSliceEnded, run_slice
from shopsync.shopify import (
    ShopifyClient,
    ShopifyPacingDeferred,
    ShopifyPermanentError,
    ShopifyRetryableError,
)
from shopsync.signals import shop_data_changed

logger = logging.getLogger(__name__)

# Resumes in a row after a lost database connection that commit nothing, before the run is left to
# the watchdog (a statement that brings the server down each time must not loop here).
MAX_DATABASE_RESUMES_WITHOUT_PROGRESS = 3
# Waiting for the database to come back, at most this long (and half the heartbeat timeout).
MAX_DATABASE_WAIT_SECONDS = 60.0
# A run given back after losing its database connection is tried again in a new task this much later.
DATABASE_RESUME_DELAY_SECONDS = 10.0


def sync_session_run(
    *, session_id: int, task_id: str = "", worker: str = "", sliced: bool = False
) -> SyncSession | None:
    """Claim and run (or resume) a session. Returns the session, or None if this call had nothing to do.
    `worker` is the Celery node running it (recorded on the attempt, see `sync_worker_started`).
    `sliced` (a worker's task): give the process back after `SYNC_BACKFILL_SLICE_SECONDS` (bulk runs) or
    `SYNC_DELTA_SLICE_SECONDS` (the others) and queue again (`slicing.py`); an inline run goes to its end.

    A retryable Shopify error (outage outlasting the client's own retries) puts the session back to
    queued and re-raises, so the task retries it with back-off and resumes from the checkpoints."""
    claimed = _session_claim_reconnecting(session_id=session_id, task_id=task_id, worker=worker)
    if claimed is None:
        logger.info("sync session %s not claimed (not queued, superseded or waiting for a slot)", session_id)
        return None
    session, token = claimed
    with SessionPulse(session.pk, token), run_slice(seconds=_slice_seconds(session) if sliced else 0):
        if not _session_run_claimed(session, token):
            return None
    session.refresh_from_db()
    _signal_data_changed(session)
    return session


def _slice_seconds(session: SyncSession) -> float:
    config = sync_config()
    return config.backfill_slice_seconds if session.kind in BULK_KINDS else config.delta_slice_seconds


def _session_claim_reconnecting(
    *, session_id: int, task_id: str, worker: str
) -> tuple[SyncSession, int] | None:
    """`session_claim`, once more after a lost database connection (a task starting just as the
    database restarts): a task that raised here would be acked with its session left queued and no
    message to run it."""
    try:
        return session_claim(session_id=session_id, task_id=task_id, worker=worker)
    except CONNECTION_ERRORS as exc:
        if not database_connection_lost(exc) or not database_reconnect(timeout_seconds=_database_wait()):
            raise
        return session_claim(session_id=session_id, task_id=task_id, worker=worker)


def _session_run_claimed(session: SyncSession, token: int) -> bool:
    """Run the claimed session to its end; False if it was given back for lack of a database."""
    try:
        _session_execute_resuming(session, token)
    except SyncStopped as stop:
        _session_stopped(session, token, stop)
    except ShopifyPacingDeferred as deferred:
        _session_defer(session, token, deferred)
    except SyncSliceEnded as ended:
        _session_yield(session, token, ended)
    except SoftTimeLimitExceeded:
        # The task's time is up, not the run: hand the rest to a fresh task, from the checkpoints.
        if session_requeue(session=session, token=token, note="task time limit; continuing in a new task"):
            _enqueue(session)
    except ShopifyRetryableError as exc:
        # The task retries with a countdown of at most SYNC_RETRY_BACKOFF_MAX_SECONDS: until then the
        # watchdog must not take the session's message for lost. The pages say so, with the error one
        # click away.
        due_at = timezone.now() + timedelta(seconds=SYNC_RETRY_BACKOFF_MAX_SECONDS)
        session_requeue(session=session, token=token, note=f"retryable error: {exc}"[:500], due_at=due_at,
                        message="Shopify is unavailable; will retry.",
                        waiting_reason=SyncSession.WaitReason.SHOPIFY_ERRORS,
                        waiting_detail=" ".join(str(exc).split())[:500])  # fmt: skip
        raise
    except Exception as exc:
        if database_connection_lost(exc):
            _session_leave_resumable(session, token, exc)
            return False
        logger.exception("sync session %s failed", session.pk)
        session_fail(session=session, token=token, error=f"{type(exc).__name__}: {exc}")
    finally:
        sessions_dispatch_waiting()
    return True


def _session_execute_resuming(session: SyncSession, token: int) -> None:
    """`_session_execute`, resumed from the committed checkpoints after each lost database connection;
    the connection error is raised once the database stays away or resumes stop making progress."""
    resumes_without_progress = 0
    progress = None
    while True:
        try:
            _session_execute(session, token)
            return
        except CONNECTION_ERRORS as exc:
            if not database_connection_lost(exc) or not database_reconnect(timeout_seconds=_database_wait()):
                raise
            previous, progress = progress, _committed_progress(session)
            resumes_without_progress = resumes_without_progress + 1 if progress == previous else 1
            if resumes_without_progress > MAX_DATABASE_RESUMES_WITHOUT_PROGRESS:
                raise
            logger.warning("sync session %s lost its database connection (%s); resuming from its checkpoints",
                           session.pk, exc)  # fmt: skip
            session.refresh_from_db()


def _committed_progress(session: SyncSession) -> list[tuple]:
    return list(session.jobs.order_by("pk").values_list("pk", "status", "checkpoint_at"))


def _database_wait() -> float:
    return min(MAX_DATABASE_WAIT_SECONDS, sync_config().heartbeat_timeout_seconds / 2)


def _session_leave_resumable(session: SyncSession, token: int, exc: BaseException) -> None:
    """Give the run back without failing it: queued, with a new task due in a few seconds (this one
    ends); if the database does not answer even for that, it stays running and the watchdog resumes
    it once its heartbeat is stale. Either way the checkpoints are kept."""
    logger.warning("sync session %s: the database connection keeps failing (%s); resuming in a new task",
                   session.pk, exc)  # fmt: skip
    if database_reconnect(timeout_seconds=0) and session_requeue(
        session=session, token=token, note=f"database connection lost: {exc}"[:500]
    ):
        _enqueue(session, countdown=DATABASE_RESUME_DELAY_SECONDS)


def _session_execute(session: SyncSession, token: int) -> None:
    shop = session.shop
    if session.kind == SyncKind.INITIAL:
        # The cutover is the first initial sync's start: orders created before it are historical.
        Shop.objects.filter(pk=shop.pk, cutover_at__isnull=True).update(cutover_at=session.started_at)
    message = f"Syncing.{scope_note(session)}"
    session_heartbeat(session=session, token=token, message=message, stage=SyncSession.Stage.FETCHING)
    # Client waits (throttling, Retry-After, backoff, pacing) keep the heartbeat going.
    heartbeat = Heartbeat(session, token)
    # A long wait for the shop's API budget gives the worker back instead (`_session_defer`).
    client = ShopifyClient(shop, on_wait=heartbeat.on_wait, sleep=heartbeat.sleep,
                           defer_waits_over=settings.SHOPIFY_BUDGET_DEFER_AFTER_SECONDS)  # fmt: skip
    jobs = [job for job in session.jobs.all() if job.status != SyncJob.Status.COMPLETED]
    contexts = [job_context(session=session, job=job, token=token) for job in jobs]
    contexts = [ctx for ctx in contexts if not job_skip_if_unscoped(ctx=ctx)]
    if session.kind in BULK_KINDS:
        bulk_jobs_run(contexts=contexts, client=client)
    else:
        for ctx in contexts:
            try:
                paged_job_run(ctx=ctx, client=client)
            except ShopifyPermanentError as exc:
                job_fail(ctx=ctx, error=str(exc))
    session_finish(session=session, token=token)


def _session_defer(session: SyncSession, token: int, deferred: ShopifyPacingDeferred) -> None:
    """The shop's API budget needs a long wait (other runs are spending it): rather than sleep in a
    worker slot, put the run back to queued and enqueue it for when the budget has room; it resumes
    from its checkpoints (the request it was about to send was never sent)."""
    countdown = max(1, math.ceil(deferred.wait_seconds))
    requeued = session_requeue(
        session=session, token=token, note=f"paced: {deferred}"[:500],
        message="Waiting for the shop's Shopify API budget; continuing shortly.",
        waiting_reason=SyncSession.WaitReason.THROTTLED,
        waiting_until=timezone.now() + timedelta(seconds=countdown),
        waiting_detail=str(deferred)[:500],
    )  # fmt: skip
    if requeued:
        _enqueue(session, countdown=countdown)


def _session_yield(session: SyncSession, token: int, ended: SyncSliceEnded) -> None:
    """Its slice is used up (fair turns): back to queued from its checkpoints, like a budget deferral,
    and to the back of its kind's queue, behind the runs that were waiting for a slot (dispatched
    first, round-robin between shops), so every queued shop gets a turn before this one's next."""
    countdown = ended.countdown
    requeued = session_requeue(
        session=session, token=token, note=f"turn: {ended}"[:500],
        message="Taking turns with other syncs; continuing shortly.",
        due_at=timezone.now() + timedelta(seconds=countdown),
    )  # fmt: skip
    if requeued:
        sessions_dispatch_waiting()
        _enqueue(session, countdown=countdown or None)


def _session_stopped(session: SyncSession, token: int, stop: SyncStopped) -> None:
    session.refresh_from_db()
    shop_gone = not Shop.objects.filter(pk=session.shop_id, status=Shop.Status.INSTALLED).exists()
    if shop_gone:
        session_transition(
            session=session, from_statuses=[Status.RUNNING], to=Status.CANCELLED, token=token,
            note="shop uninstalled", message="Stopped: the shop uninstalled the app.",
        )  # fmt: skip
    logger.info("sync session %s stopped: %s", session.pk, stop.reason)


def _signal_data_changed(session: SyncSession) -> None:
    """Fire `shop_data_changed` once per session that changed data, whoever finishes it."""
    if not session.data_changed or session.status not in (Status.COMPLETED, Status.FAILED, Status.CANCELLED):
        return
    claimed = SyncSession.objects.filter(pk=session.pk, data_changed_signalled_at__isnull=True).update(
        data_changed_signalled_at=timezone.now()
    )
    if not claimed:
        return
    changed = [job.resource for job in session.jobs.all() if job.created or job.updated or job.deleted]
    shop_data_changed.send(
        sender=SyncSession,
        shop_id=session.shop_id,
        session_id=session.pk,
        kind=session.kind,
        resources=changed,
    )
