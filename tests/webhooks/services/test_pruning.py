"""Retention deletes finished deliveries past the period, and nothing that is still owed work."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.webhooks.factories import WebhookLogFactory
from webhooks.models import PrivacyRequest, WebhookLog
from webhooks.services.pruning import webhook_logs_prune
from webhooks.tasks import webhook_logs_prune_task


def _log(shop, status, *, age_days: float):
    log = WebhookLogFactory(shop=shop, status=status)
    WebhookLog.objects.filter(pk=log.pk).update(received_at=timezone.now() - timedelta(days=age_days))
    return log.pk


def test_prune_deletes_only_finished_deliveries_older_than_retention(shop, settings):
    # given
    settings.WEBHOOK_LOG_RETENTION_DAYS = 30
    old_processed = _log(shop, WebhookLog.Status.PROCESSED, age_days=31)
    old_ignored = _log(shop, WebhookLog.Status.IGNORED, age_days=45)
    kept = {
        _log(shop, WebhookLog.Status.PROCESSED, age_days=29),
        _log(shop, WebhookLog.Status.IGNORED, age_days=1),
        *(
            _log(shop, status, age_days=90)
            for status in (
                WebhookLog.Status.RECEIVED,
                WebhookLog.Status.PROCESSING,
                WebhookLog.Status.FAILED,
                WebhookLog.Status.DEAD,
            )
        ),
    }
    # when
    deleted = webhook_logs_prune()
    # then
    assert deleted == 2
    assert set(WebhookLog.objects.values_list("pk", flat=True)) == kept
    assert not WebhookLog.objects.filter(pk__in=[old_processed, old_ignored]).exists()


def test_prune_works_through_a_backlog_in_batches(shop, settings):
    # given
    settings.WEBHOOK_LOG_RETENTION_DAYS = 7
    for _ in range(7):
        _log(shop, WebhookLog.Status.PROCESSED, age_days=10)
    # when
    with CaptureQueriesContext(connection) as queries:
        deleted = webhook_logs_prune(batch_size=3)
    # then
    deletes = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("DELETE")]
    assert deleted == 7
    assert len(deletes) == 3
    assert WebhookLog.objects.count() == 0


def test_prune_starts_no_batch_past_its_time_budget_and_the_next_run_goes_on(shop, settings):
    # given
    settings.WEBHOOK_LOG_RETENTION_DAYS = 7
    for _ in range(5):
        _log(shop, WebhookLog.Status.PROCESSED, age_days=10)
    # when: a run whose budget is already spent starts no batch
    first = webhook_logs_prune(batch_size=2, time_budget_seconds=0.0)
    second = webhook_logs_prune(batch_size=2)
    # then
    assert (first, second) == (0, 5)


def test_prune_keeps_the_privacy_request_of_a_deleted_delivery(shop, settings):
    # given
    settings.WEBHOOK_LOG_RETENTION_DAYS = 30
    log_id = _log(shop, WebhookLog.Status.PROCESSED, age_days=40)
    request = PrivacyRequest.objects.create(
        shop=shop,
        webhook_log_id=log_id,
        topic=PrivacyRequest.Topic.CUSTOMERS_REDACT,
        customer_shopify_id=5,
        payload={"customer": {"id": 5}},
    )
    # when
    deleted = webhook_logs_prune()
    # then
    request.refresh_from_db()
    assert deleted == 1
    assert request.webhook_log_id is None


def test_retention_zero_keeps_everything(shop, settings):
    # given
    settings.WEBHOOK_LOG_RETENTION_DAYS = 0
    _log(shop, WebhookLog.Status.PROCESSED, age_days=3650)
    # when
    deleted = webhook_logs_prune()
    # then
    assert deleted == 0
    assert WebhookLog.objects.count() == 1


def test_the_prune_task_runs_hourly_on_the_maintenance_queue(shop, settings):
    # given
    settings.WEBHOOK_LOG_RETENTION_DAYS = 30
    _log(shop, WebhookLog.Status.PROCESSED, age_days=31)
    entry = next(
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == webhook_logs_prune_task.name
    )
    # when
    webhook_logs_prune_task.apply().get()
    # then
    assert (entry["schedule"], entry["options"]["queue"]) == (3600.0, "maintenance")
    assert WebhookLog.objects.count() == 0


def test_the_prune_task_is_routed_to_the_maintenance_queue_when_sent_directly():
    # given
    from config.celery import app

    # when
    route = app.amqp.router.route({}, webhook_logs_prune_task.name)
    # then
    assert route["queue"].name == "maintenance"
