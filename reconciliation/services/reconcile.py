"""Reconciliation: is our copy of a shop's orders, customers and products exactly Shopify's?

For each resource:
1. Count: Shopify's count endpoint against our non-deleted rows (a cheap headline number).
2. Snapshot: a bulk export selecting only `id updatedAt`, streamed line by line into a temporary
   table (COPY), never held in memory.
3. Compare in SQL against our table: missing (in Shopify, not ours), extra (ours, gone from
   Shopify), stale (ours older). Anything Shopify changed after the snapshot began, minus a grace
   period for webhooks still in flight, is left for the next run.
4. Optionally heal: re-fetch missing and stale records by id (`nodes(ids:)`), parse them with the
   GraphQL parsers and write them through the write path; soft-delete extras.
5. Judge (ok / warning / critical by discrepancy thresholds), store the report (id lists capped,
   totals exact), and feed the status into the shop's alert incident for that resource.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone

from reconciliation import conf
from reconciliation.models import HealthStatus, ReconciliationReport, ResourceName
from reconciliation.services import snapshot as snapshots
from reconciliation.services.alerts import alert_evaluate
from reconciliation.services.comparison import Comparison, Scope, SnapshotTable
from reconciliation.services.healing import HealResult, reconciliation_heal
from shopsync.models import Shop
from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.errors import ShopifyError

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 4000


def reconciliation_run(
    *,
    shop: Shop,
    triggered_by: str,
    heal: bool = False,
    resources: Iterable[str] | None = None,
    client: ShopifyClient | None = None,
) -> list[ReconciliationReport]:
    """Reconcile each resource of the shop (all three by default); one report each."""
    client = client or ShopifyClient(shop)
    return [
        reconciliation_run_resource(
            shop=shop, resource=resource, triggered_by=triggered_by, heal=heal, client=client
        )
        for resource in (resources or ResourceName.values)
    ]


def reconciliation_run_resource(
    *, shop: Shop, resource: str, triggered_by: str, heal: bool, client: ShopifyClient
) -> ReconciliationReport:
    resource = ResourceName(resource)
    report = ReconciliationReport.objects.create(
        shop=shop,
        resource=resource,
        triggered_by=triggered_by,
        started_at=timezone.now(),
        heal_requested=heal,
    )
    try:
        _reconcile(report=report, client=client)
    except (ShopifyError, snapshots.SnapshotError) as exc:
        logger.warning("reconciliation of %s %s failed: %s", shop.domain, resource, exc)
        _fail(report=report, error=exc)
        return report
    alert_evaluate(
        shop=shop,
        kind=f"reconciliation:{resource}",
        status=_alert_status(report),
        summary=reconciliation_summary(report=report),
        details={"report_id": report.pk, "missing": report.missing_count, "extra": report.extra_count,
                 "stale": report.stale_count},
    )  # fmt: skip
    return report


def reconciliation_status(*, discrepancies: int) -> str:
    thresholds = conf.reconciliation_thresholds()
    if discrepancies > thresholds.critical:
        return ReconciliationReport.Status.CRITICAL
    if discrepancies > thresholds.warning:
        return ReconciliationReport.Status.WARNING
    return ReconciliationReport.Status.OK


def reconciliation_summary(*, report: ReconciliationReport) -> str:
    return (
        f"{report.get_resource_display()} reconciliation {report.status}: {report.missing_count} missing, "
        f"{report.extra_count} extra, {report.stale_count} stale (Shopify {report.shopify_count}, "
        f"ours {report.local_count})"
    )


def _reconcile(*, report: ReconciliationReport, client: ShopifyClient) -> None:
    shop, resource = report.shop, report.resource
    scope = Scope.for_shop(shop=shop, resource=resource, now=report.started_at)
    report.shopify_count = client.rest_count(resource, scope.count_params())
    export = snapshots.snapshot_export(client=client, resource=resource)
    report.snapshot_at = export.started_at
    cutoff = export.started_at - timedelta(seconds=conf.reconciliation_grace_seconds())
    with SnapshotTable(report.pk) as table:
        report.shopify_snapshot_count = table.load(export.rows)
        comparison = Comparison(table=table.name, shop=shop, cutoff=cutoff, scope=scope)
        _record_findings(report=report, comparison=comparison)
        report.local_count = comparison.local_count()
        report.status = reconciliation_status(discrepancies=report.discrepancy_count)
        if report.heal_requested and report.discrepancy_count:
            result = reconciliation_heal(
                shop=shop,
                resource=resource,
                client=client,
                refetch_ids=comparison.iter_ids("missing", "stale"),
                extra_ids=comparison.iter_ids("extra"),
            )
            _record_heal(report=report, result=result)
    report.finished_at = timezone.now()
    report.save()


def _record_findings(*, report: ReconciliationReport, comparison: Comparison) -> None:
    cap = conf.reconciliation_id_list_cap()
    report.missing_count, report.missing_ids = (
        comparison.count("missing"),
        comparison.first_ids("missing", cap),
    )
    report.extra_count, report.extra_ids = comparison.count("extra"), comparison.first_ids("extra", cap)
    report.stale_count, report.stale_ids = comparison.count("stale"), comparison.first_ids("stale", cap)


def _record_heal(*, report: ReconciliationReport, result: HealResult) -> None:
    report.healed_at = timezone.now()
    report.heal_result = result.as_dict()


def _fail(*, report: ReconciliationReport, error: BaseException) -> None:
    report.status = ReconciliationReport.Status.FAILED
    report.error = f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
    report.finished_at = timezone.now()
    report.save()


def _alert_status(report: ReconciliationReport) -> str:
    # A healed run still alerts on what it found: records went missing, so something upstream
    # (webhooks, a sync) is losing data, and that is worth one message per incident.
    return {
        ReconciliationReport.Status.OK: HealthStatus.OK,
        ReconciliationReport.Status.WARNING: HealthStatus.WARNING,
        ReconciliationReport.Status.CRITICAL: HealthStatus.CRITICAL,
    }[report.status]
