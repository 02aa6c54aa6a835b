"""The processing task's retry policy, called directly (apply() runs retries inline)."""

from __future__ import annotations

import orjson
from django.db import OperationalError

from shopsync.models import FailedSyncItem, Order
from tests.webhooks.factories import WebhookLogFactory, order_payload
from webhooks.models import WebhookLog
from webhooks.services import processing
from webhooks.services.processing import MAX_ATTEMPTS
from webhooks.tasks import webhook_log_process_task, webhook_logs_process_task, webhook_logs_sweep_task


def _flaky_handler(failures: int):
    real = processing.HANDLERS["orders/updated"]
    calls = {"n": 0}

    def handle(delivery):
        calls["n"] += 1
        if calls["n"] <= failures:
            raise OperationalError("server closed the connection unexpectedly")
        real(delivery)

    return handle, calls


def test_a_transient_failure_is_retried_silently_until_it_succeeds(shop, monkeypatch):
    # given
    handler, calls = _flaky_handler(failures=2)
    monkeypatch.setitem(processing.HANDLERS, "orders/updated", handler)
    log = WebhookLogFactory(shop=shop, topic="orders/updated", body=orjson.dumps(order_payload(1001)))
    # when
    webhook_log_process_task.apply(args=(log.id,))
    # then
    log.refresh_from_db()
    assert (log.status, log.attempts, calls["n"]) == (WebhookLog.Status.PROCESSED, 3, 3)
    assert Order.objects.filter(shop=shop, shopify_id=1001).exists()
    assert FailedSyncItem.objects.count() == 0


def test_retries_are_bounded_and_end_in_a_dead_letter(shop, monkeypatch):
    # given
    handler, calls = _flaky_handler(failures=100)
    monkeypatch.setitem(processing.HANDLERS, "orders/updated", handler)
    log = WebhookLogFactory(shop=shop, topic="orders/updated", body=orjson.dumps(order_payload(1001)))
    # when
    webhook_log_process_task.apply(args=(log.id,))
    # then
    log.refresh_from_db()
    assert (log.status, log.attempts, calls["n"]) == (WebhookLog.Status.DEAD, MAX_ATTEMPTS, MAX_ATTEMPTS)
    item = FailedSyncItem.objects.get()
    assert (item.source_ref, item.shopify_id) == (str(log.id), log.shopify_id)


def test_the_task_ignores_a_delivery_already_processed(shop):
    # given
    log = WebhookLogFactory(shop=shop, status=WebhookLog.Status.PROCESSED, attempts=1)
    # when
    webhook_log_process_task.apply(args=(log.id,))
    # then
    log.refresh_from_db()
    assert (log.status, log.attempts) == (WebhookLog.Status.PROCESSED, 1)


def test_the_task_policy_is_explicit():
    # then: R7, bounded retries with backoff, only for transient errors
    assert webhook_log_process_task.max_retries == 5
    assert webhook_log_process_task.retry_backoff is True
    assert webhook_log_process_task.acks_late is True
    assert webhook_log_process_task.name == "webhooks.tasks.webhook_log_process_task"
    assert webhook_logs_sweep_task.name == "webhooks.tasks.webhook_logs_sweep_task"


def test_the_batch_task_processes_every_id_it_carries(shop):
    # given
    logs = [
        WebhookLogFactory(shop=shop, topic="orders/updated", body=orjson.dumps(order_payload(1100 + n)))
        for n in range(3)
    ]
    # when
    webhook_logs_process_task.apply(args=([log.id for log in logs],))
    # then
    assert set(WebhookLog.objects.values_list("status", flat=True)) == {WebhookLog.Status.PROCESSED}
    assert Order.objects.filter(shop=shop).count() == 3


def test_the_batch_task_is_acked_late_and_routed_to_the_webhooks_queue():
    # then
    from config.celery import app

    assert webhook_logs_process_task.acks_late is True
    assert webhook_logs_process_task.name == "webhooks.tasks.webhook_logs_process_task"
    assert app.amqp.router.route({}, webhook_logs_process_task.name)["queue"].name == "webhooks"
