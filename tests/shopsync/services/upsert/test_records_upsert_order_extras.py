"""An order's extras through the write path: JSON columns replaced with the order, and the totals only
GraphQL carries kept when a REST version does not carry them. Marked `sqlite` (the SQLite lane too)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopsync.models import LineItem, Order
from shopsync.payloads.records import LineItemRecord
from shopsync.resources import Resource
from shopsync.services.upsert import UpsertResult, records_soft_delete, records_upsert
from tests.shopsync.services.upsert.conftest import at

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

TOTALS = ("total_refunded", "net_payment", "total_received")
SHIPPING = [{"title": "Express", "code": "EXPRESS", "source": "shopify", "price": "8.00",
             "discounted_price": "8.00", "tax_lines": [], "discount_allocations": []}]  # fmt: skip
ALLOCATION = [{"amount": "1.00", "application": {"index": 0, "type": "discount_code", "code": "SAVE10"}}]


def _graphql_version(make_order, version: int, **fields):
    totals = {
        "total_refunded": Decimal("1.00"),
        "net_payment": Decimal("9.00"),
        "total_received": Decimal("10.00"),
    }
    return make_order(1, version=version, **{**totals, **fields})


def _totals() -> tuple:
    return tuple(Order.objects.values_list(*TOTALS).get(shopify_id=1))


def test_an_orders_extras_are_stored_and_replaced_with_the_order(shop, make_order):
    # given
    first = _graphql_version(
        make_order, 0, shipping_lines=SHIPPING, discount_codes=["SAVE10"], source_name="web",
        tax_lines=[{"title": "GST", "rate": 0.05, "price": "0.50"}], billing_address={"city": "Oslo"},
        note_attributes=[{"name": "gift_wrap", "value": "yes"}], current_total_price=Decimal("9.00"),
        line_items=[LineItemRecord(shopify_id=11, quantity=1, discount_allocations=ALLOCATION)],
    )  # fmt: skip
    records_upsert(resource="orders", shop=shop, records=[first])
    # when: a newer version without a discount or a shipping line
    records_upsert(resource="orders", shop=shop, records=[_graphql_version(make_order, 5, items={11: 1})])
    # then
    order = Order.objects.get(shopify_id=1)
    assert (order.shipping_lines, order.discount_codes, order.tax_lines, order.note_attributes) == (
        [],
        [],
        [],
        [],
    )
    assert (order.source_name, order.billing_address, order.current_total_price) == (None, None, None)
    assert LineItem.objects.get(shopify_id=11).discount_allocations == []


def test_the_first_version_stores_its_json_as_given(shop, make_order):
    # when
    records_upsert(
        resource="orders", shop=shop,
        records=[_graphql_version(make_order, 0, shipping_lines=SHIPPING, items={},
                                  line_items=[LineItemRecord(shopify_id=11, quantity=1,
                                                             discount_allocations=ALLOCATION)])],
    )  # fmt: skip
    # then
    assert Order.objects.get(shopify_id=1).shipping_lines == SHIPPING
    assert LineItem.objects.get(shopify_id=11).discount_allocations == ALLOCATION


def test_a_newer_rest_version_keeps_the_totals_only_graphql_carries(shop, make_order):
    # given: a GraphQL version
    records_upsert(resource="orders", shop=shop, records=[_graphql_version(make_order, 0)])
    # when: a newer REST version (a webhook) without them, with a new note
    result = records_upsert(resource="orders", shop=shop, records=[make_order(1, version=5, note="new")])
    # then
    assert result == UpsertResult(updated=1)
    assert _totals() == (Decimal("1.00"), Decimal("9.00"), Decimal("10.00"))
    assert Order.objects.get(shopify_id=1).note == "new"


def test_a_rest_replay_of_the_stored_version_changes_nothing(shop, make_order):
    # given
    records_upsert(resource="orders", shop=shop, records=[_graphql_version(make_order, 0)])
    synced_at = Order.objects.get(shopify_id=1).synced_at
    # when: the same version from REST (no totals): nothing else differs
    result = records_upsert(resource="orders", shop=shop, records=[make_order(1, version=0)])
    # then
    assert result == UpsertResult(unchanged=1)
    assert Order.objects.get(shopify_id=1).synced_at == synced_at


def test_a_newer_graphql_version_replaces_the_totals(shop, make_order):
    # given
    records_upsert(resource="orders", shop=shop, records=[_graphql_version(make_order, 0)])
    # when
    newer = _graphql_version(make_order, 5, total_refunded=Decimal("10.00"), net_payment=Decimal("0.00"))
    records_upsert(resource="orders", shop=shop, records=[newer])
    # then
    assert _totals() == (Decimal("10.00"), Decimal("0.00"), Decimal("10.00"))


def test_an_order_first_seen_from_rest_has_no_totals_yet(shop, make_order):
    # when
    records_upsert(resource="orders", shop=shop, records=[make_order(1)])
    # then
    assert _totals() == (None, None, None)


def test_a_tombstone_of_an_order_never_seen_has_empty_extras_lists(shop):
    # when
    deleted = records_soft_delete(shop=shop, resource=Resource.ORDERS, shopify_ids=[9], deleted_at=at(1))
    # then
    order = Order.objects.get(shopify_id=9)
    assert deleted == 1
    assert (order.note_attributes, order.discount_codes, order.shipping_lines, order.tax_lines) == (
        [],
        [],
        [],
        [],
    )
