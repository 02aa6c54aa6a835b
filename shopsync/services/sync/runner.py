"""Running a claimed session: one guarded pipeline for every mode.

1. Claim the session (queued -> running, fencing token = attempt number), or return if someone else
   has it, it is done, or a concurrency cap says wait.
2. initial / full / populate: a bulk operation per resource (`bulk.py`); incremental / update: cursor
   pages (`paged.py`). Each job resumes from its checkpoint, so a resumed session neither misses nor
   repeats work.
3. Finish: completed when every job completed, else failed (checkpoints kept for the next run);
   `shop_data_changed` fires once if data changed.

A lost database connection is treated like a lost worker, never as a failure: the checkpoints are
committed with each batch, so the run reconnects and resumes from them in this task. A run that keeps
losing it without committing anything, or whose database stays away, is put back to queued (or, if
even that cannot be written, left running: its heartbeat stops) for the watchdog to resume.
"""

from __future__ import annotations

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from shopsync.enqueue import task_enqueue_on_commit
from shopsync.models import Shop, SyncJob, SyncSession
from shopsync.models.sync import SyncKind
from shopsync.services.sync.bulk import bulk_jobs_run
from shopsync.services.sync.config import sync_config
from shopsync.services.sync.database import CONNECTION_ERRORS, database_connection_lost, database_reconnect
from shopsync.services.sync.errors import SyncStopped
from shopsync.services.sync.guard import sessions_dispatch_waiting
from shopsync.services.sync.jobs import job_context, job_fail
from shopsync.services.sync.paged import paged_job_run
from shopsync.services.sync.sessions import (
    Heartbeat,
    Status,
    scope_note,
    session_claim,
    session_fail,
    session_finish,
    session_heartbeat,
    session_requeue,
    session_transition,
)
from shopsync.shopify import ShopifyClient, ShopifyPermanentError, ShopifyRetryableError
from shopsync.signals import shop_data_changed

logger = logging.getLogger(__name__)

BULK_KINDS = (SyncKind.INITIAL, SyncKind.FULL, SyncKind.POPULATE)
# Resumes in a row after a lost database connection that commit nothing, before the run is left to
# the watchdog (a statement that brings the server down each time must not loop here).
MAX_DATABASE_RESUMES_WITHOUT_PROGRESS = 3
# Waiting for the database to come back, at most this long (and half the heartbeat timeout).
MAX_DATABASE_WAIT_SECONDS = 60.0


def sync_session_run(*, session_id: int, task_id: str = "") -> SyncSession | None:
    """Claim and run (or resume) a session. Returns the session, or None if this call had nothing to do.

    A retryable Shopify error (outage outlasting the client's own retries) puts the session back to
    queued and re-raises, so the task retries it with back-off and resumes from the checkpoints."""
    claimed = session_claim(session_id=session_id, task_id=task_id)
    if claimed is None:
        logger.info("sync session %s not claimed (not queued, superseded or waiting for a slot)", session_id)
        return None
    session, token = claimed
    try:
        _session_execute_resuming(session, token)
    except SyncStopped as stop:
        _session_stopped(session, token, stop)
    except SoftTimeLimitExceeded:
        # The task's time is up, not the run: hand the rest to a fresh task, from the checkpoints.
        if session_requeue(session=session, token=token, note="task time limit; continuing in a new task"):
            task_enqueue_on_commit("shopsync.tasks.sync_session_run_task", session.pk)
    except ShopifyRetryableError as exc:
        # The task retries it after its own back-off; the pages say so, with the error one click away.
        session_requeue(session=session, token=token, note=f"retryable error: {exc}"[:500],
                        message="Shopify is unavailable; will retry.",
                        waiting_reason=SyncSession.WaitReason.SHOPIFY_ERRORS,
                        waiting_detail=" ".join(str(exc).split())[:500])  # fmt: skip
        raise
    except Exception as exc:
        if database_connection_lost(exc):
            _session_leave_resumable(session, token, exc)
            return None
        logger.exception("sync session %s failed", session.pk)
        session_fail(session=session, token=token, error=f"{type(exc).__name__}: {exc}")
    finally:
        sessions_dispatch_waiting()
    session.refresh_from_db()
    _signal_data_changed(session)
    return session


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
    """Give the run back without failing it: queued, for the watchdog to enqueue again later; if the
    database does not answer even for that, it stays running and the watchdog resumes it once its
    heartbeat is stale. Either way the checkpoints are kept."""
    logger.warning("sync session %s: the database connection keeps failing (%s); left for the watchdog",
                   session.pk, exc)  # fmt: skip
    if database_reconnect(timeout_seconds=0):
        session_requeue(session=session, token=token, note=f"database connection lost: {exc}"[:500])


def _session_execute(session: SyncSession, token: int) -> None:
    shop = session.shop
    if session.kind == SyncKind.INITIAL:
        # The cutover is the first initial sync's start: orders created before it are historical.
        Shop.objects.filter(pk=shop.pk, cutover_at__isnull=True).update(cutover_at=session.started_at)
    message = f"Syncing.{scope_note(session)}"
    session_heartbeat(session=session, token=token, message=message, stage=SyncSession.Stage.FETCHING)
    # Client waits (throttling, Retry-After, backoff, pacing) keep the heartbeat going.
    heartbeat = Heartbeat(session, token)
    client = ShopifyClient(shop, on_wait=heartbeat.on_wait, sleep=heartbeat.sleep)
    jobs = [job for job in session.jobs.all() if job.status != SyncJob.Status.COMPLETED]
    contexts = [job_context(session=session, job=job, token=token) for job in jobs]
    if session.kind in BULK_KINDS:
        bulk_jobs_run(contexts=contexts, client=client)
    else:
        for ctx in contexts:
            try:
                paged_job_run(ctx=ctx, client=client)
            except ShopifyPermanentError as exc:
                job_fail(ctx=ctx, error=str(exc))
    session_finish(session=session, token=token)


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
