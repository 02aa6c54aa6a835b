"""Reads for shops and their sync runs (R2: reads live here, writes in services)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from shopsync.domains import normalize_shop_domain
from shopsync.models import FailedSyncItem, Shop, SyncJob, SyncSession
from shopsync.models.sync import ACTIVE_STATUSES, BACKFILL_KINDS


def shop_get_for_user(*, user: AbstractBaseUser | AnonymousUser, domain: str | None) -> Shop:
    """The shop `domain` if the user is one of its members; without a domain, the user's only shop.
    Anything else is a 404: outsiders learn nothing about which shops exist."""
    shops = Shop.objects.filter(members=user) if user.is_authenticated else Shop.objects.none()
    if domain:
        shop = shops.filter(domain=normalize_shop_domain(domain)).first()
    else:
        candidates = list(shops[:2])
        shop = candidates[0] if len(candidates) == 1 else None
    if shop is None:
        raise Http404("No such shop.")
    return shop


def shop_is_synced(*, shop: Shop) -> bool:
    """A shop counts as synced only once an initial (or full) sync completed."""
    return SyncSession.objects.filter(
        shop=shop, kind__in=BACKFILL_KINDS, status=SyncSession.Status.COMPLETED
    ).exists()


def sync_session_active(*, shop: Shop) -> SyncSession | None:
    """The shop's active session, backfills first (they are the ones a user waits for)."""
    active = list(SyncSession.objects.filter(shop=shop, status__in=ACTIVE_STATUSES))
    active.sort(key=lambda s: (s.kind not in BACKFILL_KINDS, s.created_at))
    return active[0] if active else None


def sync_session_list(*, shop: Shop, limit: int = 50) -> QuerySet[SyncSession]:
    return (
        SyncSession.objects.filter(shop=shop)
        .prefetch_related(Prefetch("jobs", queryset=SyncJob.objects.order_by("resource")))
        .order_by("-created_at")[:limit]
    )


def sync_last_completed_at(*, shop: Shop) -> datetime | None:
    last = (
        SyncSession.objects.filter(shop=shop, status=SyncSession.Status.COMPLETED)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return last


@dataclass(frozen=True, slots=True)
class ResourceProgress:
    synced: int
    total: int | None


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What the status endpoint, the nav indicator and the CLI progress bar show."""

    status: str  # idle (never synced) | queued | running | completed | failed | cancelled
    stage: str
    message: str
    page: int
    updated_at: datetime | None
    session_id: int | None
    kind: str | None
    last_completed_at: datetime | None
    progress: dict[str, ResourceProgress] = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)
    failed_batches: int = 0


def sync_status_get(*, shop: Shop, session: SyncSession | None = None) -> SyncStatus:
    """Status of the given session, else the active one, else the most recent one."""
    session = session or sync_session_active(shop=shop) or SyncSession.objects.filter(shop=shop).first()
    last_completed_at = sync_last_completed_at(shop=shop)
    failed_batches = FailedSyncItem.objects.filter(
        shop=shop, entity_type=FailedSyncItem.EntityType.BATCH, resolved_at__isnull=True
    ).count()
    if session is None:
        return SyncStatus(
            status="idle", stage="", message="Never synced.", page=0, updated_at=None, session_id=None,
            kind=None, last_completed_at=last_completed_at, failed_batches=failed_batches,
        )  # fmt: skip
    jobs = list(session.jobs.all())
    failures = [failure | {"resource": job.resource} for job in jobs for failure in job.failures][:100]
    return SyncStatus(
        status=session.status,
        stage=session.stage,
        message=session.message,
        page=sum(job.pages_done for job in jobs),
        updated_at=max([session.updated_at, *(job.updated_at for job in jobs)]),
        session_id=session.pk,
        kind=session.kind,
        last_completed_at=last_completed_at,
        progress={job.resource: ResourceProgress(synced=job.synced, total=job.total) for job in jobs},
        failures=failures,
        failed_batches=failed_batches,
    )
