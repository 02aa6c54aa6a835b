"""Periodic and fan-out tasks of issue #6 (dead-letter retries, health samples, reconciliation,
alert delivery). Thin by design (R4): ids in, one service call, a log line when there is nothing to do."""

from __future__ import annotations

import logging

from celery import shared_task

from reconciliation import conf
from reconciliation.models import AlertIncident, ReconciliationReport
from reconciliation.services.alerts import AlertDeliveryError, alert_incident_notify
from reconciliation.services.health import health_metrics_prune, health_sample
from reconciliation.services.reconcile import reconciliation_report_run, reconciliation_run
from shopsync.models import Shop
from shopsync.services.dead_letter_retries import RETRY_DUE_BATCH_SIZE, dead_letters_retry_due

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def dead_letters_retry_due_task() -> None:
    # Idempotent under redelivery: every item is claimed with a conditional UPDATE before its retry.
    summary = dead_letters_retry_due()
    logger.info("dead letters retried: %s", summary)
    if summary.succeeded + summary.failed + summary.exhausted >= RETRY_DUE_BATCH_SIZE:
        # A backlog: take the next batch now rather than in five minutes (a failed item is
        # rescheduled into the future, so this ends).
        dead_letters_retry_due_task.delay_on_commit()


@shared_task
def health_sample_all_task() -> None:
    for shop_id in Shop.objects.filter(status=Shop.Status.INSTALLED).values_list("pk", flat=True):
        health_sample_task.delay_on_commit(shop_id)
    health_metrics_prune()


@shared_task(soft_time_limit=120, time_limit=180)
def health_sample_task(shop_id: int) -> None:
    shop = Shop.objects.filter(pk=shop_id, status=Shop.Status.INSTALLED).first()
    if shop is None:
        logger.info("health sample skipped: shop %s is gone or uninstalled", shop_id)
        return
    health_sample(shop=shop)


@shared_task
def reconciliation_run_all_task() -> None:
    for shop_id in Shop.objects.filter(status=Shop.Status.INSTALLED).values_list("pk", flat=True):
        reconciliation_run_task.delay_on_commit(shop_id, conf.reconciliation_auto_heal())


# A bulk export of a large store can take a while; the run is bounded well under a day.
@shared_task(soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)
def reconciliation_run_task(shop_id: int, heal: bool = False) -> None:
    shop = Shop.objects.filter(pk=shop_id, status=Shop.Status.INSTALLED).first()
    if shop is None:
        logger.info("reconciliation skipped: shop %s is gone or uninstalled", shop_id)
        return
    reconciliation_run(shop=shop, heal=heal, triggered_by=ReconciliationReport.Trigger.BEAT)


# One resource of a run asked for through the API (the report row exists, queued). No retries: a
# failed run ends its report "failed", and whoever asked runs it again.
@shared_task(soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)
def reconciliation_report_run_task(report_id: int) -> None:
    if reconciliation_report_run(report_id=report_id) is None:
        logger.info("reconciliation report %s skipped: gone or no longer queued", report_id)


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def alert_incident_notify_task(self, incident_id: int) -> None:
    incident = AlertIncident.objects.select_related("shop").filter(pk=incident_id).first()
    if incident is None:
        logger.info("alert notify skipped: incident %s is gone", incident_id)
        return
    try:
        alert_incident_notify(incident=incident)
    except AlertDeliveryError as exc:
        # Only the channels that failed are unclaimed, so a retry sends nothing twice.
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
