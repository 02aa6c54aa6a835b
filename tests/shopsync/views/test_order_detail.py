"""One order's page: its fields in words, its line items, its customer; only for members of its shop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.urls import reverse

from shopsync.models import OrderTransaction
from tests.factories import CustomerFactory, LineItemFactory, OrderFactory, ShopFactory

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_order_page_lists_its_line_items_and_links_its_customer(client_for, staff, shop):
    # given
    customer = CustomerFactory(shop=shop, shopify_id=555, first_name="Grace", last_name="Hopper")
    order = OrderFactory(
        shop=shop, name="#1042", customer_shopify_id=555, financial_status="partially_refunded",
        fulfillment_status="partially_fulfilled",
    )  # fmt: skip
    LineItemFactory(order=order, title="Blue mug", sku="MUG-B", quantity=2, price=Decimal("9.50"))
    LineItemFactory(order=order, title="Teapot", sku="POT-1", quantity=1, price=Decimal("30.00"))
    # when
    response = client_for(staff).get(reverse("order-detail", args=[order.pk]))
    # then
    assert response.status_code == 200
    assert [item.title for item in response.context["line_items"]] == ["Blue mug", "Teapot"]
    assert "<h1>Order #1042</h1>" in response.text
    assert "<td>MUG-B</td>" in response.text
    assert '<td class="num">9.50 USD</td>' in response.text
    assert "<dd>Partially refunded</dd>" in response.text
    assert "<dd>Partially fulfilled</dd>" in response.text
    assert "partially_fulfilled" not in response.text
    assert f'<a href="{reverse("customer-detail", args=[customer.pk])}">Grace Hopper</a>' in response.text


def test_order_page_shows_its_payment_timeline_in_order(client_for, staff, shop):
    # given: an authorization, its capture, then a partial refund, stored out of order
    order = OrderFactory(shop=shop, name="#1043")
    for shopify_id, kind, minute, amount in ((3, "refund", 30, "4.00"), (1, "authorization", 0, "20.00"),
                                             (2, "capture", 10, "20.00")):  # fmt: skip
        OrderTransaction.objects.create(
            shop=shop, order=order, shopify_id=shopify_id, kind=kind, status="success", gateway="shopify_payments",
            amount=Decimal(amount), currency="EUR", processed_at=T0 + timedelta(minutes=minute),
        )  # fmt: skip
    # when
    response = client_for(staff).get(reverse("order-detail", args=[order.pk]))
    # then
    assert [t.kind for t in response.context["transactions"]] == ["authorization", "capture", "refund"]
    assert "<td>Refund</td>" in response.text
    assert '<td class="num">4.00 EUR</td>' in response.text


def test_customer_page_says_what_they_paid_net_of_refunds(client_for, staff, shop):
    # given: two orders of one customer; a failed sale and an authorization do not count
    customer = CustomerFactory(shop=shop, shopify_id=777)
    first, second = (
        OrderFactory(shop=shop, customer_shopify_id=777),
        OrderFactory(shop=shop, customer_shopify_id=777),
    )
    rows = ((first, 1, "sale", "success", "30.00"), (first, 2, "refund", "success", "5.00"),
            (second, 3, "capture", "success", "12.50"), (second, 4, "sale", "failure", "99.00"),
            (second, 5, "authorization", "success", "12.50"))  # fmt: skip
    for order, shopify_id, kind, status, amount in rows:
        OrderTransaction.objects.create(shop=shop, order=order, shopify_id=shopify_id, kind=kind, status=status,
                                        amount=Decimal(amount), currency="USD")  # fmt: skip
    # when
    response = client_for(staff).get(reverse("customer-detail", args=[customer.pk]))
    # then
    [payments] = response.context["payments"]
    assert (payments.paid, payments.refunded, payments.net) == (
        Decimal("42.50"),
        Decimal("5.00"),
        Decimal("37.50"),
    )
    assert "37.50 USD" in response.text


def test_order_of_another_shop_is_not_found(client_for, staff):
    # given
    foreign = OrderFactory(shop=ShopFactory())
    # when
    response = client_for(staff).get(reverse("order-detail", args=[foreign.pk]))
    # then
    assert response.status_code == 404


def test_order_page_needs_a_login(client, shop):
    # given
    order = OrderFactory(shop=shop)
    # when
    response = client.get(reverse("order-detail", args=[order.pk]))
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_order_s_amounts_add_up_as_they_read(client_for, staff, shop):
    # given: Shopify's subtotal is already after discounts
    order = OrderFactory(
        shop=shop, currency="USD", subtotal_price=Decimal("1144.64"), total_discounts=Decimal("24.80"),
        total_tax=Decimal("228.92"), total_price=Decimal("1373.56"),
    )  # fmt: skip
    LineItemFactory(order=order, title="Sneakers", price=Decimal("248.00"), total_discount=Decimal("24.80"))
    # when
    response = client_for(staff).get(reverse("order-detail", args=[order.pk]))
    # then
    rows = response.text.split('<dl class="fields">', 1)[1]
    assert rows.index("<dt>Discounts</dt><dd>24.80 USD</dd>") < rows.index(
        "<dt>Subtotal after discounts</dt><dd>1,144.64 USD</dd>"
    )
    assert "<dt>Subtotal</dt>" not in response.text
    assert '<td class="num">24.80 USD</td>' in response.text
