"""Sync runs: a `SyncSession` is one run for one shop, a `SyncJob` one resource within it.

The database enforces the guard: at most one active (queued or running) session per shop and kind,
and at most one active backfill (initial or full) per shop. Everything that moves a session or a job
from one status to another does it with a conditional UPDATE (see `services/sync/sessions.py`).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Q

from shopsync.models.base import BaseModel

CHECKPOINT_LIFETIME = timedelta(days=7)


class SyncKind(models.TextChoices):
    INITIAL = "initial", "Initial"
    INCREMENTAL = "incremental", "Incremental"
    POPULATE = "populate", "Populate"
    UPDATE = "update", "Update"
    FULL = "full", "Full"


BACKFILL_KINDS = (SyncKind.INITIAL, SyncKind.FULL)
ACTIVE_STATUSES = ("queued", "running")
# A session's message while it waits to be resumed because its worker stopped (the dashboard reads it).
WORKER_STOPPED_MESSAGE = "The worker running this sync stopped — resuming."


class SyncSession(BaseModel):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Trigger(models.TextChoices):
        INSTALL = "install", "Install"
        # A connected shop that never synced, on the first visit to its dashboard (first_run.py).
        FIRST_RUN = "first_run", "First visit to the dashboard"
        RECONNECT = "reconnect", "Reconnect"
        BUTTON = "button", "Sync Now button"
        SETTINGS = "settings", "Settings page"
        RETRY = "retry", "Retry button"
        API = "api", "API"
        CLI = "cli", "Command line"
        BEAT = "beat", "Schedule"
        WATCHDOG = "watchdog", "Watchdog"

    class WaitReason(models.TextChoices):
        """Why a running session is waiting before its next call to Shopify (set by the client's retry
        loop through `Heartbeat.on_wait`; cleared when the wait ends)."""

        SHOPIFY_ERRORS = "shopify_errors", "Shopify is answering with errors"
        THROTTLED = "throttled", "Shopify asked us to slow down"

    class Stage(models.TextChoices):
        WAITING = "waiting", "Waiting for a slot"
        STARTING = "starting", "Starting"
        BULK_RUNNING = "bulk_running", "Shopify is preparing the export"
        FETCHING = "fetching", "Fetching"
        WRITING = "writing", "Writing"
        DELETING = "deleting", "Marking deleted records"
        FINISHED = "finished", "Finished"

    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="sync_sessions")
    kind = models.CharField(max_length=16, choices=SyncKind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    triggered_by = models.CharField(max_length=16, choices=Trigger.choices)
    resources = models.JSONField(default=list)
    days = models.PositiveIntegerField(null=True, blank=True)
    stale_after_mins = models.PositiveIntegerField(null=True, blank=True)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.WAITING)
    message = models.TextField(blank=True)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # How many times a worker claimed this session (1 + resumes).
    attempts = models.PositiveIntegerField(default=0)
    # Set when a claim was refused because a concurrency cap was full; the dispatcher re-enqueues it.
    waiting_for_slot = models.BooleanField(default=False)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    data_changed = models.BooleanField(default=False)
    # The back-off in progress, for the pages: "waiting until T because of X". Written once per wait
    # (not per request), cleared when the wait ends; `waiting_until` is unset when the next try's time
    # is not known (the task's own retry after the client gave up).
    waiting_reason = models.CharField(max_length=16, choices=WaitReason.choices, blank=True)
    waiting_until = models.DateTimeField(null=True, blank=True)
    waiting_detail = models.CharField(max_length=500, blank=True)
    # `shop_data_changed` fires once per session: this is claimed with a conditional UPDATE first.
    data_changed_signalled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "kind"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="syncsession_one_active_per_shop_kind",
            ),
            # Initial and full are the same work (a bulk backfill): never two at once for a shop.
            models.UniqueConstraint(
                fields=["shop"],
                condition=Q(status__in=ACTIVE_STATUSES, kind__in=BACKFILL_KINDS),
                name="syncsession_one_active_backfill_per_shop",
            ),
            models.CheckConstraint(
                condition=~Q(kind=SyncKind.UPDATE) | Q(stale_after_mins__gt=0),
                name="syncsession_update_needs_stale_after_mins",
            ),
            models.CheckConstraint(
                condition=Q(days__isnull=True) | Q(days__gt=0), name="syncsession_days_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="syncsession_status_heartbeat"),
            models.Index(
                fields=["shop", "kind", "status", "-finished_at"], name="syncsession_shop_kind_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} sync of {self.shop_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_backfill(self) -> bool:
        return self.kind in BACKFILL_KINDS

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.finished_at or self.heartbeat_at or self.started_at) - self.started_at


class SyncJob(BaseModel):
    """One resource within a session, with its checkpoint.

    Checkpoint, bulk modes: `bulk_operation_id` + `bulk_line` (lines of its JSONL consumed and committed),
    with `bulk_byte_line` / `bulk_byte_offset` for resuming the download with a byte range;
    after a FAILED/CANCELED operation whose partial data was consumed, `bulk_after_id` carries the
    last root id committed so the follow-up bulk query asks only for what is left.
    Checkpoint, paged modes: `page_cursor` (GraphQL endCursor of the last committed page) plus the
    watermark of committed data (`watermark_updated_at`, `watermark_id`) as a fallback if the cursor expired.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Resource(models.TextChoices):
        ORDERS = "orders", "Orders"
        CUSTOMERS = "customers", "Customers"
        PRODUCTS = "products", "Products"
        COLLECTIONS = "collections", "Collections"
        LOCATIONS = "locations", "Locations"

    session = models.ForeignKey(SyncSession, on_delete=models.CASCADE, related_name="jobs")
    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="sync_jobs")
    resource = models.CharField(max_length=16, choices=Resource.choices)
    mode = models.CharField(max_length=16, choices=SyncKind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    stale_after_mins = models.PositiveIntegerField(null=True, blank=True)
    days = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The query window: records updated in [window_start, window_end] (paged modes), or created
    # on/after window_start (populate with days).
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)

    # --- checkpoint ---
    bulk_operation_id = models.CharField(max_length=128, blank=True)
    bulk_status = models.CharField(max_length=16, blank=True)
    bulk_url = models.TextField(blank=True)
    bulk_line = models.PositiveBigIntegerField(default=0)
    # Where a resumed read of the same export restarts with an HTTP Range: its first `bulk_byte_line`
    # lines (at or before `bulk_line`) end at byte `bulk_byte_offset`. 0/0 = from the start.
    bulk_byte_line = models.PositiveBigIntegerField(default=0)
    bulk_byte_offset = models.PositiveBigIntegerField(default=0)
    bulk_after_id = models.BigIntegerField(null=True, blank=True)
    bulk_finished_at = models.DateTimeField(
        null=True, blank=True
    )  # set by the bulk_operations/finish webhook
    bulk_rounds = models.PositiveIntegerField(default=0)
    page_cursor = models.TextField(blank=True)
    watermark_updated_at = models.DateTimeField(null=True, blank=True)
    watermark_id = models.BigIntegerField(null=True, blank=True)
    checkpoint_at = models.DateTimeField(null=True, blank=True)

    # --- progress and counts (updated with F()) ---
    total = models.PositiveBigIntegerField(null=True, blank=True)
    # While Shopify prepares the export: the records (roots) it holds so far, its `rootObjectCount` at
    # the last poll (meaningful while `bulk_status` is RUNNING; a new operation starts CREATED).
    bulk_exported = models.PositiveBigIntegerField(default=0)
    synced = models.PositiveBigIntegerField(default=0)
    created = models.PositiveBigIntegerField(default=0)
    updated = models.PositiveBigIntegerField(default=0)
    skipped = models.PositiveBigIntegerField(default=0)
    unchanged = models.PositiveBigIntegerField(default=0)
    failed = models.PositiveBigIntegerField(default=0)
    deleted = models.PositiveBigIntegerField(default=0)
    pages_done = models.PositiveIntegerField(default=0)
    lines_done = models.PositiveBigIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    # [{"page": n} or {"lines": [first, last]}, "shopify_id": id|None, "reason": "..."}], capped.
    failures = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    # Why a completed job read nothing, in plain words (skipped: the shop did not grant a scope it
    # needs); shown in the session's summary instead of its counts.
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["session_id", "resource"]
        constraints = [
            models.UniqueConstraint(fields=["session", "resource"], name="syncjob_one_per_session_resource"),
        ]

    def __str__(self) -> str:
        return f"{self.resource} ({self.mode}, {self.status})"

    @property
    def has_checkpoint(self) -> bool:
        return bool(self.bulk_operation_id or self.page_cursor or self.bulk_after_id or self.bulk_line)


class SyncEvent(models.Model):
    """A status transition of a session (telemetry: who moved it where, when)."""

    session = models.ForeignKey(SyncSession, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class SyncAttempt(models.Model):
    """One worker's try at a session (R8): a resumed session has several."""

    session = models.ForeignKey(SyncSession, on_delete=models.CASCADE, related_name="attempts_log")
    task_id = models.CharField(max_length=255, blank=True)
    # The Celery node that claimed it (`worker@host`): when that node starts again, the attempt's
    # process is known dead and the session is resumed at once.
    worker = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"attempt {self.pk} of session {self.session_id}"


class SyncCursor(models.Model):
    """Per shop and resource: everything updated up to (updated_at, shopify_id) is in our database."""

    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="sync_cursors")
    resource = models.CharField(max_length=16, choices=SyncJob.Resource.choices)
    updated_at = models.DateTimeField()
    shopify_id = models.BigIntegerField(default=0)
    # The events watermark: Shopify's deletion events (`ResourceDeclaration.deletion_event`) created up
    # to this instant have been applied by incremental runs; the next reads from here minus an overlap.
    # Null until an incremental run has read them.
    deletion_events_until = models.DateTimeField(null=True, blank=True)
    session = models.ForeignKey(
        SyncSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    moved_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "resource"], name="synccursor_one_per_shop_resource"),
        ]

    def __str__(self) -> str:
        return f"{self.resource} of {self.shop_id} at {self.updated_at.isoformat()}/{self.shopify_id}"


class SyncSeenRecord(models.Model):
    """Ids a full sync job has seen in Shopify; rows of the shop not seen are soft-deleted at the end.

    A table rather than an in-memory set: a store can hold millions of ids, and a resumed run must
    remember what the dead worker saw. Rows are written in the batch's transaction and dropped when
    the job finishes.
    """

    job = models.ForeignKey(SyncJob, on_delete=models.CASCADE, related_name="+", db_index=False)
    shopify_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "shopify_id"], name="syncseenrecord_unique_job_id"),
        ]

    def __str__(self) -> str:
        return f"{self.shopify_id} seen by job {self.job_id}"
