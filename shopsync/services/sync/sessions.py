"""Session state changes: every one is a conditional UPDATE plus a `SyncEvent` row.

A worker owns a running session through its fencing token, the session's `attempts` number at claim
time: the heartbeat and every checkpoint commit are conditional on it, so a worker the watchdog gave
up on (and whose session another worker resumed) stops at its next batch instead of writing twice.

Liveness is a separate heartbeat: `SessionPulse`, a thread of the worker process stamping
`heartbeat_at` every few seconds whatever the run is doing, so a long bulk poll, a slow answer or a big
batch write never looks like a dead worker, and the watchdog can take a silent one for dead after
`SYNC_HEARTBEAT_TIMEOUT_SECONDS` (30 s) instead of minutes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from shopsync.models import Shop, SyncAttempt, SyncEvent, SyncJob, SyncSession
from shopsync.models.sync import ACTIVE_STATUSES, BACKFILL_KINDS, WORKER_STOPPED_MESSAGE
from shopsync.queues import BULK_KINDS
from shopsync.resources import declaration_for
from shopsync.services.sync.config import SyncConfig, sync_config
from shopsync.services.sync.errors import SyncStopped

logger = logging.getLogger(__name__)

# A session's error is a summary; the jobs keep their full errors.
SESSION_ERROR_CHARS = 200

Status = SyncSession.Status
# Client waits at least this long are shown on the pages (they poll every 2 s); shorter ones are not.
WAIT_SHOWN_AFTER_SECONDS = 3.0
WAIT_REASONS = {
    "retry": SyncSession.WaitReason.SHOPIFY_ERRORS,
    "throttled": SyncSession.WaitReason.THROTTLED,
    "paced": SyncSession.WaitReason.THROTTLED,
}
WAIT_CLEARED = {"waiting_reason": "", "waiting_until": None, "waiting_detail": ""}
# One lock for all claims: claims are rare (one per run) and must see a consistent count of
# running sessions to enforce the caps; an advisory lock avoids write skew between two claims.
CLAIM_LOCK_KEY = 0x5F5C_0001


def session_transition(
    *,
    session: SyncSession,
    from_statuses: Iterable[str],
    to: str,
    note: str = "",
    token: int | None = None,
    where: Q | None = None,
    skip_locked: bool = False,
    **fields,
) -> bool:
    """Move the session to `to` if it is in one of `from_statuses` (and, with `token`, still owned by
    that attempt; with `where`, still matching it). Returns whether this call made the move; the
    caller's object is refreshed. `skip_locked`: a row another transaction holds (a worker inside a
    batch's transaction, or one cut off in the middle of it) is not waited for: no move."""
    from_statuses = list(from_statuses)
    now = timezone.now()
    if to in (Status.COMPLETED, Status.FAILED, Status.CANCELLED):
        fields.setdefault("finished_at", now)
        fields.setdefault("stage", SyncSession.Stage.FINISHED)
    if to != Status.QUEUED:
        # A wait belongs to one stretch of waiting: a claim or an end is past it (a requeue may set one).
        fields = {**WAIT_CLEARED, **fields}
    rows = SyncSession.objects.filter(pk=session.pk, status__in=from_statuses)
    if token is not None:
        rows = rows.filter(attempts=token)
    if where is not None:
        rows = rows.filter(where)
    with transaction.atomic():
        if skip_locked:
            # Lock the row if it is free (its conditions checked again on the locked version); else none.
            free = list(rows.select_for_update(skip_locked=True).values_list("pk", flat=True))
            rows = SyncSession.objects.filter(pk__in=free)
        moved = rows.update(status=to, updated_at=now, **fields) == 1
        if moved:
            from_status = session.status if session.status in from_statuses else from_statuses[0]
            SyncEvent.objects.create(session=session, from_status=from_status, to_status=to, note=note[:500])
    session.refresh_from_db()
    return moved


def session_heartbeat(*, session: SyncSession, token: int, **fields) -> None:
    """Prove we still own the running session; raise `SyncStopped` if we do not (cancelled, cleared,
    resumed elsewhere) or if the shop was uninstalled meanwhile."""
    now = timezone.now()
    owned = SyncSession.objects.filter(pk=session.pk, status=Status.RUNNING, attempts=token)
    if owned.update(heartbeat_at=now, updated_at=now, **fields) != 1:
        raise SyncStopped("the session is no longer running in this worker")
    session.heartbeat_at = now
    for name, value in fields.items():
        setattr(session, name, value)
    if Shop.objects.filter(pk=session.shop_id, status=Shop.Status.UNINSTALLED).exists():
        raise SyncStopped("the shop uninstalled the app")


class Heartbeat:
    """A rate-limited heartbeat for long waits (bulk operation running, throttling back-off)."""

    def __init__(self, session: SyncSession, token: int) -> None:
        self.session = session
        self.token = token
        self.interval = sync_config().heartbeat_interval_seconds
        self._last = 0.0
        self._waiting = False

    def beat(self, *, force: bool = False, **fields) -> None:
        now = timezone.now().timestamp()
        if force or fields or now - self._last >= self.interval:
            session_heartbeat(session=self.session, token=self.token, **fields)
            self._last = now

    def on_wait(self, seconds: float, reason: str, detail: str = "") -> None:
        """`ShopifyClient(on_wait=...)`: called before each throttle, Retry-After, backoff or pacing wait.

        A wait long enough for staff to notice is recorded on the session ("waiting until T because
        of X") with the heartbeat's own write; `sleep` clears it when the wait is over. Short waits
        (most pacing) write nothing more than the rate-limited heartbeat: no write per request."""
        if seconds < WAIT_SHOWN_AFTER_SECONDS:
            self.beat()
            return
        self.beat(
            force=True,
            waiting_reason=WAIT_REASONS.get(reason, SyncSession.WaitReason.SHOPIFY_ERRORS),
            waiting_until=timezone.now() + timedelta(seconds=seconds),
            waiting_detail=" ".join(detail.split())[:500],
        )
        self._waiting = True

    def sleep(self, seconds: float) -> None:
        """`ShopifyClient(sleep=...)`: the client's waits (up to minutes) in one-second slices, beating
        between them, so the watchdog never takes a throttled run for a dead one."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            time.sleep(min(1.0, left))
            self.beat()
        if self._waiting:
            self._waiting = False
            self.beat(force=True, **WAIT_CLEARED)


def session_pulse(*, session_id: int, token: int) -> bool:
    """The liveness heartbeat: stamp `heartbeat_at` if the session is still running under `token`.
    One UPDATE; a row locked by the run's own batch transaction is skipped (that transaction stamps
    it on commit), so the pulse never waits on the run it vouches for. Returns whether it stamped."""
    with transaction.atomic():
        unlocked = SyncSession.objects.filter(pk=session_id).select_for_update(skip_locked=True).values("pk")
        owned = SyncSession.objects.filter(pk__in=unlocked, status=Status.RUNNING, attempts=token)
        return owned.update(heartbeat_at=timezone.now()) == 1


class SessionPulse:
    """A thread beating `session_pulse` every `SYNC_HEARTBEAT_INTERVAL_SECONDS` while the run goes on
    (`with SessionPulse(session_id, token): ...`). It dies with the worker process, which is the point:
    a SIGKILLed worker stops beating at once, a busy one never does. Its own database connection,
    closed when it stops; a failed beat (database away) is logged and tried again next time."""

    def __init__(self, session_id: int, token: int) -> None:
        self.session_id = session_id
        self.token = token
        self.interval = float(sync_config().heartbeat_interval_seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sync-pulse-{session_id}", daemon=True)

    def __enter__(self) -> SessionPulse:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 30)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self._beat()
        finally:
            connection.close()

    def _beat(self) -> None:
        try:
            session_pulse(session_id=self.session_id, token=self.token)
        except DatabaseError as exc:
            logger.warning("sync session %s: heartbeat failed: %s", self.session_id, exc)
            connection.close()


def session_claim(*, session_id: int, task_id: str = "", worker: str = "") -> tuple[SyncSession, int] | None:
    """Claim a queued session for this worker: queued -> running, unless a concurrency rule says wait.

    Returns (session, fencing token) or None when there is nothing to do here: the session is gone,
    already running or finished, superseded, or waiting for a slot (`waiting_for_slot`; the dispatcher
    enqueues it again when a run finishes)."""
    config = sync_config()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLAIM_LOCK_KEY])
        # (SQLite runs IMMEDIATE transactions: the claim already holds the database's write lock.)
        session = SyncSession.objects.select_related("shop").filter(pk=session_id).first()
        if session is not None and session.status == Status.RUNNING and _is_stale(session, config):
            # A redelivered task of a worker that died (acks_late): resume now, not at the next watchdog.
            # A redelivered message of a run still beating is left alone: the claim below refuses it.
            session_requeue(session=session, note=f"resumed by redelivered task {task_id or '-'}",
                            stale_before=_stale_cutoff(config))  # fmt: skip
        if session is None or session.status != Status.QUEUED:
            return None
        if not session.shop.is_installed:
            session_transition(
                session=session,
                from_statuses=[Status.QUEUED],
                to=Status.CANCELLED,
                note="shop uninstalled",
                message="Cancelled: the shop uninstalled the app.",
            )
            return None
        blocker = _blocking_session(session)
        if blocker is not None and not session.is_backfill:
            # A backfill fetches everything anyway: a delta run queued beside it has nothing to add.
            session_transition(
                session=session,
                from_statuses=[Status.QUEUED],
                to=Status.CANCELLED,
                note=f"superseded by {blocker.kind} session {blocker.pk}",
                message=f"Not needed: the {blocker.kind} sync (session {blocker.pk}) covers it.",
            )
            return None
        if blocker is not None or _over_a_cap(session, config):
            SyncSession.objects.filter(pk=session.pk).update(
                waiting_for_slot=True, stage=SyncSession.Stage.WAITING, updated_at=timezone.now()
            )
            return None
        token = session.attempts + 1
        now = timezone.now()
        moved = session_transition(
            session=session,
            from_statuses=[Status.QUEUED],
            to=Status.RUNNING,
            note=f"claimed by task {task_id or '-'} (attempt {token})",
            attempts=token,
            started_at=session.started_at or now,
            heartbeat_at=now,
            waiting_for_slot=False,
            stage=SyncSession.Stage.STARTING,
        )
        if not moved:
            return None
        SyncAttempt.objects.create(session=session, task_id=task_id[:255], worker=worker[:255])
    return session, token


def _over_a_cap(session: SyncSession, config: SyncConfig) -> bool:
    """Would running this session pass a cap? Per shop, in the fleet, and for bulk runs, the bulk runs
    together (so short runs always find a process; `SYNC_MAX_RUNNING_BACKFILLS`). Counted from the
    database under the claim lock, so the caps hold across every worker on every machine."""
    running = SyncSession.objects.filter(status=Status.RUNNING)
    if running.filter(shop_id=session.shop_id).count() >= config.max_running_per_shop:
        return True
    if running.count() >= config.max_running_total:
        return True
    return (
        session.kind in BULK_KINDS
        and running.filter(kind__in=BULK_KINDS).count() >= config.max_running_backfills
    )


def _is_stale(session: SyncSession, config: SyncConfig) -> bool:
    cutoff = _stale_cutoff(config)
    return session.heartbeat_at is None or session.heartbeat_at < cutoff


def _stale_cutoff(config: SyncConfig | None = None, now: datetime | None = None) -> datetime:
    config = config or sync_config()
    return (now or timezone.now()) - timedelta(seconds=config.heartbeat_timeout_seconds)


def _blocking_session(session: SyncSession) -> SyncSession | None:
    """A running session of the same shop this one must not overlap (backfill vs anything)."""
    others = SyncSession.objects.filter(shop_id=session.shop_id, status=Status.RUNNING).exclude(pk=session.pk)
    if not session.is_backfill:
        others = others.filter(kind__in=BACKFILL_KINDS)
    return others.order_by("created_at").first()


def session_finish(*, session: SyncSession, token: int) -> SyncSession:
    """Complete the session if every job completed, else fail it with the jobs' errors."""
    jobs = list(session.jobs.all())
    failed = [job for job in jobs if job.status != SyncJob.Status.COMPLETED]
    changed = any(job.created or job.updated or job.deleted for job in jobs)
    summary = session_summary(jobs)
    if failed:
        error = failed_jobs_summary(failed)
        session_transition(
            session=session,
            from_statuses=[Status.RUNNING],
            to=Status.FAILED,
            token=token,
            note="jobs failed",
            error=error,
            message=f"Sync failed ({error}). {summary}",
            data_changed=changed,
        )
    else:
        session_transition(
            session=session,
            from_statuses=[Status.RUNNING],
            to=Status.COMPLETED,
            token=token,
            note="all jobs completed",
            message=_completed_message(session, summary),
            data_changed=changed,
        )
    _attempt_close(session, outcome=session.status, error=session.error)
    return session


def failed_jobs_summary(failed: list[SyncJob]) -> str:
    """The session's short error: the first failed job's error, truncated, and how many more failed
    (each job keeps its full error)."""
    first = failed[0]
    text = " ".join(f"{first.resource}: {first.error or first.status}".split())
    if len(text) > SESSION_ERROR_CHARS:
        text = text[: SESSION_ERROR_CHARS - 1] + "…"
    more = len(failed) - 1
    return f"{text} (and {more} more failed job{'s' if more > 1 else ''})" if more else text


def _completed_message(session: SyncSession, summary: str) -> str:
    return f"Sync complete: {summary}{scope_note(session)}"


def scope_note(session: SyncSession) -> str:
    """Without read_all_orders Shopify shows only 60 days of orders: the run must say so."""
    limited = any(declaration_for(name).limited_without_all_orders_scope for name in session.resources)
    if limited and not session.shop.has_all_orders_scope:
        return " Note: without the read_all_orders scope Shopify shows only the last 60 days of orders."
    return ""


def session_summary(jobs: Iterable[SyncJob]) -> str:
    parts = []
    for job in jobs:
        if job.note:
            parts.append(f"{job.resource} {job.note}")
            continue
        text = f"{job.resource} {job.synced:,} ({job.created:,} new, {job.updated:,} updated"
        if job.skipped:
            text += f", {job.skipped:,} skipped"
        if job.failed:
            text += f", {job.failed:,} failed"
        if job.deleted:
            text += f", {job.deleted:,} deleted"
        parts.append(text + ")")
    return ", ".join(parts) + "."


def session_fail(*, session: SyncSession, error: str, token: int | None = None) -> bool:
    """Fail a running (or queued) session; its jobs keep their checkpoints for a later run."""
    SyncJob.objects.filter(
        session=session, status__in=[SyncJob.Status.PENDING, SyncJob.Status.RUNNING]
    ).update(status=SyncJob.Status.FAILED, error=error[:4000], updated_at=timezone.now())
    moved = session_transition(
        session=session,
        from_statuses=ACTIVE_STATUSES,
        to=Status.FAILED,
        token=token,
        note="failed",
        error=error[:4000],
        message=f"Sync failed: {error[:300]}",
    )
    _attempt_close(session, outcome=Status.FAILED, error=error)
    return moved


def session_requeue(
    *,
    session: SyncSession,
    note: str,
    token: int | None = None,
    stale_before: datetime | None = None,
    due_at: datetime | None = None,
    **fields,
) -> bool:
    """running -> queued, keeping the checkpoints: the next claim resumes where this one stopped.

    `stale_before`: only if its heartbeat is still older than that when the row is updated (a watchdog
    must not take a session whose worker beat since it looked). `due_at`: when the task that will
    resume it is due (a retry with a countdown); the watchdog counts its message lost only after it."""
    where = None
    if stale_before is not None:
        where = Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True)
    moved = session_transition(
        session=session,
        from_statuses=[Status.RUNNING],
        to=Status.QUEUED,
        token=token,
        where=where,
        # Taking over a stale run: a row lock means its worker is inside a transaction, alive (its
        # heartbeat is on the way) or cut off (PostgreSQL rolls it back once it notices): not now.
        skip_locked=stale_before is not None,
        note=note,
        stage=SyncSession.Stage.WAITING,
        enqueued_at=due_at or timezone.now(),
        **fields,
    )
    if moved:
        _attempt_close(session, outcome="requeued", error=note)
    return moved


def _attempt_close(session: SyncSession, *, outcome: str, error: str = "") -> None:
    attempt = session.attempts_log.filter(finished_at__isnull=True).order_by("-started_at").first()
    if attempt is not None:
        SyncAttempt.objects.filter(pk=attempt.pk).update(
            finished_at=timezone.now(), outcome=outcome, error=error[:4000]
        )


def sessions_stale(*, now: datetime | None = None) -> list[SyncSession]:
    """Running sessions whose worker stopped heart-beating."""
    cutoff = _stale_cutoff(now=now)
    return list(
        SyncSession.objects.filter(status=Status.RUNNING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True))
        .select_related("shop")
    )


def session_requeue_stale(*, session: SyncSession, note: str, now: datetime | None = None) -> bool:
    """Give back a running session whose worker stopped heart-beating (see `sessions_stale`), if it
    still has not beaten: a conditional UPDATE, so of two watchdogs, or a watchdog and a worker that
    beat meanwhile, exactly one outcome wins. The dashboard says the worker stopped until a claim."""
    return session_requeue(
        session=session, note=note, token=session.attempts, stale_before=_stale_cutoff(now=now),
        message=WORKER_STOPPED_MESSAGE,
    )  # fmt: skip


def sessions_orphaned_by_worker(*, worker: str) -> list[SyncSession]:
    """Running sessions whose current attempt was claimed by the Celery node `worker`: called when that
    node starts, they belong to its previous, dead, process."""
    if not worker:
        return []
    latest = (
        SyncAttempt.objects.filter(session=OuterRef("pk")).order_by("-started_at", "-pk").values("worker")[:1]
    )
    return list(
        SyncSession.objects.filter(status=Status.RUNNING)
        .annotate(claimed_by=Subquery(latest))
        .filter(claimed_by=worker)
        .select_related("shop")
    )
