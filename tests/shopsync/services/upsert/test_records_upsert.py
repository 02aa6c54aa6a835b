"""Semantics of the write path. Marked `sqlite`: `bin/test` runs them on SQLite too (the SQLite lane)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from shopsync.models import Customer, LineItem, Order, Product, ProductVariant
from shopsync.resources import Resource
from shopsync.services.upsert import UpsertMode, UpsertResult, records_soft_delete, records_upsert
from tests.shopsync.services.upsert.conftest import T0, at

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _items(order_id: int) -> dict[int, int]:
    return dict(
        LineItem.objects.filter(order__shopify_id=order_id)
        .order_by("shopify_id")
        .values_list("shopify_id", "quantity")
    )


def test_new_orders_are_created_with_their_line_items(shop, make_order):
    # given
    batch = [make_order(1, items={11: 1, 12: 2}), make_order(2, items={21: 3})]
    # when
    result = records_upsert(resource="orders", shop=shop, records=batch)
    # then
    assert result == UpsertResult(created=2)
    order = Order.objects.get(shop=shop, shopify_id=1)
    assert (order.name, order.total_price, order.tags, order.shipping_address) == (
        "#1",
        10,
        ["a", "b"],
        {"city": "Springfield", "zip": "97475"},
    )
    assert order.shopify_updated_at == T0
    assert order.deleted_at is None
    assert _items(1) == {11: 1, 12: 2}
    assert _items(2) == {21: 3}


def test_replaying_a_batch_changes_nothing(shop, make_order):
    # given
    batch = [make_order(1, items={11: 1, 12: 2}), make_order(2)]
    records_upsert(resource="orders", shop=shop, records=batch)
    synced_before = dict(Order.objects.values_list("shopify_id", "synced_at"))
    item_pks_before = sorted(LineItem.objects.values_list("pk", flat=True))
    # when
    result = records_upsert(
        resource="orders", shop=shop, records=[make_order(1, items={11: 1, 12: 2}), make_order(2)]
    )
    # then
    assert result == UpsertResult(unchanged=2)
    assert dict(Order.objects.values_list("shopify_id", "synced_at")) == synced_before
    assert sorted(LineItem.objects.values_list("pk", flat=True)) == item_pks_before


def test_a_newer_version_updates_the_row(shop, make_order):
    # given
    records_upsert(resource="orders", shop=shop, records=[make_order(1, version=0)])
    # when
    result = records_upsert(
        resource="orders", shop=shop, records=[make_order(1, version=5, financial_status="refunded")]
    )
    # then
    assert result == UpsertResult(updated=1)
    order = Order.objects.get(shopify_id=1)
    assert (order.financial_status, order.shopify_updated_at) == ("refunded", at(5))


def test_an_older_payload_never_overwrites_a_newer_one(shop, make_order):
    # given
    records_upsert(resource="orders", shop=shop, records=[make_order(1, version=5, items={11: 5})])
    # when
    result = records_upsert(
        resource="orders", shop=shop, records=[make_order(1, version=2, items={11: 1, 99: 1}, name="old")]
    )
    # then
    assert result == UpsertResult(skipped_stale=1)
    order = Order.objects.get(shopify_id=1)
    assert (order.name, order.shopify_updated_at) == ("#1", at(5))
    assert _items(1) == {11: 5}


def test_same_version_with_different_content_is_written(shop, make_customer):
    # given: a tie on updated_at is not stale (a re-fetch of the same version is authoritative)
    records_upsert(resource="customers", shop=shop, records=[make_customer(1, version=3, note=None)])
    # when
    result = records_upsert(
        resource="customers", shop=shop, records=[make_customer(1, version=3, note="completed")]
    )
    # then
    assert result == UpsertResult(updated=1)
    assert Customer.objects.get(shopify_id=1).note == "completed"


def test_duplicate_ids_in_one_batch_collapse_to_the_newest(shop, make_customer):
    # given
    batch = [make_customer(1, version=4), make_customer(1, version=9), make_customer(1, version=2)]
    # when
    result = records_upsert(resource="customers", shop=shop, records=batch)
    # then
    assert result == UpsertResult(created=1)
    assert Customer.objects.get(shopify_id=1).first_name == "v9"


def test_a_winning_order_replaces_its_line_items(shop, make_order):
    # given
    records_upsert(
        resource="orders", shop=shop, records=[make_order(1, version=0, items={11: 1, 12: 1, 13: 1})]
    )
    kept_pk = LineItem.objects.get(shopify_id=11).pk
    # when: 12 removed, 13 changed, 14 added
    result = records_upsert(
        resource="orders", shop=shop, records=[make_order(1, version=1, items={11: 1, 13: 7, 14: 2})]
    )
    # then
    assert result == UpsertResult(updated=1)
    assert _items(1) == {11: 1, 13: 7, 14: 2}
    assert LineItem.objects.get(shopify_id=11).pk == kept_pk


def test_an_order_whose_payload_lacks_its_line_items_keeps_the_stored_ones(shop, make_order):
    # given
    records_upsert(resource="orders", shop=shop, records=[make_order(1, version=0, items={11: 1, 12: 2})])
    # when: a newer version without its children (None: a partial payload), beside one with them
    result = records_upsert(
        resource="orders",
        shop=shop,
        records=[make_order(1, version=1, line_items=None, note="partial"), make_order(2, items={21: 4})],
    )
    # then
    assert result == UpsertResult(created=1, updated=1)
    assert (_items(1), _items(2)) == ({11: 1, 12: 2}, {21: 4})
    assert Order.objects.get(shopify_id=1).note == "partial"


def test_an_order_whose_payload_has_no_line_items_loses_the_stored_ones(shop, make_order):
    # given
    records_upsert(resource="orders", shop=shop, records=[make_order(1, version=0, items={11: 1, 12: 2})])
    # when: an explicit empty list
    result = records_upsert(resource="orders", shop=shop, records=[make_order(1, version=1, items={})])
    # then
    assert result == UpsertResult(updated=1)
    assert _items(1) == {}


def test_a_replay_without_children_changes_nothing(shop, make_order):
    # given
    records_upsert(resource="orders", shop=shop, records=[make_order(1, version=0, items={11: 1})])
    # when
    result = records_upsert(resource="orders", shop=shop, records=[make_order(1, version=0, line_items=None)])
    # then
    assert result == UpsertResult(unchanged=1)
    assert _items(1) == {11: 1}


def test_a_new_order_without_its_line_items_is_created_without_children(shop, make_order):
    # when
    result = records_upsert(resource="orders", shop=shop, records=[make_order(1, line_items=None)])
    # then
    assert result == UpsertResult(created=1)
    assert _items(1) == {}


def test_a_product_whose_payload_lacks_its_variants_keeps_the_stored_ones(shop, make_product):
    # given
    records_upsert(resource="products", shop=shop, records=[make_product(1, version=0, variants=[11, 12])])
    partial = make_product(1, version=1)
    partial.variants = None
    # when
    result = records_upsert(resource="products", shop=shop, records=[partial])
    # then
    assert result == UpsertResult(updated=1)
    variants = ProductVariant.objects.filter(product__shopify_id=1).order_by("shopify_id")
    assert list(variants.values_list("shopify_id", flat=True)) == [11, 12]
    assert Product.objects.get(shopify_id=1).title == "Product v1"


def test_an_unchanged_order_whose_line_items_changed_counts_as_updated(shop, make_order):
    # given: same version and columns, but a line item the first write did not have (a late child)
    records_upsert(resource="orders", shop=shop, records=[make_order(1, version=0, items={11: 1})])
    # when
    result = records_upsert(
        resource="orders", shop=shop, records=[make_order(1, version=0, items={11: 1, 12: 1})]
    )
    # then
    assert result == UpsertResult(updated=1)
    assert _items(1) == {11: 1, 12: 1}


def test_a_same_version_resync_repairs_wrong_children_of_an_otherwise_unchanged_parent(shop, make_product):
    # given: the stored product is at the incoming version with the same columns, but its variants
    # are wrong: one has a stale price, one Shopify no longer has, one is missing
    records_upsert(resource="products", shop=shop, records=[make_product(1, version=4, variants=[11, 12])])
    ProductVariant.objects.filter(shopify_id=11).update(price="99.00", sku="WRONG")
    synced_before = Product.objects.get(shopify_id=1).synced_at
    resync = make_product(1, version=4, variants=[11, 13])
    # when
    result = records_upsert(resource="products", shop=shop, records=[resync, make_product(2, version=4)])
    replay = records_upsert(
        resource="products", shop=shop, records=[make_product(1, version=4, variants=[11, 13])]
    )
    # then
    assert result == UpsertResult(created=1, updated=1)
    assert replay == UpsertResult(unchanged=1)
    variants = ProductVariant.objects.filter(product__shopify_id=1).order_by("shopify_id")
    assert list(variants.values_list("shopify_id", "price", "sku", "position")) == [
        (11, 3, None, 1),
        (13, 3, None, 2),
    ]
    assert Product.objects.get(shopify_id=1).synced_at > synced_before


def test_an_older_version_leaves_wrong_children_alone(shop, make_order):
    # given
    records_upsert(resource="orders", shop=shop, records=[make_order(1, version=4, items={11: 1})])
    LineItem.objects.filter(shopify_id=11).update(quantity=9)
    # when
    result = records_upsert(
        resource="orders", shop=shop, records=[make_order(1, version=3, items={11: 1, 12: 1})]
    )
    # then
    assert result == UpsertResult(skipped_stale=1)
    assert _items(1) == {11: 9}


def test_a_line_item_can_move_to_another_order(shop, make_order):
    # given
    records_upsert(
        resource="orders", shop=shop, records=[make_order(1, items={11: 1}), make_order(2, items={21: 1})]
    )
    # when: 11 now belongs to order 2 (an order edit split), order 1 is newer too
    moved = [make_order(1, version=1, items={}), make_order(2, version=1, items={21: 1, 11: 4})]
    result = records_upsert(resource="orders", shop=shop, records=moved)
    # then
    assert result == UpsertResult(updated=2)
    assert _items(1) == {}
    assert _items(2) == {11: 4, 21: 1}


def test_locally_owned_customer_fields_survive_updates(shop, make_customer):
    # given
    records_upsert(resource="customers", shop=shop, records=[make_customer(1, version=0)])
    Customer.objects.filter(shopify_id=1).update(
        local_notes="call first", local_tags=["crm"], local_attributes={"tier": "gold"}
    )
    # when
    records_upsert(resource="customers", shop=shop, records=[make_customer(1, version=1)])
    # then
    customer = Customer.objects.get(shopify_id=1)
    assert customer.first_name == "v1"
    assert (customer.local_notes, customer.local_tags, customer.local_attributes) == (
        "call first",
        ["crm"],
        {"tier": "gold"},
    )


def test_populate_inserts_new_records_and_skips_existing_ones(shop, make_order):
    # given
    records_upsert(resource="orders", shop=shop, records=[make_order(1, version=0, items={11: 1})])
    # when: even a newer version of an existing record is left alone
    batch = [make_order(1, version=9, items={11: 9}), make_order(2, items={21: 2})]
    result = records_upsert(resource="orders", shop=shop, records=batch, mode=UpsertMode.POPULATE)
    # then
    assert result == UpsertResult(created=1, skipped_existing=1)
    assert Order.objects.get(shopify_id=1).shopify_updated_at == at(0)
    assert _items(1) == {11: 1}
    assert _items(2) == {21: 2}


def test_soft_delete_keeps_a_tombstone_and_blocks_older_payloads(shop, make_order):
    # given
    records_upsert(resource="orders", shop=shop, records=[make_order(1, version=0, items={11: 1})])
    # when
    deleted = records_soft_delete(shop=shop, resource=Resource.ORDERS, shopify_ids=[1], deleted_at=at(10))
    replay = records_upsert(resource="orders", shop=shop, records=[make_order(1, version=10, name="ghost")])
    # then
    assert deleted == 1
    assert replay == UpsertResult(skipped_stale=1)
    order = Order.objects.get(shopify_id=1)
    assert (order.deleted_at, order.name) == (at(10), "#1")
    assert _items(1) == {11: 1}


def test_a_delete_before_the_create_blocks_the_late_create(shop, make_product):
    # given: products/delete arrives before products/create
    deleted = records_soft_delete(shop=shop, resource="products", shopify_ids=[7, 7], deleted_at=at(5))
    # when
    result = records_upsert(resource="products", shop=shop, records=[make_product(7, version=1)])
    # then
    assert deleted == 1
    assert result == UpsertResult(skipped_stale=1)
    tombstone = Product.objects.get(shop=shop, shopify_id=7)
    assert (tombstone.deleted_at, tombstone.title, tombstone.shopify_updated_at) == (at(5), None, None)
    assert not ProductVariant.objects.exists()


def test_a_strictly_newer_payload_revives_a_deleted_record(shop, make_customer):
    # given
    records_upsert(resource="customers", shop=shop, records=[make_customer(1, version=0)])
    records_soft_delete(shop=shop, resource=Resource.CUSTOMERS, shopify_ids=[1], deleted_at=at(5))
    # when
    result = records_upsert(resource="customers", shop=shop, records=[make_customer(1, version=6)])
    # then
    assert result == UpsertResult(updated=1)
    customer = Customer.objects.get(shopify_id=1)
    assert (customer.deleted_at, customer.first_name) == (None, "v6")


def test_a_replayed_delete_changes_nothing_and_the_first_deletion_sticks(shop, make_customer):
    # given
    records_upsert(resource="customers", shop=shop, records=[make_customer(1, version=0)])
    records_soft_delete(shop=shop, resource=Resource.CUSTOMERS, shopify_ids=[1], deleted_at=at(5))
    # when
    again = records_soft_delete(shop=shop, resource=Resource.CUSTOMERS, shopify_ids=[1], deleted_at=at(8))
    # then
    assert again == 0
    assert Customer.objects.get(shopify_id=1).deleted_at == at(5)


def test_a_delete_stamped_before_the_stored_version_still_applies_and_that_version_cannot_revive_it(
    shop, make_customer
):
    # given: the delete's clock is behind the record's last update (deletes are terminal in Shopify)
    records_upsert(resource="customers", shop=shop, records=[make_customer(1, version=10)])
    # when
    deleted = records_soft_delete(shop=shop, resource=Resource.CUSTOMERS, shopify_ids=[1], deleted_at=at(5))
    replayed = records_upsert(resource="customers", shop=shop, records=[make_customer(1, version=10)])
    # then
    assert deleted == 1
    assert Customer.objects.get(shopify_id=1).deleted_at == at(10)
    assert replayed.updated == 0 and replayed.created == 0


def test_orders_created_before_the_cutover_are_historical(shop, make_order):
    # given
    shop.cutover_at = T0 + timedelta(days=1)
    shop.save()
    batch = [
        make_order(1, shopify_created_at=T0),
        make_order(2, shopify_created_at=T0 + timedelta(days=2)),
        make_order(3, shopify_created_at=None),
    ]
    # when
    records_upsert(resource="orders", shop=shop, records=batch)
    # then
    assert dict(Order.objects.values_list("shopify_id", "is_historical")) == {1: True, 2: False, 3: False}


def test_a_winning_product_replaces_its_variants_and_a_losing_one_does_not(shop, make_product):
    # given
    records_upsert(resource="products", shop=shop, records=[make_product(1, version=2, variants=[11, 12])])
    # when
    stale = records_upsert(
        resource="products", shop=shop, records=[make_product(1, version=1, variants=[13])]
    )
    newer = records_upsert(
        resource="products", shop=shop, records=[make_product(1, version=3, variants=[12, 14])]
    )
    # then
    assert (stale, newer) == (UpsertResult(skipped_stale=1), UpsertResult(updated=1))
    variants = ProductVariant.objects.filter(product__shopify_id=1).order_by("shopify_id")
    assert list(variants.values_list("shopify_id", "position")) == [(12, 1), (14, 2)]


def test_records_upsert_counts_a_mixed_batch(shop, make_customer):
    # given
    records_upsert(
        resource="customers",
        shop=shop,
        records=[make_customer(1, version=5), make_customer(2), make_customer(3)],
    )
    batch = [
        make_customer(1, version=4),  # stale
        make_customer(2),  # replay
        make_customer(3, version=1),  # newer
        make_customer(4),  # new
    ]
    # when
    result = records_upsert(
        shop=shop, resource=Resource.CUSTOMERS, records=batch, mode=UpsertMode.LATEST_WINS
    )
    # then
    assert result == UpsertResult(created=1, updated=1, skipped_stale=1, unchanged=1)
    assert result + UpsertResult(created=2) == UpsertResult(
        created=3, updated=1, skipped_stale=1, unchanged=1
    )


def test_writes_are_scoped_to_the_shop(shop, make_customer):
    # given
    from tests.factories import ShopFactory

    other = ShopFactory()
    records_upsert(resource="customers", shop=other, records=[make_customer(1, version=9)])
    # when
    result = records_upsert(resource="customers", shop=shop, records=[make_customer(1, version=1)])
    # then
    assert result == UpsertResult(created=1)
    assert Customer.objects.filter(shopify_id=1).count() == 2


def test_the_write_joins_the_callers_transaction(shop, make_customer):
    # given
    class Abort(Exception):
        pass

    # when
    with pytest.raises(Abort), transaction.atomic():
        records_upsert(resource="customers", shop=shop, records=[make_customer(1)])
        raise Abort
    # then
    assert not Customer.objects.exists()
