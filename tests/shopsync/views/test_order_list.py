from __future__ import annotations

import re

from django.urls import reverse
from django.utils import timezone

from tests.factories import OrderFactory


def test_order_list_hides_deleted_orders_and_marks_historical_ones(client_for, staff, shop):
    # given
    OrderFactory(shop=shop, name="#1001", is_historical=True)
    OrderFactory(shop=shop, name="#1002")
    OrderFactory(shop=shop, name="#1003", deleted_at=timezone.now())
    # when
    response = client_for(staff).get(reverse("order-list"))
    # then
    assert sorted(order.name for order in response.context["page"].object_list) == ["#1001", "#1002"]
    assert "#1003" not in response.text
    assert response.text.count('<tr class="is-historical">') == 1
    assert 'class="badge badge--historical" title="Placed before the first sync' in response.text


def test_order_search_by_name_or_email(client_for, staff, shop):
    # given
    OrderFactory(shop=shop, name="#2001", email="a@example.com")
    OrderFactory(shop=shop, name="#2002", email="b@example.com")
    client = client_for(staff)
    # when
    by_name = client.get(reverse("order-list"), {"q": "2002"})
    by_email = client.get(reverse("order-list"), {"q": "a@example"})
    # then
    assert [order.name for order in by_name.context["page"].object_list] == ["#2002"]
    assert [order.name for order in by_email.context["page"].object_list] == ["#2001"]


def test_empty_order_list_says_so(client_for, staff, shop):
    # when
    response = client_for(staff).get(reverse("order-list"))
    # then
    assert "No orders yet." in response.text


def test_order_numbers_link_to_the_order_page(client_for, staff, shop):
    # given
    order = OrderFactory(shop=shop, name="#3001")
    # when
    response = client_for(staff).get(reverse("order-list"))
    # then
    assert f'<a href="{reverse("order-detail", args=[order.pk])}">#3001</a>' in response.text


def test_order_statuses_read_as_words_not_codes(client_for, staff, shop):
    # given
    OrderFactory(shop=shop, financial_status="partially_paid", fulfillment_status="partially_fulfilled")
    OrderFactory(shop=shop, financial_status="pending", fulfillment_status=None)
    # when
    response = client_for(staff).get(reverse("order-list"))
    # then
    assert "<td>Partially paid</td>" in response.text
    assert "<td>Partially fulfilled</td>" in response.text
    assert "<td>Payment pending</td>" in response.text
    assert "<td>Unfulfilled</td>" in response.text
    # (the status filter's option values are codes, never read: only what is shown counts)
    assert "partially_" not in re.sub(r' value="[a-z_]*"', "", response.text)
