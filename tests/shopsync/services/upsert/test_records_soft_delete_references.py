"""A delete clears what Shopify clears elsewhere without moving anyone's updated_at: a deleted
product's line items lose their product and variant ids (contract §6.1), through every path that
deletes (they all call `records_soft_delete`)."""

from __future__ import annotations

import pytest

from shopsync.models import LineItem, Order
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


def _order_with_lines(make_order, lines: dict[int, tuple[int | None, int | None]]):
    order = make_order(1, items=dict.fromkeys(lines, 1))
    for line, (product, variant) in zip(order.line_items, lines.values(), strict=True):
        line.product_shopify_id, line.variant_shopify_id = product, variant
    return order


def test_deleting_a_product_clears_the_line_items_of_its_stored_variants(shop, make_order, make_product):
    # given: product 7 stored with variants 70 and 71; a line names variant 71 without the product
    records_upsert(shop=shop, resource=Resource.PRODUCTS, records=[make_product(7, variants=[70, 71])])
    order = _order_with_lines(make_order, {11: (None, 71), 12: (8, 80)})
    records_upsert(shop=shop, resource=Resource.ORDERS, records=[order])
    # when
    records_soft_delete(shop=shop, resource=Resource.PRODUCTS, shopify_ids=[7], deleted_at=T0)
    # then
    assert _references(shop) == {11: (None, None), 12: (8, 80)}


def test_a_product_version_without_a_variant_clears_that_variant_on_line_items(
    shop, make_order, make_product
):
    # given: product 7 with variants 70 and 71, sold on two lines
    records_upsert(shop=shop, resource=Resource.PRODUCTS, records=[make_product(7, variants=[70, 71])])
    records_upsert(
        shop=shop,
        resource=Resource.ORDERS,
        records=[_order_with_lines(make_order, {11: (7, 70), 12: (7, 71)})],
    )
    order_version = Order.objects.get(shop=shop).shopify_updated_at
    # when: a newer product version no longer has variant 71; then the same version again
    records_upsert(shop=shop, resource=Resource.PRODUCTS, records=[make_product(7, version=1, variants=[70])])
    records_upsert(shop=shop, resource=Resource.PRODUCTS, records=[make_product(7, version=1, variants=[70])])
    # then: only the deleted variant's id goes; the product stays, and the order's version is untouched
    assert _references(shop) == {11: (7, 70), 12: (7, None)}
    assert Order.objects.get(shop=shop).shopify_updated_at == order_version


def test_an_older_product_version_without_a_variant_clears_nothing(shop, make_order, make_product):
    # given
    records_upsert(
        shop=shop, resource=Resource.PRODUCTS, records=[make_product(7, version=5, variants=[70, 71])]
    )
    records_upsert(
        shop=shop,
        resource=Resource.ORDERS,
        records=[_order_with_lines(make_order, {11: (7, 70), 12: (7, 71)})],
    )
    # when: a late, older version (it loses to the stored one)
    records_upsert(shop=shop, resource=Resource.PRODUCTS, records=[make_product(7, version=1, variants=[70])])
    # then
    assert _references(shop) == {11: (7, 70), 12: (7, 71)}


def test_a_variant_moving_between_products_of_one_batch_keeps_its_line_items(shop, make_order, make_product):
    # given: variant 71 under product 7
    records_upsert(shop=shop, resource=Resource.PRODUCTS, records=[make_product(7, variants=[70, 71])])
    records_upsert(
        shop=shop, resource=Resource.ORDERS, records=[_order_with_lines(make_order, {12: (7, 71)})]
    )
    # when: one batch lists it under product 8 instead (it is not gone)
    batch = [make_product(7, version=1, variants=[70]), make_product(8, version=1, variants=[71])]
    records_upsert(shop=shop, resource=Resource.PRODUCTS, records=batch)
    # then
    assert _references(shop) == {12: (7, 71)}
