"""A delete clears what Shopify clears elsewhere without moving anyone's updated_at: a deleted
product's line items lose their product and variant ids (contract §6.1), through every path that
deletes (they all call `records_soft_delete`)."""

from __future__ import annotations

import pytest

from shopsync.models import LineItem
from shopsync.resources import Resource
from shopsync.services.upsert import records_soft_delete, records_upsert
from tests.shopsync.services.upsert.conftest import T0

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _references(shop) -> dict[int, tuple]:
    rows = LineItem.objects.filter(shop=shop).values_list(
        "shopify_id", "product_shopify_id", "variant_shopify_id"
    )
    return {shopify_id: (product, variant) for shopify_id, product, variant in rows}


def test_deleting_a_product_clears_its_line_items_references_and_only_theirs(shop, make_order):
    # given: an order with a line of product 7 and a line of product 8
    order = make_order(1, items={11: 1, 12: 1})
    order.line_items[0].product_shopify_id, order.line_items[0].variant_shopify_id = 7, 70
    order.line_items[1].product_shopify_id, order.line_items[1].variant_shopify_id = 8, 80
    records_upsert(shop=shop, resource=Resource.ORDERS, records=[order])
    # when
    deleted = records_soft_delete(shop=shop, resource=Resource.PRODUCTS, shopify_ids=[7], deleted_at=T0)
    again = records_soft_delete(shop=shop, resource=Resource.PRODUCTS, shopify_ids=[7], deleted_at=T0)
    # then
    assert (deleted, again) == (1, 0)
    assert _references(shop) == {11: (None, None), 12: (8, 80)}


def test_deleting_an_order_or_customer_clears_no_line_item_reference(shop, make_order):
    # given
    order = make_order(1, items={11: 1})
    order.line_items[0].product_shopify_id, order.line_items[0].variant_shopify_id = 1, 10
    records_upsert(shop=shop, resource=Resource.ORDERS, records=[order])
    # when: ids that happen to equal the product's, of resources that declare no references
    records_soft_delete(shop=shop, resource=Resource.CUSTOMERS, shopify_ids=[1], deleted_at=T0)
    records_soft_delete(shop=shop, resource=Resource.ORDERS, shopify_ids=[2], deleted_at=T0)
    # then
    assert _references(shop) == {11: (1, 10)}
