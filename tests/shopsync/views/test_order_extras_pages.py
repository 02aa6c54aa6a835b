"""The staff pages with an order's extras: the order page's discounts, shipping, taxes, billing address,
note attributes and current totals; the order list's status filters; the customer's gross and net spend."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from tests.factories import CustomerFactory, LineItemFactory, OrderFactory

CODE = {"index": 0, "type": "discount_code", "code": "SAVE10", "title": None, "description": None, "value": "10",
        "value_type": "percentage", "allocation_method": "across", "target_selection": "entitled",
        "target_type": "line_item"}  # fmt: skip
FREE_SHIPPING = {"index": 1, "type": "manual", "code": None, "title": "Loyal", "description": "Loyal customer",
                 "value": "8", "value_type": "fixed_amount", "allocation_method": "one",
                 "target_selection": "explicit", "target_type": "shipping_line"}  # fmt: skip


def test_order_page_shows_discounts_shipping_taxes_billing_and_current_totals(client_for, staff, shop):
    # given
    order = OrderFactory(
        shop=shop, name="#1050", source_name="web", discount_codes=["SAVE10"],
        note_attributes=[{"name": "gift_wrap", "value": "yes"}],
        billing_address={"name": "Ada Lovelace", "address1": "1 Main St", "city": "Oslo", "zip": "0150",
                         "country": "Norway"},
        tax_lines=[{"title": "VAT", "rate": 0.25, "price": "7.50"}],
        shipping_lines=[{"title": "Express", "code": "EXPRESS", "source": "shopify", "price": "8.00",
                         "discounted_price": "0.00", "tax_lines": [{"title": "VAT", "rate": 0.25, "price": "0.00"}],
                         "discount_allocations": [{"amount": "8.00", "application": FREE_SHIPPING}]}],
        current_total_price=Decimal("36.00"), total_received=Decimal("40.00"), total_refunded=Decimal("4.00"),
        net_payment=Decimal("36.00"), total_outstanding=Decimal("0.00"),
    )  # fmt: skip
    LineItemFactory(
        order=order, title="Teapot", tax_lines=[{"title": "VAT", "rate": 0.25, "price": "7.50"}],
        discount_allocations=[{"amount": "3.00", "application": CODE}],
    )  # fmt: skip
    # when
    response = client_for(staff).get(reverse("order-detail", args=[order.pk]))
    # then: the order's applications are the ones its allocations name
    extras = response.context["extras"]
    assert [(a.index, a.name, a.value, a.is_percentage) for a in extras.discount_applications] == [
        (0, "SAVE10", Decimal("10"), True), (1, "Loyal", Decimal("8"), False),
    ]  # fmt: skip
    text = response.text
    assert "<td>SAVE10</td>" in text and '<td class="num">10 %</td>' in text
    assert '<td>Loyal <span class="muted">· Loyal customer</span></td>' in text
    assert "<td>Express</td>" in text and '<td class="num">8.00 USD</td>' in text
    assert '<p id="order-tax-lines">VAT 25 %: 7.50 USD</p>' in text
    assert "<td>SAVE10: 3.00 USD</td>" in text
    assert "Ada Lovelace\n1 Main St\n0150 Oslo\nNorway" in text
    assert '<span class="tag">gift_wrap: yes</span>' in text
    assert '<span class="tag">SAVE10</span>' in text
    assert "<dt>Refunded</dt><dd>4.00 USD</dd>" in text
    assert "<dt>Net payment</dt><dd>36.00 USD</dd>" in text


def test_order_page_without_extras_says_so(client_for, staff, shop):
    # given
    order = OrderFactory(shop=shop)
    # when
    response = client_for(staff).get(reverse("order-detail", args=[order.pk]))
    # then
    assert 'id="order-discount-applications"' not in response.text
    assert 'id="order-shipping-lines"' not in response.text
    assert '<p id="order-tax-lines">No tax lines.</p>' in response.text
    assert "<dt>Received</dt><dd>—</dd>" in response.text


def test_order_list_filters_by_payment_and_fulfillment_status(client_for, staff, shop):
    # given
    OrderFactory(shop=shop, name="#1", financial_status="paid", fulfillment_status="fulfilled")
    OrderFactory(shop=shop, name="#2", financial_status="paid", fulfillment_status="unfulfilled")
    OrderFactory(shop=shop, name="#3", financial_status="refunded", fulfillment_status="fulfilled")
    client = client_for(staff)
    # when
    paid = client.get(reverse("order-list"), {"financial": "paid"})
    both = client.get(reverse("order-list"), {"financial": "paid", "fulfillment": "fulfilled"})
    unknown = client.get(reverse("order-list"), {"financial": "not-a-status"})
    none = client.get(reverse("order-list"), {"financial": "voided"})
    # then
    assert sorted(order.name for order in paid.context["page"].object_list) == ["#1", "#2"]
    assert [order.name for order in both.context["page"].object_list] == ["#1"]
    assert len(unknown.context["page"].object_list) == 3
    assert '<option value="paid" selected>Paid</option>' in both.text
    assert '<option value="fulfilled" selected>Fulfilled</option>' in both.text
    assert "No orders match · Voided." in none.text


def test_order_list_pages_keep_the_status_filter(client_for, staff, shop):
    # given: more paid orders than one page holds
    for _ in range(26):
        OrderFactory(shop=shop, financial_status="paid")
    # when
    response = client_for(staff).get(reverse("order-list"), {"financial": "paid"})
    # then
    assert '<a class="button button--small" href="?financial=paid&amp;page=2" rel="next">' in response.text


def test_customer_page_shows_gross_and_net_spend_and_latest_orders(client_for, staff, shop):
    # given: refunds as Shopify reports them; cancelled, test and deleted orders do not count
    customer = CustomerFactory(shop=shop, shopify_id=901)
    OrderFactory(shop=shop, customer_shopify_id=901, name="#10", total_price=Decimal("50.00"),
                 total_refunded=Decimal("20.00"), financial_status="partially_refunded")  # fmt: skip
    OrderFactory(shop=shop, customer_shopify_id=901, name="#11", total_price=Decimal("30.00"), total_refunded=None,
                 fulfillment_status="fulfilled")  # fmt: skip
    OrderFactory(
        shop=shop, customer_shopify_id=901, total_price=Decimal("99.00"), cancelled_at=timezone.now()
    )
    OrderFactory(shop=shop, customer_shopify_id=901, total_price=Decimal("99.00"), test=True)
    OrderFactory(shop=shop, customer_shopify_id=901, total_price=Decimal("99.00"), deleted_at=timezone.now())
    OrderFactory(shop=shop, customer_shopify_id=902, total_price=Decimal("99.00"))
    # when
    response = client_for(staff).get(reverse("customer-detail", args=[customer.pk]))
    # then
    [spend] = response.context["spend"]
    assert (spend.currency, spend.orders, spend.gross, spend.refunded, spend.net) == (
        "USD", 2, Decimal("80.00"), Decimal("20.00"), Decimal("60.00")
    )  # fmt: skip
    assert "80.00 USD gross, 60.00 USD net of refunds" in response.text
    assert "<td>Partially refunded</td>" in response.text and "<td>Fulfilled</td>" in response.text
