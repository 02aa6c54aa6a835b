"""Reads for the staff pages: the nav sync indicator, progress, history, records (R2: reads only).

The sync engine's own selectors (`shopsync.selectors`) answer "what is the state of the run"; these
shape that state for people: which of the indicator's states to show, the per-resource progress
lines, the completion summary, and the "last updated" token the htmx poll sends back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from shopsync.customer_selectors import CustomerListFilters, customers_filter
from shopsync.models import Customer, LineItem, Order, OrderTransaction, Shop, SyncJob, SyncSession
from shopsync.models.sync import ACTIVE_STATUSES, BACKFILL_KINDS, WORKER_STOPPED_MESSAGE, SyncKind
from shopsync.order_extras_selectors import orders_filter_by_status
from shopsync.resources import DECLARATIONS
from shopsync.selectors import shop_is_synced, sync_last_completed_at

STALE_AFTER = timedelta(hours=24)
# A running session whose worker has not beaten for this long (three beats at the default 5 s) is shown
# as stopped: the watchdog resumes it after SYNC_HEARTBEAT_TIMEOUT_SECONDS (30 s), the page says so at once.
WORKER_SILENT_AFTER = timedelta(seconds=15)
PAGE_SIZE = 25
TERMINAL_STATUSES = (SyncSession.Status.COMPLETED, SyncSession.Status.FAILED, SyncSession.Status.CANCELLED)
# The order the stages of a run happen in, for the settings page's stage list.
STAGE_ORDER = [
    SyncSession.Stage.WAITING,
    SyncSession.Stage.STARTING,
    SyncSession.Stage.BULK_RUNNING,
    SyncSession.Stage.FETCHING,
    SyncSession.Stage.WRITING,
    SyncSession.Stage.DELETING,
    SyncSession.Stage.FINISHED,
]
# The resources as the pages list them: by name (customers, orders, products).
RESOURCE_ORDER = {name: position for position, name in enumerate(sorted(DECLARATIONS))}
# A bulk operation's statuses while Shopify is still preparing its export.
EXPORT_PREPARING_STATUSES = ("CREATED", "RUNNING")
# The beat's incremental sync (shopsync/beat.py): a failed delta run is tried again by the next one.
SCHEDULED_SYNC_EVERY = timedelta(minutes=15)
# How each trigger reads after "Initial sync #12 · " on the pages.
TRIGGER_PHRASES = {
    SyncSession.Trigger.INSTALL: "started when the store was connected",
    SyncSession.Trigger.FIRST_RUN: "started automatically on your first visit",
    SyncSession.Trigger.RECONNECT: "started when the store was reconnected",
    SyncSession.Trigger.BUTTON: "started with the Sync Now button",
    SyncSession.Trigger.SETTINGS: "started from the Settings page",
    SyncSession.Trigger.RETRY: "started with Retry now",
    SyncSession.Trigger.API: "started through the API",
    SyncSession.Trigger.CLI: "started from the command line",
    SyncSession.Trigger.BEAT: "started by the 15-minute schedule",
    SyncSession.Trigger.WATCHDOG: "restarted automatically",
}
# A job's status as a word for staff.
JOB_STATUS_LABELS = {
    SyncJob.Status.PENDING: "Waiting",
    SyncJob.Status.RUNNING: "In progress",
    SyncJob.Status.COMPLETED: "Done",
    SyncJob.Status.FAILED: "Failed",
    SyncJob.Status.CANCELLED: "Stopped",
}


# --- shops -------------------------------------------------------------------------------------


def shops_for_user(*, user: AbstractBaseUser) -> QuerySet[Shop]:
    """The shops a user may see: the ones they are a member of (staff flags grant nothing here)."""
    return Shop.objects.filter(members=user).order_by("domain")


def sync_now_kind(*, shop: Shop) -> str:
    """Sync Now means "catch up": incremental once a backfill completed, else the initial sync."""
    return SyncKind.INCREMENTAL if shop_is_synced(shop=shop) else SyncKind.INITIAL


# --- the nav indicator and progress --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResourceProgressLine:
    """One resource of a run. `exported` is what Shopify's export holds so far while it is being
    prepared (`is_preparing`); `created` and `deleted` are the rows this run added and marked deleted."""

    resource: str
    status: str
    synced: int
    total: int | None
    exported: int = 0
    is_preparing: bool = False
    created: int = 0
    deleted: int = 0

    @classmethod
    def of(cls, job: SyncJob) -> ResourceProgressLine:
        preparing = job.status == SyncJob.Status.RUNNING and job.bulk_status in EXPORT_PREPARING_STATUSES
        return cls(
            resource=job.resource, status=job.status, synced=job.synced, total=job.total,
            exported=job.bulk_exported if job.bulk_status == "RUNNING" else 0, is_preparing=preparing,
            created=job.created, deleted=job.deleted,
        )  # fmt: skip

    @property
    def shown(self) -> int:
        """The figure the line counts: records exported while Shopify prepares, else records synced."""
        return self.exported if self.is_preparing else self.synced

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, round(100 * self.shown / self.total))

    @property
    def state(self) -> str:
        """How the bar is drawn: done (full, green), running (blue), preparing (amber: Shopify's
        export so far), waiting (empty), failed (red, as far as it got), stopped (grey, as far as it got)."""
        if self.is_preparing:
            return "preparing"
        return {"completed": "done", "pending": "waiting", "cancelled": "stopped"}.get(
            self.status, self.status
        )

    @property
    def status_label(self) -> str:
        if self.is_preparing:
            return "Preparing export"
        return JOB_STATUS_LABELS.get(self.status, self.status.replace("_", " ").capitalize())

    @property
    def bar_max(self) -> int:
        return self.total or 1

    @property
    def bar_value(self) -> int:
        """Only a completed job is drawn full without a total; a failed one never is."""
        if self.total:
            return min(self.shown, self.total)
        return 1 if self.status == SyncJob.Status.COMPLETED else 0


@dataclass(frozen=True, slots=True)
class SyncWait:
    """A running (or requeued) session waiting out Shopify errors or throttling."""

    reason: str
    until: datetime | None
    detail: str

    @property
    def is_throttled(self) -> bool:
        return self.reason == SyncSession.WaitReason.THROTTLED

    @property
    def headline(self) -> str:
        if self.is_throttled:
            return "Shopify asked us to slow down, so the sync is pausing."
        return "Shopify is answering with errors, so the sync is waiting before it tries again."


@dataclass(frozen=True, slots=True)
class SyncFailure:
    """A failed run in plain words: what happened, what to do, and the technical detail (behind a
    disclosure). `retry_by` is when a scheduled run tries again, or None when nothing will."""

    headline: str
    advice: str
    detail: str
    retry_by: datetime | None
    needs_reconnect: bool


@dataclass(frozen=True, slots=True)
class SyncIndicator:
    """What the nav widget shows. `state` is one of:
    never (no run yet), running (queued or running), failed (the last run failed),
    stale (no completed sync for 24 h), idle (synced recently).

    `session` is the run shown: the running one whenever there is one, else a queued one, else the
    latest. `queued_session` is another active run waiting behind it (shown beside it)."""

    state: str
    session: SyncSession | None
    last_completed_at: datetime | None
    progress: tuple[ResourceProgressLine, ...]
    token: str
    queued_session: SyncSession | None = None
    failure: SyncFailure | None = None
    # The run's worker stopped (no heartbeat lately, or the run was given back for that reason): the
    # page shows `WORKER_STOPPED_MESSAGE` instead of progress that no longer moves.
    worker_stopped: bool = False

    @property
    def is_active(self) -> bool:
        return self.state == "running"

    @property
    def is_preparing(self) -> bool:
        return any(line.is_preparing for line in self.progress)

    @property
    def current_line(self) -> ResourceProgressLine | None:
        """The line the compact widget shows: the resource being worked on, else the first."""
        running = [line for line in self.progress if line.status == SyncJob.Status.RUNNING]
        return (running or list(self.progress) or [None])[0]

    @property
    def stages(self) -> list[StageStep]:
        return sync_stage_steps(session=self.session) if self.session is not None else []

    @property
    def failure_reason(self) -> str:
        if self.failure is not None:
            return self.failure.headline
        if self.session is None:
            return ""
        return self.session.error or self.session.message or "The sync failed."

    @property
    def wait(self) -> SyncWait | None:
        session = self.session
        if session is None or not session.is_active or not session.waiting_reason:
            return None
        return SyncWait(
            reason=session.waiting_reason, until=session.waiting_until, detail=session.waiting_detail
        )


def sync_trigger_phrase(*, session: SyncSession) -> str:
    return TRIGGER_PHRASES.get(session.triggered_by, f"started by {session.get_triggered_by_display()}")


def sync_indicator_get(*, shop: Shop, now: datetime | None = None) -> SyncIndicator:
    now = now or timezone.now()
    shown, queued = _sessions_shown(shop=shop)
    last_completed_at = sync_last_completed_at(shop=shop)
    jobs = list(shown.jobs.order_by("resource")) if shown is not None else []
    progress = tuple(ResourceProgressLine.of(job) for job in jobs)
    state = _indicator_state(session=shown, last_completed_at=last_completed_at, now=now)
    failure = (
        sync_failure_explain(session=shown, jobs=jobs) if shown is not None and state == "failed" else None
    )
    worker_stopped = _worker_stopped(session=shown, now=now)
    token = _token(state=state, sessions=[shown, queued], last_completed_at=last_completed_at, jobs=jobs)
    return SyncIndicator(
        state=state,
        session=shown,
        last_completed_at=last_completed_at,
        progress=progress,
        token=f"{token}s" if worker_stopped else token,
        queued_session=queued,
        failure=failure,
        worker_stopped=worker_stopped,
    )


def _worker_stopped(*, session: SyncSession | None, now: datetime) -> bool:
    if session is None:
        return False
    if session.status == SyncSession.Status.QUEUED:
        return session.message == WORKER_STOPPED_MESSAGE
    return (
        session.status == SyncSession.Status.RUNNING
        and session.heartbeat_at is not None
        and session.heartbeat_at < now - WORKER_SILENT_AFTER
    )


def _sessions_shown(*, shop: Shop) -> tuple[SyncSession | None, SyncSession | None]:
    """(the session to show, a queued one beside it). A running session always wins: a queued
    backfill waiting for a slot must not hide the run that is actually working."""
    active = list(SyncSession.objects.filter(shop=shop, status__in=ACTIVE_STATUSES))
    active.sort(
        key=lambda s: (s.status != SyncSession.Status.RUNNING, s.kind not in BACKFILL_KINDS, s.created_at)
    )
    if not active:
        return SyncSession.objects.filter(shop=shop).order_by("-created_at").first(), None
    queued = next((s for s in active[1:] if s.status == SyncSession.Status.QUEUED), None)
    return active[0], queued


def _indicator_state(
    *, session: SyncSession | None, last_completed_at: datetime | None, now: datetime
) -> str:
    if session is not None and session.status in ACTIVE_STATUSES:
        return "running"
    if session is not None and session.status == SyncSession.Status.FAILED:
        return "failed"
    if last_completed_at is None:
        return "never" if session is None else "stale"
    return "stale" if last_completed_at < now - STALE_AFTER else "idle"


def _token(
    *,
    state: str,
    sessions: list[SyncSession | None],
    last_completed_at: datetime | None,
    jobs: list[SyncJob],
) -> str:
    # Built from the values shown, not from `updated_at`: job counters move with F() updates that do
    # not touch `updated_at`, and a poll must see every increment.
    parts = [state, str(last_completed_at)]
    for session in sessions:
        if session is not None:
            parts += [str(session.pk), session.status, session.stage, session.message, session.error,
                      session.waiting_reason, str(session.waiting_until), session.waiting_detail]  # fmt: skip
    parts += [
        f"{job.resource}:{job.status}:{job.synced}:{job.total}:{job.created}:{job.deleted}:{job.bulk_status}:{job.bulk_exported}"
        for job in jobs
    ]
    return hashlib.blake2s("|".join(parts).encode(), digest_size=8).hexdigest()


# --- failures in plain words ---------------------------------------------------------------------

# (cause, what staff read). Errors are stored as text by the engine; these markers are the ones its
# messages and Shopify's answers carry (see shopsync/shopify/transport.py and services/sync/bulk.py).
_FAILURE_CAUSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("uninstalled", ("uninstalled",)),
    ("cleared", ("cleared",)),
    ("access", ("access_denied", "access denied", "http 403")),
    ("auth", ("http 401", "unauthorized", "401:", "token was revoked", "invalid api key")),
    ("export", ("bulk operation",)),
    ("throttled", ("throttled",)),
    ("database", ("write failed", "database", "operationalerror", "integrityerror")),
    ("shopify_down", ("http 5", "internal", "network", "timed out", "unavailable", "not json")),
)


def _failure_cause(error: str) -> str:
    text = error.lower()
    for cause, markers in _FAILURE_CAUSES:
        if any(marker in text for marker in markers):
            return cause
    return "unknown"


def _failure_headline(cause: str, what: str) -> str:
    return {
        "uninstalled": "The store uninstalled the app, so the sync stopped.",
        "cleared": "Someone stopped this sync by hand.",
        "access": f"Shopify refused to share the store's {what}: the app is missing a permission.",
        "auth": "Shopify no longer accepts this app's access to the store.",
        "export": f"Shopify kept failing to prepare the {what} export.",
        "throttled": f"Shopify kept asking us to slow down while we fetched the {what}, for longer than we wait.",
        "database": f"We could not save the {what} to our database.",
        "shopify_down": f"Shopify kept answering with errors while we fetched the {what}.",
    }.get(cause, f"The sync of the {what} stopped because of an unexpected error.")


def sync_failure_explain(*, session: SyncSession, jobs: list[SyncJob] | None = None) -> SyncFailure:
    """Say what went wrong in plain words, and what to do about it."""
    jobs = list(session.jobs.all()) if jobs is None else jobs
    failed = [job for job in jobs if job.status == SyncJob.Status.FAILED]
    what = _join_words([job.resource for job in failed]) or "records"
    error = next((job.error for job in failed if job.error), "") or session.error or session.message
    cause = _failure_cause(error)
    needs_reconnect = cause in ("access", "auth", "uninstalled")
    retry_by = _scheduled_retry_by(session) if not needs_reconnect else None
    if needs_reconnect:
        advice = "Reconnect the store (and approve what it asks for), then press Retry now."
    elif retry_by is not None:
        advice = "We will try again with the next scheduled sync."
    else:
        advice = "Nothing retries on its own: press Retry now. It continues where it stopped, so nothing is fetched twice."
    details = [f"{job.resource}: {job.error}" for job in failed if job.error]
    detail = "\n".join(details) or session.error or session.message or "No error was recorded."
    return SyncFailure(
        headline=_failure_headline(cause, what), advice=advice, detail=detail, retry_by=retry_by,
        needs_reconnect=needs_reconnect,
    )  # fmt: skip


def _scheduled_retry_by(session: SyncSession) -> datetime | None:
    """The beat's incremental run covers a failed delta run of a synced shop: it comes within 15
    minutes of the failure. A failed backfill is retried by nobody until someone presses Retry."""
    if session.kind in BACKFILL_KINDS or session.finished_at is None or not session.shop.is_installed:
        return None
    if not shop_is_synced(shop=session.shop):
        return None
    return session.finished_at + SCHEDULED_SYNC_EVERY


def _join_words(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def sync_session_for_shop(*, shop: Shop, session_id: int | None) -> SyncSession | None:
    if session_id is None:
        return None
    return SyncSession.objects.filter(shop=shop, pk=session_id).first()


def sync_completion_summary(*, session: SyncSession) -> str:
    """What a finished run did, resource by resource (customers first, as staff read it), in the
    write path's own counts: new, updated and unchanged (a replay or an older version is unchanged).

    "Sync complete: nothing changed (12,000 customers, 5,003 orders and 400 products checked)."
    "Sync complete. Customers: 3 new, 5 updated, 11,992 unchanged. Orders: 5,003 unchanged."
    """
    jobs = sorted(session.jobs.all(), key=lambda job: RESOURCE_ORDER.get(job.resource, 9))
    if not jobs:
        return "Sync complete: there was nothing to sync."
    if not any(job.created or job.updated or job.deleted or job.failed for job in jobs):
        checked = _join_words([f"{job.synced:,} {job.resource}" for job in jobs])
        return f"Sync complete: nothing changed ({checked} checked)."
    return "Sync complete. " + " ".join(_job_counts(job) for job in jobs)


def _job_counts(job: SyncJob) -> str:
    counts = [f"{job.created:,} new", f"{job.updated:,} updated", f"{job.skipped:,} unchanged"]
    if job.deleted:
        counts.append(f"{job.deleted:,} marked deleted")
    if job.failed:
        counts.append(f"{job.failed:,} could not be saved")
    return f"{job.resource.capitalize()}: {', '.join(counts)}."


# --- settings page -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionHistoryRow:
    session: SyncSession
    created: int
    updated: int
    unchanged: int  # the jobs' `skipped`: already held, or older than what we hold
    failed: int
    duration: timedelta | None


def sync_history_list(*, shop: Shop, limit: int = 20) -> list[SessionHistoryRow]:
    sessions = (
        SyncSession.objects.filter(shop=shop)
        .annotate(
            created_total=Sum("jobs__created"),
            updated_total=Sum("jobs__updated"),
            skipped_total=Sum("jobs__skipped"),
            failed_total=Sum("jobs__failed"),
        )
        .order_by("-created_at")[:limit]
    )
    return [
        SessionHistoryRow(
            session=session,
            created=session.created_total or 0,
            updated=session.updated_total or 0,
            unchanged=session.skipped_total or 0,
            failed=session.failed_total or 0,
            duration=session.duration,
        )
        for session in sessions
    ]


@dataclass(frozen=True, slots=True)
class StageStep:
    label: str
    state: str  # done | current | todo


def sync_stage_steps(*, session: SyncSession) -> list[StageStep]:
    current = STAGE_ORDER.index(session.stage) if session.stage in STAGE_ORDER else 0
    if session.status == SyncSession.Status.COMPLETED:
        current = len(STAGE_ORDER)
    return [
        StageStep(
            label=stage.label, state="done" if index < current else "current" if index == current else "todo"
        )
        for index, stage in enumerate(STAGE_ORDER)
    ]


# --- records -----------------------------------------------------------------------------------


def customer_page_get(
    *, shop: Shop, query: str, page: int | str | None, filters: CustomerListFilters | None = None
) -> Page:
    customers = Customer.objects.filter(shop=shop, deleted_at__isnull=True)
    if filters is not None:
        customers = customers_filter(customers, filters=filters)
    if query:
        customers = customers.filter(
            Q(email__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
            | Q(phone__icontains=query)
            | Q(local_notes__icontains=query)
        )
    customers = customers.order_by("-shopify_updated_at", "-pk")
    return Paginator(customers, PAGE_SIZE).get_page(page)


def order_page_get(
    *,
    shop: Shop,
    query: str,
    page: int | str | None,
    financial_status: str = "",
    fulfillment_status: str = "",
) -> Page:
    orders = Order.objects.filter(shop=shop, deleted_at__isnull=True)
    if query:
        orders = orders.filter(Q(name__icontains=query) | Q(email__icontains=query))
    orders = orders_filter_by_status(
        orders, financial_status=financial_status, fulfillment_status=fulfillment_status
    )
    orders = orders.order_by("-shopify_created_at", "-pk")
    return Paginator(orders, PAGE_SIZE).get_page(page)


def order_line_items_list(*, order: Order) -> list[LineItem]:
    return list(order.line_items.order_by("pk"))


def order_transactions_list(*, order: Order) -> list[OrderTransaction]:
    """The order's payment timeline: its transactions as they happened (processed, else created)."""
    return list(
        order.transactions.order_by(
            Coalesce("processed_at", "shopify_created_at").asc(nulls_last=True), "shopify_id"
        )
    )


# Money that reached the shop, and money that went back (successful transactions only).
PAID_KINDS = ("sale", "capture")
REFUNDED_KINDS = ("refund",)


@dataclass(frozen=True, slots=True)
class CustomerPayments:
    currency: str
    paid: Decimal
    refunded: Decimal

    @property
    def net(self) -> Decimal:
        return self.paid - self.refunded


def customer_payments_list(*, customer: Customer) -> list[CustomerPayments]:
    """What the customer paid, per currency: successful sales and captures less successful refunds,
    over their orders not deleted (from the orders' transactions)."""
    rows = (
        OrderTransaction.objects.filter(
            shop_id=customer.shop_id,
            order__customer_shopify_id=customer.shopify_id,
            order__deleted_at__isnull=True,
            status="success",
        )
        .values("currency")
        .annotate(
            paid=Sum("amount", filter=Q(kind__in=PAID_KINDS), default=Decimal(0)),
            refunded=Sum("amount", filter=Q(kind__in=REFUNDED_KINDS), default=Decimal(0)),
        )
        .order_by("currency")
    )
    return [CustomerPayments(row["currency"] or "", row["paid"], row["refunded"]) for row in rows]


def order_customer_get(*, order: Order) -> Customer | None:
    if order.customer_shopify_id is None:
        return None
    return Customer.objects.filter(shop_id=order.shop_id, shopify_id=order.customer_shopify_id).first()


def customer_orders_list(*, customer: Customer, limit: int = 20) -> list[Order]:
    return list(
        Order.objects.filter(
            shop_id=customer.shop_id, customer_shopify_id=customer.shopify_id, deleted_at__isnull=True
        ).order_by("-shopify_created_at")[:limit]
    )


@dataclass(frozen=True, slots=True)
class RecordCounts:
    """`is_live`: customers and orders are followed from a running sync's own counters; historical
    orders are counted again once it ends (whether a new order is historical is the database's call)."""

    customers: int
    orders: int
    historical_orders: int
    is_live: bool = False


# The counts a running sync started from, per session (see `record_counts_get`).
RECORD_COUNTS_CACHE_SECONDS = 6 * 3600
LIVE_RESOURCES = ("customers", "orders")


def record_counts_get(*, shop: Shop, indicator: SyncIndicator | None = None) -> RecordCounts:
    """The shop's records. While a sync runs (an active `indicator`), the rows are counted once per
    run and web process, and the run's own counters (rows it created, minus rows it marked deleted)
    are added on each poll: a COUNT of a million orders every 2 s would compete with the sync's writes."""
    if indicator is None or not indicator.is_active or indicator.session is None:
        return _record_counts_query(shop=shop)
    session = indicator.session
    moved_now = _rows_moved(indicator.progress)
    key = f"shopsync:record-counts:{shop.pk}:{session.pk}:{session.created_at.timestamp()}"
    base = cache.get(key)
    if base is None:
        counts = _record_counts_query(shop=shop)
        if _rows_moved_get(session=session) != moved_now:
            return counts  # a batch committed while we counted: count again on the next poll
        base = ((counts.customers, counts.orders, counts.historical_orders), moved_now)
        cache.set(key, base, RECORD_COUNTS_CACHE_SECONDS)
    (customers, orders, historical), moved_then = base
    return RecordCounts(
        customers=customers + moved_now["customers"] - moved_then["customers"],
        orders=orders + moved_now["orders"] - moved_then["orders"],
        historical_orders=historical,
        is_live=True,
    )


def _record_counts_query(*, shop: Shop) -> RecordCounts:
    orders = Order.objects.filter(shop=shop, deleted_at__isnull=True)
    return RecordCounts(
        customers=Customer.objects.filter(shop=shop, deleted_at__isnull=True).count(),
        orders=orders.count(),
        historical_orders=orders.filter(is_historical=True).count(),
    )


def _rows_moved(progress: tuple[ResourceProgressLine, ...]) -> dict[str, int]:
    moved = dict.fromkeys(LIVE_RESOURCES, 0)
    for line in progress:
        if line.resource in moved:
            moved[line.resource] += line.created - line.deleted
    return moved


def _rows_moved_get(*, session: SyncSession) -> dict[str, int]:
    """The run's counters as committed now. A batch commits its rows and its counters together, so
    counters unchanged from before a COUNT to after it mean the COUNT saw exactly those batches."""
    moved = dict.fromkeys(LIVE_RESOURCES, 0)
    for resource, created, deleted in session.jobs.values_list("resource", "created", "deleted"):
        if resource in moved:
            moved[resource] += created - deleted
    return moved
