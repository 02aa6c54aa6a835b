"""Reads for reconciliation reports, health samples, incidents, and the Prometheus collector."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Model, OuterRef, QuerySet, Subquery, Sum

from reconciliation.models import AlertIncident, ReconciliationReport, ResourceName, SyncHealthMetric
from shopsync.models import Shop, SyncJob
from webhooks.models import WebhookLog

STATUS_RANK = {"ok": 0, "unknown": 1, "warning": 2, "critical": 3}


@dataclass(frozen=True, slots=True)
class ShopHealth:
    shop: Shop
    status: str  # the worst of its latest metrics ("unknown" when never sampled)
    metrics: list[SyncHealthMetric]
    open_incidents: list[AlertIncident]


def shops_visible_to(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Shop]:
    """Superusers see every shop; anyone else (staff too) only the shops they are a member of."""
    if not user.is_authenticated:
        return Shop.objects.none()
    return Shop.objects.all() if user.is_superuser else Shop.objects.filter(members=user)


def reconciliation_reports_latest(
    *, shop: Shop | None = None, shops: QuerySet[Shop] | None = None
) -> list[ReconciliationReport]:
    """The newest report of each (shop, resource): of `shop`, else of `shops`, else of every shop."""
    if shop is not None:
        shops = Shop.objects.filter(pk=shop.pk)
    elif shops is None:
        shops = Shop.objects.all()
    latest = _newest_per_shop_and(
        ReconciliationReport.objects.all(),
        shops=shops,
        field="resource",
        values=ResourceName.values,
        newest_first=("-started_at", "-pk"),
    )
    return sorted(latest.select_related("shop"), key=lambda report: (report.shop.domain, report.resource))


def reconciliation_reports_recent(*, shop: Shop, limit: int = 6) -> list[ReconciliationReport]:
    """The shop's newest reports, newest first (the settings page)."""
    return list(ReconciliationReport.objects.filter(shop=shop).order_by("-started_at", "-pk")[:limit])


def reconciliation_report_get_for_user(
    *, user: AbstractBaseUser | AnonymousUser, report_id: int
) -> ReconciliationReport | None:
    """One report, if it belongs to a shop the user may see."""
    return (
        ReconciliationReport.objects.select_related("shop")
        .filter(pk=report_id, shop__in=shops_visible_to(user=user))
        .first()
    )


def health_shops_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Shop]:
    """The installed shops the user may see (superusers: every one; staff flags grant nothing)."""
    return shops_visible_to(user=user).filter(status=Shop.Status.INSTALLED)


def health_metrics_latest(*, shops: QuerySet[Shop] | list[Shop]) -> dict[int, list[SyncHealthMetric]]:
    """The newest sample of each kind, per shop, each shop's in kind order."""
    shop_ids = [shop.pk for shop in shops]
    latest = _health_metrics_newest(shops=Shop.objects.filter(pk__in=shop_ids)).order_by("shop_id", "kind")
    by_shop: dict[int, list[SyncHealthMetric]] = {}
    for metric in latest:
        by_shop.setdefault(metric.shop_id, []).append(metric)
    return by_shop


def health_overview(*, shops: QuerySet[Shop]) -> list[ShopHealth]:
    shop_list = list(shops.order_by("domain"))
    metrics = health_metrics_latest(shops=shop_list)
    incidents: dict[int, list[AlertIncident]] = {}
    for incident in AlertIncident.objects.filter(shop__in=shop_list, resolved_at__isnull=True).order_by(
        "opened_at"
    ):
        incidents.setdefault(incident.shop_id, []).append(incident)
    return [
        ShopHealth(
            shop=shop,
            status=_worst(metric.status for metric in metrics.get(shop.pk, [])),
            metrics=metrics.get(shop.pk, []),
            open_incidents=incidents.get(shop.pk, []),
        )
        for shop in shop_list
    ]


def _worst(statuses: object) -> str:
    ranked = sorted(statuses, key=STATUS_RANK.__getitem__)  # type: ignore[call-overload]
    return ranked[-1] if ranked else "unknown"


# --- for /metrics --------------------------------------------------------------------------------


def sync_record_totals() -> list[dict]:
    """Per shop and resource: records fetched and failed over every sync job (monotonic counters)."""
    return list(
        SyncJob.objects.values("shop__domain", "resource")
        .annotate(synced=Sum("synced"), failed=Sum("failed"))
        .order_by("shop__domain", "resource")
    )


def sync_job_counts() -> list[dict]:
    return list(
        SyncJob.objects.values("shop__domain", "resource", "status")
        .annotate(jobs=Count("pk"))
        .order_by("shop__domain", "resource", "status")
    )


def webhook_delivery_counts() -> list[dict]:
    return list(
        WebhookLog.objects.values("shop__domain", "status")
        .annotate(deliveries=Count("pk"))
        .order_by("shop__domain")
    )


def health_metrics_latest_all() -> list[SyncHealthMetric]:
    return list(
        _health_metrics_newest(shops=Shop.objects.all()).select_related("shop").order_by("shop_id", "kind")
    )


def _health_metrics_newest(*, shops: QuerySet[Shop]) -> QuerySet[SyncHealthMetric]:
    return _newest_per_shop_and(
        SyncHealthMetric.objects.all(),
        shops=shops,
        field="kind",
        values=SyncHealthMetric.Kind.values,
        newest_first=("-measured_at", "-pk"),
    )


def _newest_per_shop_and[Row: Model](
    rows: QuerySet[Row],
    *,
    shops: QuerySet[Shop],
    field: str,
    values: Iterable[str],
    newest_first: tuple[str, ...],
) -> QuerySet[Row]:
    """The newest of `rows` for each shop of `shops` and each of `field`'s `values` (the declared
    choices: no other value is ever written). One query reads the pks, one LIMIT 1 probe per (shop,
    value) on the model's `(shop, field, -time)` index, however many samples a shop has piled up;
    then the rows by pk. Plain SQL on PostgreSQL and SQLite alike (DISTINCT ON is PostgreSQL's only)."""
    probes = {
        f"newest_{index}": Subquery(
            rows.filter(shop=OuterRef("pk"), **{field: value}).order_by(*newest_first).values("pk")[:1]
        )
        for index, value in enumerate(values)
    }
    newest = shops.order_by().annotate(**probes).values_list(*probes)
    return rows.filter(pk__in=[pk for shop_row in newest for pk in shop_row if pk is not None])


def incidents_open_counts() -> list[dict]:
    return list(
        AlertIncident.objects.filter(resolved_at__isnull=True)
        .values("shop__domain", "kind")
        .annotate(incidents=Count("pk"))
        .order_by("shop__domain")
    )
