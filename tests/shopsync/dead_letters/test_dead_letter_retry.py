from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from shopsync.models import FailedSyncItem, Order
from shopsync.services.dead_letter_retries import RetryOutcome, dead_letter_retry, dead_letters_retry_due
from shopsync.services.dead_letters import dead_letter_record
from tests.factories import FailedSyncItemFactory, OrderFactory

ORDER_ID = 820982911946154508  # the id of the conftest payloads


def _record_order_failure(shop, payload) -> FailedSyncItem:
    return dead_letter_record(
        shop=shop,
        entity_type=FailedSyncItem.EntityType.ORDER,
        shopify_id=ORDER_ID,
        payload=payload,
        error="boom",
    )


def test_record_failing_twice_then_succeeding_is_resolved_on_a_2_to_the_n_minute_schedule(
    shop, rest_order, failing_order_writes
):
    # given
    item = _record_order_failure(shop, rest_order)
    first_due = item.next_retry_at
    # when: the first two retries hit the failing write, the third finds it fixed
    before_due = dead_letters_retry_due(now=first_due - timedelta(seconds=1))
    first = dead_letters_retry_due(now=first_due)
    item.refresh_from_db()
    after_first = (item.retry_count, item.last_retried_at, item.next_retry_at)
    second_due = item.next_retry_at
    second = dead_letters_retry_due(now=second_due)
    item.refresh_from_db()
    after_second = (item.retry_count, item.last_retried_at, item.next_retry_at)
    third_due = item.next_retry_at
    failing_order_writes()
    third = dead_letters_retry_due(now=third_due)
    item.refresh_from_db()
    # then
    assert first_due - item.created_at < timedelta(minutes=1, seconds=1)
    assert (before_due.succeeded, before_due.failed) == (0, 0)
    assert (first.failed, second.failed, third.succeeded) == (1, 1, 1)
    assert after_first == (1, first_due, first_due + timedelta(minutes=2))
    assert after_second == (2, second_due, second_due + timedelta(minutes=4))
    assert item.resolution == FailedSyncItem.Resolution.SUCCESS
    assert item.resolved_at == third_due
    assert item.last_retried_at == third_due
    assert item.retry_count == 2
    assert item.next_retry_at is None
    assert "simulated write failure" in item.error_message  # the last failure stays readable
    order = Order.objects.get(shop=shop, shopify_id=ORDER_ID)
    assert order.name == "#1001"
    assert [li.shopify_id for li in order.line_items.all()] == [466157049]


def test_failed_retry_keeps_the_database_error_on_the_item(shop, rest_order, failing_order_writes):
    # given
    item = _record_order_failure(shop, rest_order)
    # when
    outcome = dead_letter_retry(item=item, now=item.next_retry_at)
    # then
    item.refresh_from_db()
    assert outcome == RetryOutcome.FAILED
    assert "simulated write failure for order" in item.error_message
    assert "Traceback" in item.error_trace
    assert not Order.objects.filter(shop=shop, shopify_id=ORDER_ID).exists()


def test_graphql_unit_payload_is_parsed_with_the_graphql_parser(shop, graphql_order_unit):
    # given
    item = _record_order_failure(shop, graphql_order_unit)
    # when
    outcome = dead_letter_retry(item=item)
    # then
    item.refresh_from_db()
    order = Order.objects.get(shop=shop, shopify_id=ORDER_ID)
    assert outcome == RetryOutcome.SUCCEEDED
    assert item.resolution == FailedSyncItem.Resolution.SUCCESS
    assert order.name == "#1001"
    assert [li.shopify_id for li in order.line_items.all()] == [466157049]


def test_retry_does_not_overwrite_a_newer_row_written_meanwhile(shop, rest_order):
    # given: a webhook already brought a newer version of the order
    newer = OrderFactory(shop=shop, shopify_id=ORDER_ID, name="#1001-newer",
                         shopify_updated_at=timezone.now())  # fmt: skip
    item = _record_order_failure(shop, rest_order)
    # when
    outcome = dead_letter_retry(item=item)
    # then
    newer.refresh_from_db()
    assert outcome == RetryOutcome.SUCCEEDED
    assert newer.name == "#1001-newer"


def test_item_someone_else_already_claimed_is_skipped(shop, rest_order):
    # given: our copy of the item is stale, another worker retried it meanwhile
    item = _record_order_failure(shop, rest_order)
    FailedSyncItem.objects.filter(pk=item.pk).update(next_retry_at=timezone.now() + timedelta(minutes=15))
    # when
    outcome = dead_letter_retry(item=item)
    # then
    item.refresh_from_db()
    assert outcome == RetryOutcome.SKIPPED
    assert item.retry_count == 0
    assert item.resolved_at is None
    assert not Order.objects.filter(shop=shop, shopify_id=ORDER_ID).exists()


def test_resolved_items_are_never_retried(shop, rest_order):
    # given
    item = FailedSyncItemFactory(
        shop=shop, payload=rest_order, shopify_id=ORDER_ID, resolved_at=timezone.now(),
        resolution=FailedSyncItem.Resolution.ABANDONED, next_retry_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    # when
    summary = dead_letters_retry_due()
    outcome = dead_letter_retry(item=item)
    # then
    assert summary.succeeded + summary.failed + summary.skipped == 0
    assert outcome == RetryOutcome.SKIPPED
    assert not Order.objects.filter(shop=shop, shopify_id=ORDER_ID).exists()


def test_manual_retry_of_an_exhausted_item_can_still_succeed(shop, rest_order):
    # given
    item = _record_order_failure(shop, rest_order)
    FailedSyncItem.objects.filter(pk=item.pk).update(retry_count=5, next_retry_at=None)
    item.refresh_from_db()
    # when
    outcome = dead_letter_retry(item=item)
    # then
    item.refresh_from_db()
    assert outcome == RetryOutcome.SUCCEEDED
    assert item.resolution == FailedSyncItem.Resolution.SUCCESS
    assert Order.objects.filter(shop=shop, shopify_id=ORDER_ID).exists()
