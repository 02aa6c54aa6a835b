"""The Prometheus exposition: a custom collector that reads the database at scrape time (so every
web worker reports the same numbers, with no per-process counters to merge)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from reconciliation import selectors
from reconciliation.models import SyncHealthMetric
from shopsync.models import Shop
from shopsync.services.dead_letters import dead_letter_counts_by_shop

STATUS_VALUES = {"ok": 0, "warning": 1, "critical": 2, "unknown": -1}


class ShopsyncCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from self._sync_records()
        yield self._sync_jobs()
        yield self._webhook_deliveries()
        yield from self._health()
        yield self._dead_letters()
        yield from self._reconciliation()
        yield self._incidents()

    def _sync_records(self) -> Iterator[Metric]:
        synced = CounterMetricFamily(
            "shopsync_records_synced",
            "Records fetched from Shopify by sync jobs.",
            labels=["shop", "resource"],
        )
        failed = CounterMetricFamily(
            "shopsync_records_failed", "Records sync jobs could not write.", labels=["shop", "resource"]
        )
        for row in selectors.sync_record_totals():
            labels = [row["shop__domain"], row["resource"]]
            synced.add_metric(labels, row["synced"] or 0)
            failed.add_metric(labels, row["failed"] or 0)
        yield synced
        yield failed

    def _sync_jobs(self) -> Metric:
        family = GaugeMetricFamily(
            "shopsync_sync_jobs", "Sync jobs by status.", labels=["shop", "resource", "status"]
        )
        for row in selectors.sync_job_counts():
            family.add_metric([row["shop__domain"], row["resource"], row["status"]], row["jobs"])
        return family

    def _webhook_deliveries(self) -> Metric:
        family = GaugeMetricFamily(
            "shopsync_webhook_deliveries", "Stored webhook deliveries by status.", labels=["shop", "status"]
        )
        for row in selectors.webhook_delivery_counts():
            family.add_metric([row["shop__domain"], row["status"]], row["deliveries"])
        return family

    def _health(self) -> Iterator[Metric]:
        values = GaugeMetricFamily("shopsync_health_value", "Latest health sample.", labels=["shop", "kind"])
        statuses = GaugeMetricFamily(
            "shopsync_health_status", "Latest health status: 0 ok, 1 warning, 2 critical, -1 unknown.",
            labels=["shop", "kind"],
        )  # fmt: skip
        latency = GaugeMetricFamily(
            "shopsync_webhook_latency_seconds", "Webhook received-to-processed latency over the last hour.",
            labels=["shop", "stat"],
        )  # fmt: skip
        for metric in selectors.health_metrics_latest_all():
            labels = [metric.shop.domain, metric.kind]
            statuses.add_metric(labels, STATUS_VALUES[metric.status])
            if metric.value is not None:
                values.add_metric(labels, metric.value)
            if metric.kind == SyncHealthMetric.Kind.WEBHOOK_LATENCY:
                for stat in ("avg", "p95"):
                    latency.add_metric([metric.shop.domain, stat], float(metric.details.get(stat, 0.0)))
        yield values
        yield statuses
        yield latency

    def _dead_letters(self) -> Metric:
        family = GaugeMetricFamily("shopsync_dead_letters", "Open dead letters.", labels=["shop", "state"])
        counts = dead_letter_counts_by_shop()
        domains = dict(Shop.objects.filter(pk__in=counts).values_list("pk", "domain"))
        for shop_id, shop_counts in counts.items():
            family.add_metric([domains[shop_id], "open"], shop_counts.open)
            family.add_metric([domains[shop_id], "exhausted"], shop_counts.exhausted)
        return family

    def _reconciliation(self) -> Iterator[Metric]:
        found = GaugeMetricFamily(
            "shopsync_reconciliation_discrepancies", "Differences the latest reconciliation found.",
            labels=["shop", "resource", "kind"],
        )  # fmt: skip
        finished = GaugeMetricFamily(
            "shopsync_reconciliation_finished_timestamp_seconds", "When the latest reconciliation finished.",
            labels=["shop", "resource"],
        )  # fmt: skip
        for report in selectors.reconciliation_reports_latest():
            for kind in ("missing", "extra", "stale"):
                found.add_metric(
                    [report.shop.domain, report.resource, kind], getattr(report, f"{kind}_count")
                )
            if report.finished_at is not None:
                finished.add_metric([report.shop.domain, report.resource], report.finished_at.timestamp())
        yield found
        yield finished

    def _incidents(self) -> Metric:
        family = GaugeMetricFamily(
            "shopsync_alert_incidents_open", "Open alert incidents.", labels=["shop", "kind"]
        )
        for row in selectors.incidents_open_counts():
            family.add_metric([row["shop__domain"], row["kind"]], row["incidents"])
        return family


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(ShopsyncCollector())


def metrics_exposition() -> bytes:
    return generate_latest(REGISTRY)
