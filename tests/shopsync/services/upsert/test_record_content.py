"""A record's content as the write path would store it, against the stored rows (reconciliation's
content sample): every column and child, judged only where the payload carried it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from shopsync.payloads.records import TransactionRecord
from shopsync.resources import Resource
from shopsync.services.upsert import records_upsert
from shopsync.services.upsert.content import content_differences, record_content, stored_content
from tests.shopsync.services.upsert.conftest import T0

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _differences(shop, resource: Resource, record) -> list[str]:
    stored = stored_content(shop=shop, resource=resource, shopify_ids=[record.shopify_id])[record.shopify_id]
    return content_differences(
        resource=resource, expected=record_content(resource=resource, record=record), stored=stored
    )


def _order(make_order, **fields):
    order = make_order(1, items={11: 1, 12: 2}, **fields)
    order.line_items[0].product_shopify_id, order.line_items[0].variant_shopify_id = 7, 70
    order.transactions = [
        TransactionRecord(shopify_id=501, kind="sale", status="success", amount=Decimal("10"))
    ]
    return order


def test_a_record_as_written_has_the_content_stored(shop, make_order, make_product):
    # given
    order, product = _order(make_order), make_product(7, variants=[70, 71])
    records_upsert(shop=shop, resource=Resource.ORDERS, records=[order])
    records_upsert(shop=shop, resource=Resource.PRODUCTS, records=[product])
    # when / then
    assert _differences(shop, Resource.ORDERS, _order(make_order)) == []
    assert _differences(shop, Resource.PRODUCTS, make_product(7, variants=[70, 71])) == []


def test_a_child_or_column_that_differs_at_the_same_version_is_named(shop, make_order):
    # given: stored with a line item naming product 7
    records_upsert(shop=shop, resource=Resource.ORDERS, records=[_order(make_order)])
    # when: Shopify's copy at the same version has the line's ids cleared, or another note
    cleared = _order(make_order)
    cleared.line_items[0].product_shopify_id = cleared.line_items[0].variant_shopify_id = None
    noted = _order(make_order, note="other")
    # then
    assert _differences(shop, Resource.ORDERS, cleared) == ["line_items"]
    assert _differences(shop, Resource.ORDERS, noted) == ["note"]


def test_a_missing_or_extra_child_is_a_difference(shop, make_order):
    # given
    records_upsert(shop=shop, resource=Resource.ORDERS, records=[_order(make_order)])
    fewer, more = _order(make_order), _order(make_order)
    fewer.transactions = []
    more.line_items = [*more.line_items, type(more.line_items[0])(shopify_id=13, quantity=1)]
    # when / then
    assert _differences(shop, Resource.ORDERS, fewer) == ["transactions"]
    assert _differences(shop, Resource.ORDERS, more) == ["line_items"]


def test_what_the_payload_did_not_carry_is_not_judged(shop, make_order):
    # given: stored with GraphQL-only totals
    records_upsert(
        shop=shop, resource=Resource.ORDERS, records=[_order(make_order, total_received=Decimal("9"))]
    )
    # when: a copy without the children lists, without the total, or stored without it
    partial = _order(make_order)
    partial.transactions = None
    partial.line_items = None
    # then
    assert _differences(shop, Resource.ORDERS, partial) == []
    # ... nor a total only GraphQL carries that we never got (a record seen only in REST webhooks)
    records_upsert(shop=shop, resource=Resource.ORDERS, records=[make_order(2)])
    assert _differences(shop, Resource.ORDERS, make_order(2, total_received=Decimal("9"))) == []
    assert _differences(shop, Resource.ORDERS, make_order(2, total_price=Decimal("9"))) == ["total_price"]


def test_timestamps_compare_to_the_second(shop, make_order):
    # given
    records_upsert(shop=shop, resource=Resource.ORDERS, records=[_order(make_order, processed_at=T0)])
    # when / then
    assert (
        _differences(shop, Resource.ORDERS, _order(make_order, processed_at=T0 + timedelta(microseconds=5)))
        == []
    )
    assert _differences(
        shop, Resource.ORDERS, _order(make_order, processed_at=T0 + timedelta(seconds=1))
    ) == ["processed_at"]


def test_writing_shopifys_copy_at_the_same_version_heals_the_content(shop, make_order):
    # given: our line item still names a product Shopify has deleted, at the same order version
    records_upsert(shop=shop, resource=Resource.ORDERS, records=[_order(make_order)])
    cleared = _order(make_order)
    cleared.line_items[0].product_shopify_id = cleared.line_items[0].variant_shopify_id = None
    # when
    written = records_upsert(shop=shop, resource=Resource.ORDERS, records=[cleared])
    # then
    assert written.updated == 1
    assert _differences(shop, Resource.ORDERS, cleared) == []


def test_deleted_or_unknown_records_have_no_stored_content(shop, make_order):
    records_upsert(shop=shop, resource=Resource.ORDERS, records=[_order(make_order)])
    assert set(stored_content(shop=shop, resource=Resource.ORDERS, shopify_ids=[1, 2])) == {1}
