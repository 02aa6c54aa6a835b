"""Reconciliation: is our copy of a shop's orders, customers and products exactly Shopify's?

For each resource:
1. Count: Shopify's count endpoint against our non-deleted rows (a cheap headline number).
2. Snapshot: a bulk export selecting only `id updatedAt`, streamed line by line into a temporary
   table (COPY), never held in memory.
3. Compare in SQL against our table: missing (in Shopify, not ours), extra (ours, gone from
   Shopify), stale (ours older). Anything Shopify changed after the snapshot began, minus a grace
   period for webhooks still in flight, is left for the next run. Then a random sample of records
   at the same version on both sides is fetched by id and compared in full (`content_sample.py`):
   Shopify changes some records without moving `updated_at`.
4. Optionally heal: re-fetch missing and stale records by id (`nodes(ids:)`), parse them with the
   GraphQL parsers and write them through the write path; soft-delete extras.
5. Judge (ok / warning / critical by discrepancy thresholds), store the report (id lists capped,
   totals exact), and feed the status into the shop's alert incident for that resource.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from reconciliation import conf
from reconciliation.models import HealthStatus, ReconciliationReport, ResourceName
from reconciliation.services import snapshot as snapshots
from reconciliation.services.alerts import alert_evaluate
from reconciliation.services.comparison import Comparison, Scope, SnapshotTable
from reconciliation.services.content_sample import ContentSampleResult, content_sample_check
from reconciliation.services.healing import HealResult, reconciliation_heal
from shopsync.enqueue import task_enqueue_on_commit
from shopsync.models import Shop
from shopsync.resources import declaration_for
from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.errors import ShopifyAuthError, ShopifyError, ShopifyRetryableError

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
        for resource in (resources or _resources_in_scope(shop))
    ]


def _resources_in_scope(shop: Shop) -> list[str]:
    """Every resource but those whose access scopes the shop did not grant (their sync jobs are skipped
    with a note; comparing them would only fail on Shopify's ACCESS_DENIED)."""
    return [
        name for name in ResourceName.values if not shop.missing_scopes(declaration_for(name).required_scopes)
    ]


def reconciliation_run_resource(
    *, shop: Shop, resource: str, triggered_by: str, heal: bool, client: ShopifyClient
) -> ReconciliationReport:
    report = ReconciliationReport.objects.create(
        shop=shop,
        resource=ResourceName(resource),
        triggered_by=triggered_by,
        started_at=timezone.now(),
        heal_requested=heal,
    )
    return _run_report(report=report, client=client)


def reconciliation_queue(
    *, shop: Shop, triggered_by: str, heal: bool = False, resources: Iterable[str] | None = None
) -> list[ReconciliationReport]:
    """Ask the maintenance worker for a reconciliation: one queued report per resource (all three by
    default), so their ids exist at once; each runs in its own task after this transaction commits."""
    now = timezone.now()
    reports = [
        ReconciliationReport.objects.create(
            shop=shop,
            resource=ResourceName(resource),
            triggered_by=triggered_by,
            status=ReconciliationReport.Status.QUEUED,
            started_at=now,
            heal_requested=heal,
        )
        for resource in (resources or _resources_in_scope(shop))
    ]
    for report in reports:
        task_enqueue_on_commit("reconciliation.tasks.reconciliation_report_run_task", report.pk)
    return reports


def reconciliation_report_run(
    *, report_id: int, client: ShopifyClient | None = None
) -> ReconciliationReport | None:
    """Run a queued report; None when it is gone or no longer queued (it ran, or another worker has
    it: the claim is a conditional update, so a redelivered task does nothing)."""
    claimed = ReconciliationReport.objects.filter(
        pk=report_id, status=ReconciliationReport.Status.QUEUED
    ).update(status=ReconciliationReport.Status.RUNNING, started_at=timezone.now())
    if claimed != 1:
        return None
    report = ReconciliationReport.objects.select_related("shop").get(pk=report_id)
    return _run_report(report=report, client=client or ShopifyClient(report.shop))


def _run_report(*, report: ReconciliationReport, client: ShopifyClient) -> ReconciliationReport:
    shop, resource = report.shop, report.resource
    try:
        _reconcile(report=report, client=client)
    except (ShopifyError, snapshots.SnapshotError) as exc:
        logger.warning("reconciliation of %s %s failed: %s", shop.domain, resource, exc)
        _fail(report=report, error=exc)
        return report
    except Exception as exc:
        # A bug, or the worker's time limit: the report must not stay "running" for ever.
        _fail(report=report, error=exc)
        raise
    alert_evaluate(
        shop=shop,
        kind=f"reconciliation:{resource}",
        status=_alert_status(report),
        summary=reconciliation_summary(report=report),
        details={"report_id": report.pk, "missing": report.missing_count, "extra": report.extra_count,
                 "stale": report.stale_count, "content_mismatch": report.content_mismatch_count},
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
        f"{report.extra_count} extra, {report.stale_count} stale, {report.content_mismatch_count} of "
        f"{report.content_checked_count} sampled differing in content (Shopify {report.shopify_count}, "
        f"ours {report.local_count})"
    )


def _reconcile(*, report: ReconciliationReport, client: ShopifyClient) -> None:
    shop, resource = report.shop, report.resource
    scope = Scope.for_shop(shop=shop, resource=resource, now=report.started_at)
    report.shopify_count = sum(
        client.rest_count(path, scope.count_params()) for path in declaration_for(resource).count_paths
    )
    export = snapshots.snapshot_export(client=client, resource=resource)
    report.snapshot_at = export.started_at
    cutoff = export.started_at - timedelta(seconds=conf.reconciliation_grace_seconds())
    with SnapshotTable(report.pk) as table:
        report.shopify_snapshot_count = table.load(export.rows)
        comparison = Comparison(table=table.name, shop=shop, cutoff=cutoff, scope=scope)
        _record_findings(report=report, comparison=comparison)
        sample = content_sample_check(
            shop=shop, resource=resource, client=client, heal=report.heal_requested,
            shopify_ids=comparison.sample_ids(conf.reconciliation_content_sample_size()),
        )  # fmt: skip
        _record_content_sample(report=report, sample=sample)
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
            result.content_rewritten = sample.rewritten
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


def _record_content_sample(*, report: ReconciliationReport, sample: ContentSampleResult) -> None:
    report.content_checked_count = sample.checked
    report.content_mismatch_count = len(sample.differing)
    report.content_mismatch_ids = sample.differing[: conf.reconciliation_id_list_cap()]


def _record_heal(*, report: ReconciliationReport, result: HealResult) -> None:
    report.healed_at = timezone.now()
    report.heal_result = result.as_dict()


def _fail(*, report: ReconciliationReport, error: BaseException) -> None:
    report.status = ReconciliationReport.Status.FAILED
    report.error = reconciliation_failure_text(error=error)[:MAX_ERROR_CHARS]
    report.finished_at = timezone.now()
    report.save()


def reconciliation_failure_text(*, error: BaseException) -> str:
    """What the report page says when a run failed: the cause in words, then the detail."""
    if isinstance(error, ShopifyAuthError):
        lead = "Shopify refused the shop's access token; the app may need to be installed again."
    elif isinstance(error, ShopifyRetryableError):
        lead = "Shopify could not be reached (or kept failing) after several tries; try again later."
    elif isinstance(error, ShopifyError):
        lead = "Shopify rejected the request."
    elif isinstance(error, snapshots.SnapshotError):
        lead = "Shopify's export of the ids did not complete."
    elif isinstance(error, SoftTimeLimitExceeded):
        lead = "The run took longer than its time limit and was stopped."
    else:
        lead = "The run stopped on an unexpected error."
    return f"{lead} Detail: {error}" if str(error) else lead


def _alert_status(report: ReconciliationReport) -> str:
    # A healed run still alerts on what it found: records went missing, so something upstream
    # (webhooks, a sync) is losing data, and that is worth one message per incident.
    return {
        ReconciliationReport.Status.OK: HealthStatus.OK,
        ReconciliationReport.Status.WARNING: HealthStatus.WARNING,
        ReconciliationReport.Status.CRITICAL: HealthStatus.CRITICAL,
    }[report.status]
