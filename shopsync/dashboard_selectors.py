"""Reads for the staff pages: the nav sync indicator, progress, history, records (R2: reads only).

The sync engine's own selectors (`shopsync.selectors`) answer "what is the state of the run"; these
shape that state for people: which of the indicator's states to show, the per-resource progress
lines, the completion summary, and the "last updated" token the htmx poll sends back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from reconciliation.models import ReconciliationReport, SyncHealthMetric
from shopsync.models import Customer, Order, Shop, SyncJob, SyncSession
from shopsync.models.sync import ACTIVE_STATUSES, WORKER_STOPPED_MESSAGE, SyncKind
from shopsync.selectors import shop_is_synced, sync_last_completed_at, sync_session_active

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
RESOURCE_PLURALS = {"customers": "customers", "orders": "orders", "products": "products"}


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
    resource: str
    status: str
    synced: int
    total: int | None

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, round(100 * self.synced / self.total))


@dataclass(frozen=True, slots=True)
class SyncIndicator:
    """What the nav widget shows. `state` is one of:
    never (no run yet), running (queued or running), failed (the last run failed),
    stale (no completed sync for 24 h), idle (synced recently)."""

    state: str
    session: SyncSession | None
    last_completed_at: datetime | None
    progress: tuple[ResourceProgressLine, ...]
    token: str
    # The run's worker stopped (no heartbeat lately, or the run was given back for that reason): the
    # page shows `WORKER_STOPPED_MESSAGE` instead of progress that no longer moves.
    worker_stopped: bool = False

    @property
    def is_active(self) -> bool:
        return self.state == "running"

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
        if self.session is None:
            return ""
        return self.session.error or self.session.message or "The sync failed."


def sync_indicator_get(*, shop: Shop, now: datetime | None = None) -> SyncIndicator:
    now = now or timezone.now()
    session = (
        sync_session_active(shop=shop)
        or SyncSession.objects.filter(shop=shop).order_by("-created_at").first()
    )
    last_completed_at = sync_last_completed_at(shop=shop)
    jobs = list(session.jobs.order_by("resource")) if session is not None else []
    progress = tuple(
        ResourceProgressLine(resource=job.resource, status=job.status, synced=job.synced, total=job.total)
        for job in jobs
    )
    state = _indicator_state(session=session, last_completed_at=last_completed_at, now=now)
    worker_stopped = _worker_stopped(session=session, now=now)
    token = _token(state=state, session=session, last_completed_at=last_completed_at, jobs=jobs)
    return SyncIndicator(
        state=state,
        session=session,
        last_completed_at=last_completed_at,
        progress=progress,
        token=f"{token}s" if worker_stopped else token,
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
    *, state: str, session: SyncSession | None, last_completed_at: datetime | None, jobs: list[SyncJob]
) -> str:
    # Built from the values shown, not from `updated_at`: job counters move with F() updates that do
    # not touch `updated_at`, and a poll must see every increment.
    parts = [state, str(last_completed_at)]
    if session is not None:
        parts += [str(session.pk), session.status, session.stage, session.message, session.error]
    parts += [f"{job.resource}:{job.status}:{job.synced}:{job.total}" for job in jobs]
    return hashlib.blake2s("|".join(parts).encode(), digest_size=8).hexdigest()


def sync_session_for_shop(*, shop: Shop, session_id: int | None) -> SyncSession | None:
    if session_id is None:
        return None
    return SyncSession.objects.filter(shop=shop, pk=session_id).first()


def sync_completion_summary(*, session: SyncSession) -> str:
    """ "Sync complete: 5,234 customers, 12,891 orders imported" (customers first, as staff read it)."""
    order = {"customers": 0, "orders": 1, "products": 2}
    jobs = sorted(session.jobs.all(), key=lambda job: order.get(job.resource, 9))
    parts = [f"{job.synced:,} {RESOURCE_PLURALS.get(job.resource, job.resource)}" for job in jobs]
    return f"Sync complete: {', '.join(parts) or 'nothing'} imported"


# --- settings page -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionHistoryRow:
    session: SyncSession
    created: int
    updated: int
    skipped: int
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
            skipped=session.skipped_total or 0,
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


def reconciliation_reports_latest(*, shop: Shop, limit: int = 6) -> list[ReconciliationReport]:
    return list(ReconciliationReport.objects.filter(shop=shop).order_by("-started_at", "-pk")[:limit])


def health_metrics_latest(*, shop: Shop) -> list[SyncHealthMetric]:
    """The newest sample of each kind of health metric for the shop."""
    latest = (
        SyncHealthMetric.objects.filter(shop=shop).order_by("kind", "-measured_at", "-pk").distinct("kind")
    )
    return list(latest)


# --- records -----------------------------------------------------------------------------------


def customer_page_get(*, shop: Shop, query: str, page: int | str | None) -> Page:
    customers = Customer.objects.filter(shop=shop, deleted_at__isnull=True)
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


def order_page_get(*, shop: Shop, query: str, page: int | str | None) -> Page:
    orders = Order.objects.filter(shop=shop, deleted_at__isnull=True)
    if query:
        orders = orders.filter(Q(name__icontains=query) | Q(email__icontains=query))
    orders = orders.order_by("-shopify_created_at", "-pk")
    return Paginator(orders, PAGE_SIZE).get_page(page)


def customer_orders_list(*, customer: Customer, limit: int = 20) -> list[Order]:
    return list(
        Order.objects.filter(
            shop_id=customer.shop_id, customer_shopify_id=customer.shopify_id, deleted_at__isnull=True
        ).order_by("-shopify_created_at")[:limit]
    )


@dataclass(frozen=True, slots=True)
class RecordCounts:
    customers: int
    orders: int
    historical_orders: int


def record_counts_get(*, shop: Shop) -> RecordCounts:
    orders = Order.objects.filter(shop=shop, deleted_at__isnull=True)
    return RecordCounts(
        customers=Customer.objects.filter(shop=shop, deleted_at__isnull=True).count(),
        orders=orders.count(),
        historical_orders=orders.filter(is_historical=True).count(),
    )
