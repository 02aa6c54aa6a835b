"""Sync health: a sample of each measure per shop every 5 minutes, judged against its thresholds.

- order lag: Shopify's order count minus ours (not deleted), judged by its size either way (ours
  holding orders Shopify deleted is as wrong as missing some);
- error rate: failed share (%) of what sync jobs and webhook deliveries handled in the window;
- webhook latency: received -> processed over the window, p95 judged, average kept; a delivery still
  waiting counts with its age so far, so a stuck queue shows up instead of hiding;
- dead letters: open items (exhausted included).

A critical sample opens an alert incident; an ok one resolves it (see `alerts`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone

from reconciliation import conf
from reconciliation.models import HealthStatus, SyncHealthMetric
from reconciliation.services.alerts import alert_evaluate
from shopsync.models import Order, Shop, SyncJob
from shopsync.services.dead_letters import dead_letter_counts
from shopsync.shopify.errors import ShopifyError
from webhooks.models import WebhookLog

logger = logging.getLogger(__name__)

# Without read_all_orders Shopify shows only the last 60 days of orders: compare like with like.
ORDER_VISIBILITY_WINDOW = timedelta(days=60)
PRUNE_BATCH_SIZE = 5000

Kind = SyncHealthMetric.Kind


@dataclass(frozen=True, slots=True)
class Measurement:
    kind: str
    value: float | None
    details: dict[str, Any] = field(default_factory=dict)


def health_status(*, kind: str, value: float | None) -> str:
    if value is None:
        return HealthStatus.UNKNOWN
    thresholds = conf.health_thresholds(kind)
    size = abs(value)
    if size > thresholds.critical:
        return HealthStatus.CRITICAL
    if size > thresholds.warning:
        return HealthStatus.WARNING
    return HealthStatus.OK


def health_sample(*, shop: Shop, now: datetime | None = None) -> list[SyncHealthMetric]:
    """Measure, store one row per measure, and feed each status into its alert incident."""
    now = now or timezone.now()
    since = now - timedelta(minutes=conf.health_window_minutes())
    measurements = [
        measure_order_lag(shop=shop, now=now),
        measure_error_rate(shop=shop, since=since),
        measure_webhook_latency(shop=shop, since=since, now=now),
        measure_dead_letters(shop=shop),
    ]
    metrics = SyncHealthMetric.objects.bulk_create(
        [_metric(shop=shop, measurement=measurement, now=now) for measurement in measurements]
    )
    for metric in metrics:
        alert_evaluate(
            shop=shop,
            kind=f"metric:{metric.kind}",
            status=metric.status,
            summary=health_summary(metric=metric),
            details={"value": metric.value, "metric_id": metric.pk, **metric.details},
            now=now,
        )
    return metrics


def health_summary(*, metric: SyncHealthMetric) -> str:
    label = SyncHealthMetric.Kind(metric.kind).label
    value = "unknown" if metric.value is None else f"{metric.value:g}"
    return (
        f"{label}: {value} ({metric.status}; warning > {metric.warning_threshold:g}, "
        f"critical > {metric.critical_threshold:g})"
    )


def measure_order_lag(*, shop: Shop, now: datetime) -> Measurement:
    # Imported here: the client module pulls in the HTTP stack, which the rest of health never needs.
    from shopsync.shopify.client import ShopifyClient

    created_after = None if shop.has_all_orders_scope else now - ORDER_VISIBILITY_WINDOW
    params: dict[str, Any] = {"status": "any"}
    if created_after is not None:
        params["created_at_min"] = created_after.isoformat()
    try:
        shopify_count = ShopifyClient(shop).rest_count("orders", params)
    except ShopifyError as exc:
        logger.info("order lag unknown for %s: %s", shop.domain, exc)
        return Measurement(Kind.ORDER_LAG, None, {"error": str(exc)[:500]})
    ours = Order.objects.filter(shop=shop, deleted_at__isnull=True)
    if created_after is not None:
        ours = ours.filter(shopify_created_at__gte=created_after)
    local_count = ours.count()
    return Measurement(
        Kind.ORDER_LAG, float(shopify_count - local_count), {"shopify": shopify_count, "local": local_count}
    )


def measure_error_rate(*, shop: Shop, since: datetime) -> Measurement:
    # `synced` counts every record a job fetched, the failed ones included.
    jobs = SyncJob.objects.filter(shop=shop, updated_at__gte=since).aggregate(
        handled=Sum("synced", default=0), failed=Sum("failed", default=0)
    )
    deliveries = WebhookLog.objects.filter(shop=shop, received_at__gte=since).aggregate(
        handled=Count("pk"), failed=Count("pk", filter=Q(status=WebhookLog.Status.DEAD))
    )
    handled = jobs["handled"] + deliveries["handled"]
    failed = jobs["failed"] + deliveries["failed"]
    details = {"handled": handled, "failed": failed, "min_sample": conf.health_error_rate_min_sample()}
    if handled < conf.health_error_rate_min_sample():
        # Too little traffic to judge: report the rate, but as 0 for the status (one failure of two
        # deliveries is not a 50% outage).
        details["observed_rate"] = round(100.0 * failed / handled, 2) if handled else 0.0
        return Measurement(Kind.ERROR_RATE, 0.0, details)
    return Measurement(Kind.ERROR_RATE, round(100.0 * failed / handled, 2), details)


def measure_webhook_latency(*, shop: Shop, since: datetime, now: datetime) -> Measurement:
    latencies = _webhook_latency_stats(shop=shop, since=since, now=now)
    if latencies["count"] == 0:
        return Measurement(Kind.WEBHOOK_LATENCY, 0.0, {"count": 0, "avg": 0.0, "p95": 0.0})
    return Measurement(Kind.WEBHOOK_LATENCY, latencies["p95"], latencies)


def measure_dead_letters(*, shop: Shop) -> Measurement:
    counts = dead_letter_counts(shop=shop)
    return Measurement(
        Kind.DEAD_LETTERS, float(counts.open), {"open": counts.open, "exhausted": counts.exhausted}
    )


def health_metrics_prune(*, now: datetime | None = None) -> int:
    """Drop samples past retention, a batch at a time (R11); the next beat run takes the rest."""
    cutoff = (now or timezone.now()) - timedelta(days=conf.health_retention_days())
    ids = list(
        SyncHealthMetric.objects.filter(measured_at__lt=cutoff).values_list("pk", flat=True)[
            :PRUNE_BATCH_SIZE
        ]
    )
    if not ids:
        return 0
    deleted, _ = SyncHealthMetric.objects.filter(pk__in=ids).delete()
    return deleted


def _metric(*, shop: Shop, measurement: Measurement, now: datetime) -> SyncHealthMetric:
    thresholds = conf.health_thresholds(measurement.kind)
    return SyncHealthMetric(
        shop=shop,
        kind=measurement.kind,
        value=measurement.value,
        warning_threshold=thresholds.warning,
        critical_threshold=thresholds.critical,
        status=health_status(kind=measurement.kind, value=measurement.value),
        details=measurement.details,
        measured_at=now,
    )


_LATENCY_SQL = """
    SELECT count(*),
           avg(latency),
           percentile_cont(0.95) WITHIN GROUP (ORDER BY latency)
      FROM (SELECT extract(epoch FROM coalesce(processed_at, %(now)s) - received_at) AS latency
              FROM webhooks_webhooklog
             WHERE shop_id = %(shop_id)s AND received_at >= %(since)s AND status <> %(dead)s) AS deliveries
"""


def _webhook_latency_stats(*, shop: Shop, since: datetime, now: datetime) -> dict[str, float]:
    """Count, average and p95 in seconds, computed by PostgreSQL (one row back, however busy the hour)."""
    if connection.vendor != "postgresql":
        return _webhook_latency_stats_in_python(shop=shop, since=since, now=now)
    params = {"now": now, "shop_id": shop.pk, "since": since, "dead": WebhookLog.Status.DEAD}
    with connection.cursor() as cursor:
        cursor.execute(_LATENCY_SQL, params)
        count, average, p95 = cursor.fetchone()
    if not count:
        return {"count": 0, "avg": 0.0, "p95": 0.0}
    return {"count": count, "avg": round(float(average), 3), "p95": round(float(p95), 3)}


def _webhook_latency_stats_in_python(*, shop: Shop, since: datetime, now: datetime) -> dict[str, float]:
    rows = (
        WebhookLog.objects.filter(shop=shop, received_at__gte=since)
        .exclude(status=WebhookLog.Status.DEAD)
        .values_list("received_at", "processed_at")
    )
    latencies = sorted(((processed or now) - received).total_seconds() for received, processed in rows)
    if not latencies:
        return {"count": 0, "avg": 0.0, "p95": 0.0}
    # Linear interpolation between closest ranks, as PostgreSQL's percentile_cont does.
    rank = 0.95 * (len(latencies) - 1)
    low, high = int(rank), min(int(rank) + 1, len(latencies) - 1)
    p95 = latencies[low] + (latencies[high] - latencies[low]) * (rank - low)
    return {"count": len(latencies), "avg": round(sum(latencies) / len(latencies), 3), "p95": round(p95, 3)}
