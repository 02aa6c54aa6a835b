"""Webhook and batch dead letters are retried through their owners: the webhooks app re-runs the
stored delivery, the sync engine re-writes the failed batch."""

from __future__ import annotations

import json

from django.utils import timezone

from shopsync.models import FailedSyncItem, Order
from shopsync.payloads import parse_order_rest
from shopsync.services.dead_letter_retries import RetryOutcome, dead_letter_retry
from shopsync.services.dead_letters import dead_letter_record
from shopsync.services.sync.record_codec import record_to_json
from webhooks.models import WebhookLog

ORDER_ID = 820982911946154508  # the id of the conftest payloads


def _dead_delivery(shop, body: bytes) -> WebhookLog:
    return WebhookLog.objects.create(
        shop=shop, topic="orders/updated", webhook_id="wh-1", shopify_id=ORDER_ID, body=body,
        received_at=timezone.now(), status=WebhookLog.Status.DEAD, attempts=6,
    )  # fmt: skip


def _webhook_item(shop, log: WebhookLog) -> FailedSyncItem:
    return dead_letter_record(
        shop=shop, entity_type=FailedSyncItem.EntityType.WEBHOOK, source=FailedSyncItem.Source.WEBHOOK,
        source_ref=str(log.pk), shopify_id=ORDER_ID, payload={"topic": log.topic}, error="boom",
    )  # fmt: skip


def test_webhook_dead_letter_is_retried_by_reprocessing_its_delivery(shop, rest_order):
    # given
    log = _dead_delivery(shop, json.dumps(rest_order).encode())
    item = _webhook_item(shop, log)
    # when
    outcome = dead_letter_retry(item=item)
    # then
    item.refresh_from_db()
    log.refresh_from_db()
    assert outcome == RetryOutcome.SUCCEEDED
    assert item.resolution == FailedSyncItem.Resolution.SUCCESS
    assert log.status == WebhookLog.Status.PROCESSED
    assert Order.objects.get(shop=shop, shopify_id=ORDER_ID).name == "#1001"


def test_webhook_dead_letter_that_fails_again_counts_a_retry(shop):
    # given
    log = _dead_delivery(shop, b"[1, 2, 3]")
    item = _webhook_item(shop, log)
    # when
    outcome = dead_letter_retry(item=item)
    # then
    item.refresh_from_db()
    assert outcome == RetryOutcome.FAILED
    assert item.retry_count == 1
    assert item.resolved_at is None
    assert not Order.objects.filter(shop=shop, shopify_id=ORDER_ID).exists()


def test_webhook_dead_letter_whose_delivery_is_gone_fails_the_retry(shop):
    # given
    item = FailedSyncItem.objects.create(shop=shop, entity_type="webhook", source_ref="999999",
                                         error_message="boom", next_retry_at=timezone.now())  # fmt: skip
    # when
    outcome = dead_letter_retry(item=item)
    # then
    item.refresh_from_db()
    assert outcome == RetryOutcome.FAILED
    assert "no longer exists" in item.error_message


def test_batch_dead_letter_is_rewritten_by_the_sync_engine_and_counted_once(
    shop, rest_order, failing_order_writes
):
    # given: a failed write batch holding one order, whose writes still fail
    item = dead_letter_record(
        shop=shop, entity_type=FailedSyncItem.EntityType.BATCH, error="deadlock",
        payload={"resource": "orders", "mode": "latest_wins", "format": "records",
                 "records": [record_to_json(parse_order_rest(rest_order))]},
    )  # fmt: skip
    # when: one retry while the writes fail, one after they are fixed
    failed = dead_letter_retry(item=item)
    item.refresh_from_db()
    failed_count = item.retry_count
    failing_order_writes()
    succeeded = dead_letter_retry(item=item)
    # then
    item.refresh_from_db()
    assert (failed, succeeded) == (RetryOutcome.FAILED, RetryOutcome.SUCCEEDED)
    assert failed_count == 1
    assert item.resolution == FailedSyncItem.Resolution.SUCCESS
    assert Order.objects.filter(shop=shop, shopify_id=ORDER_ID).exists()
