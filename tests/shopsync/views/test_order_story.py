"""The order page tells the order's story in time order: placed, paid, fulfilled (tracking links,
cancelled ones struck through), refunded (what, how much, restocked, the transactions that paid it
back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.urls import reverse

from shopsync.models import (
    Fulfillment,
    FulfillmentLineItem,
    OrderTransaction,
    Refund,
    RefundLineItem,
    RefundShippingLine,
    RefundTransaction,
)
from tests.factories import LineItemFactory, OrderFactory

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def test_the_order_page_tells_placed_paid_fulfilled_and_refunded_in_time_order(client_for, staff, shop):
    # given: stored out of time order
    order = OrderFactory(shop=shop, name="#1050", shopify_created_at=_at(0), processed_at=_at(0),
                         total_price=Decimal("58.00"), presentment_currency="USD")  # fmt: skip
    LineItemFactory(order=order, shopify_id=11, title="Blue mug", quantity=2)
    LineItemFactory(order=order, shopify_id=12, title="Teapot", quantity=1)
    refund = Refund.objects.create(shop=shop, order=order, shopify_id=70, processed_at=_at(48),
                                   total_refunded=Decimal("21.50"), note="Chipped")  # fmt: skip
    RefundLineItem.objects.create(shop=shop, refund=refund, shopify_id=71, line_item_shopify_id=11, quantity=1,
                                  restock_type="return", subtotal=Decimal("9.50"), total_tax=Decimal("2.00"))  # fmt: skip
    RefundShippingLine.objects.create(
        shop=shop, refund=refund, shopify_id=72, subtotal_amount=Decimal("10.00")
    )
    shipped = Fulfillment.objects.create(
        shop=shop, order=order, shopify_id=60, name="#1050.2", status="success", display_status="in_transit",
        shopify_created_at=_at(24), tracking_company="UPS", tracking_number="1Z999",
        tracking_url="https://www.ups.com/track?tracknum=1Z999",
    )  # fmt: skip
    FulfillmentLineItem.objects.create(shop=shop, fulfillment=shipped, shopify_id=61, line_item_shopify_id=11,
                                       quantity=2)  # fmt: skip
    Fulfillment.objects.create(shop=shop, order=order, shopify_id=50, name="#1050.1", status="cancelled",
                               display_status="canceled", shopify_created_at=_at(12))  # fmt: skip
    OrderTransaction.objects.create(shop=shop, order=order, shopify_id=40, kind="sale", status="success",
                                    amount=Decimal("58.00"), currency="USD", processed_at=_at(1))  # fmt: skip
    # when
    response = client_for(staff).get(reverse("order-detail", args=[order.pk]))
    # then
    story = response.context["story"]
    assert [(e.kind, e.title) for e in story] == [
        ("placed", "Placed"),
        ("payment", "Sale"),
        ("fulfillment", "Fulfillment #1050.1 (cancelled)"),
        ("fulfillment", "Fulfillment #1050.2"),
        ("refund", "Refunded"),
    ]
    assert [(i.title, i.quantity, i.restocked, i.amount) for i in story[-1].items] == [
        ("Blue mug", 1, True, Decimal("11.50")),
        ("Shipping", None, False, Decimal("10.00")),
    ]
    html = response.text
    assert (
        '<a href="https://www.ups.com/track?tracknum=1Z999" rel="noopener noreferrer" target="_blank">1Z999</a>'
        in html
    )
    assert "<li>2 × Blue mug</li>" in html  # noqa: RUF001 - the multiplication sign
    assert "<s>Fulfillment #1050.1 (cancelled)</s>" in html
    assert '<span class="badge">Restocked</span>' in html
    assert "−21.50 USD" in html  # noqa: RUF001 - a minus sign
    assert html.index("Fulfillment #1050.2") < html.index("Refunded")


def test_a_tracking_url_that_is_not_a_web_link_is_shown_as_text(client_for, staff, shop):
    # given
    order = OrderFactory(shop=shop)
    Fulfillment.objects.create(shop=shop, order=order, shopify_id=60, status="success", tracking_number="AB1",
                               tracking_url="javascript:alert(1)", shopify_created_at=_at(1))  # fmt: skip
    # when
    response = client_for(staff).get(reverse("order-detail", args=[order.pk]))
    # then
    assert "javascript:" not in response.text
    assert "Tracking: AB1" in response.text


def test_a_refund_shows_the_transactions_that_paid_it_back_and_they_are_not_told_twice(
    client_for, staff, shop
):
    # given: a refund paid back by two transactions, one we hold and one not synced yet; and a refund
    # transaction no stored refund links (its refund not here yet)
    order = OrderFactory(shop=shop, shopify_created_at=_at(0), presentment_currency="USD")
    refund = Refund.objects.create(shop=shop, order=order, shopify_id=70, processed_at=_at(48),
                                   total_refunded=Decimal("30.00"))  # fmt: skip
    RefundTransaction.objects.create(shop=shop, refund=refund, shopify_id=41)
    RefundTransaction.objects.create(shop=shop, refund=refund, shopify_id=42)
    OrderTransaction.objects.create(shop=shop, order=order, shopify_id=40, kind="sale", status="success",
                                    amount=Decimal("58.00"), currency="USD", processed_at=_at(1))  # fmt: skip
    OrderTransaction.objects.create(shop=shop, order=order, shopify_id=41, kind="refund", status="success",
                                    amount=Decimal("20.00"), currency="USD", gateway="shopify_payments",
                                    processed_at=_at(48))  # fmt: skip
    OrderTransaction.objects.create(shop=shop, order=order, shopify_id=43, kind="refund", status="success",
                                    amount=Decimal("5.00"), currency="USD", processed_at=_at(50))  # fmt: skip
    # when
    response = client_for(staff).get(reverse("order-detail", args=[order.pk]))
    # then: the linked one under its refund only, the unlinked one as a payment of its own
    story = response.context["story"]
    assert [(e.kind, e.title, e.amount) for e in story] == [
        ("placed", "Placed", order.total_price),
        ("payment", "Sale", Decimal("58.00")),
        ("refund", "Refunded", Decimal("30.00")),
        ("payment", "Refund", Decimal("5.00")),
    ]
    assert [(p.shopify_id, p.held, p.amount, p.gateway) for p in story[2].paid_back_by] == [
        (41, True, Decimal("20.00"), "shopify_payments"),
        (42, False, None, ""),
    ]
    html = response.text
    assert "Paid back by 20.00 USD via shopify_payments" in html
    assert 'transaction 42 <span class="muted">(not synced yet)</span>' in html
