from __future__ import annotations
import pytest
from shopsync.models import LineItem, ProductVariant
from shopsync.services.upsert import UpsertResult, orders_upsert, products_upsert
from decimal import Decimal
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

def _items(order_id):
    return dict(LineItem.objects.filter(order__shopify_id=order_id).order_by("shopify_id").values_list("shopify_id", "quantity"))

def test_qty(shop, make_order):
    orders_upsert(shop=shop, records=[make_order(1, items={11: 1, 12: 1})])
    r = orders_upsert(shop=shop, records=[make_order(1, items={11: 5})])
    print(r, _items(1))
    assert _items(1) == {11: 5}

def test_removed(shop, make_order):
    orders_upsert(shop=shop, records=[make_order(1, items={11: 1, 12: 1})])
    r = orders_upsert(shop=shop, records=[make_order(1, items={11: 1})])
    print(r, _items(1))
    assert _items(1) == {11: 1}

def test_mixed_batch(shop, make_order):
    orders_upsert(shop=shop, records=[make_order(1, items={11: 1}), make_order(2, items={21: 1})])
    r = orders_upsert(shop=shop, records=[make_order(1, items={11: 3}), make_order(2, items={21: 1}), make_order(3)])
    print(r, _items(1))
    assert _items(1) == {11: 3}

def test_all_new_plus_same(shop, make_order):
    orders_upsert(shop=shop, records=[make_order(1, items={11: 1})])
    LineItem.objects.filter(shopify_id=11).update(quantity=9)
    r = orders_upsert(shop=shop, records=[make_order(1, items={11: 1})])
    print(r, _items(1))
    assert _items(1) == {11: 1}

def test_child_wrong_parent_row_changed_directly(shop, make_product):
    products_upsert(shop=shop, records=[make_product(1, variants=[11, 12])])
    ProductVariant.objects.filter(shopify_id=11).update(price=Decimal("99"))
    r = products_upsert(shop=shop, records=[make_product(1, variants=[11, 12])])
    print(r)
    assert ProductVariant.objects.get(shopify_id=11).price == Decimal("3.00")
