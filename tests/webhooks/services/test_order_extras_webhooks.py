"""A REST order webhook carries the order's extras (contract §8.5): they are parsed and stored; the totals
only GraphQL carries stay as the last GraphQL read left them; a malformed extra dead-letters the body."""

from __future__ import annotations

from decimal import Decimal

import orjson

from shopsync.models import FailedSyncItem, LineItem, Order
from tests.webhooks.factories import BASE_TIME, WebhookLogFactory, order_payload
from webhooks.models import WebhookLog
from webhooks.services.processing import webhook_log_process

EXTRAS = {
    "source_name": "pos",
    "billing_address": {"first_name": "Ada", "city": "Oslo", "country_code": "NO"},
    "note_attributes": [{"name": "gift_wrap", "value": "yes"}],
    "discount_codes": [{"code": "SAVE10", "amount": "1.00", "type": "percentage"}],
    "discount_applications": [{"type": "discount_code", "value": "10.0", "value_type": "percentage",
                               "allocation_method": "across", "target_selection": "entitled",
                               "target_type": "line_item", "code": "SAVE10"}],
    "tax_lines": [{"title": "VAT", "rate": 0.25, "price": "2.50"}],
    "shipping_lines": [{"id": 1, "title": "Standard", "code": "STANDARD", "source": "shopify", "price": "5.99",
                        "discounted_price": "5.99", "tax_lines": [], "discount_allocations": []}],
    "current_total_price": "11.00",
    "total_outstanding": "0.00",
}  # fmt: skip


def _apply(shop, topic, payload):
    log = WebhookLogFactory(
        shop=shop,
        topic=topic,
        body=orjson.dumps(payload),
        shopify_id=payload.get("id"),
        triggered_at=BASE_TIME,
    )
    webhook_log_process(webhook_log_id=log.id)
    log.refresh_from_db()
    return log


def _with_allocation(payload: dict) -> dict:
    [line] = payload["line_items"]
    line["discount_allocations"] = [{"amount": "1.00", "discount_application_index": 0}]
    line["tax_lines"] = [{"title": "VAT", "rate": 0.25, "price": "2.50"}]
    return payload


def test_an_order_webhook_stores_the_orders_extras(shop):
    # when
    log = _apply(shop, "orders/create", _with_allocation(order_payload(1001, version=1, **EXTRAS)))
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    order = Order.objects.get(shop=shop, shopify_id=1001)
    assert (order.source_name, order.discount_codes, order.current_total_price) == (
        "pos",
        ["SAVE10"],
        Decimal("11"),
    )
    assert order.shipping_lines[0]["title"] == "Standard"
    assert order.note_attributes == [{"name": "gift_wrap", "value": "yes"}]
    assert order.billing_address["city"] == "Oslo"
    line = LineItem.objects.get(order=order)
    assert line.discount_allocations[0]["application"]["code"] == "SAVE10"
    assert line.tax_lines == [{"title": "VAT", "rate": 0.25, "price": "2.50"}]


def test_a_newer_order_webhook_keeps_the_totals_only_graphql_reads(shop):
    # given: a GraphQL read left the received, net and refunded totals
    _apply(shop, "orders/create", order_payload(1001, version=1, **EXTRAS))
    Order.objects.filter(shop=shop, shopify_id=1001).update(
        total_received=Decimal("11.00"), net_payment=Decimal("10.00"), total_refunded=Decimal("1.00")
    )
    # when: a newer REST version, which has none of them
    _apply(
        shop, "orders/updated", order_payload(1001, version=2, **{**EXTRAS, "current_total_price": "10.00"})
    )
    # then
    order = Order.objects.get(shop=shop, shopify_id=1001)
    assert (order.note, order.current_total_price) == ("version 2", Decimal("10.00"))
    assert (order.total_received, order.net_payment, order.total_refunded) == (
        Decimal("11.00"), Decimal("10.00"), Decimal("1.00")
    )  # fmt: skip


def test_a_malformed_extra_dead_letters_the_body_and_writes_nothing(shop):
    # when
    payload = order_payload(1001, version=1, **{**EXTRAS, "tax_lines": [{"title": "VAT", "rate": "high"}]})
    log = _apply(shop, "orders/create", payload)
    # then
    assert log.status == WebhookLog.Status.DEAD
    assert not Order.objects.filter(shop=shop, shopify_id=1001).exists()
    item = FailedSyncItem.objects.get(shop=shop, shopify_id=1001)
    assert "tax_lines.0.rate" in item.error_message
    assert item.payload["tax_lines"] == [{"title": "VAT", "rate": "high"}]
