"""The write path for a collection's members (keyed per collection: a product is in many) and for a
product's images (numbered in list order)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shopsync.models import CollectionProduct, ProductMedia
from shopsync.payloads.catalogue import CollectionProductRecord, CollectionRecord
from shopsync.payloads.records import ProductMediaRecord, ProductRecord
from shopsync.services.upsert import records_upsert

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
T0 = datetime(2025, 2, 1, tzinfo=UTC)


def _collection(shopify_id: int, members: list[int] | None, *, at: datetime = T0) -> CollectionRecord:
    listed = None if members is None else [CollectionProductRecord(i) for i in members]
    return CollectionRecord(shopify_id, None, at, title=f"C{shopify_id}", kind="custom", members=listed)


def _members(shop) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for collection_id, product_id in CollectionProduct.objects.filter(shop=shop).values_list(
        "collection__shopify_id", "shopify_id"
    ):
        found.setdefault(collection_id, []).append(product_id)
    return {key: sorted(value) for key, value in found.items()}


def test_one_product_in_two_collections_is_a_member_of_both(shop):
    # when
    records_upsert(shop=shop, resource="collections", records=[_collection(1, [7, 8]), _collection(2, [7])])
    # then
    assert _members(shop) == {1: [7, 8], 2: [7]}


def test_a_product_leaving_a_collection_is_removed_even_when_the_collection_did_not_move(shop):
    # given
    records_upsert(shop=shop, resource="collections", records=[_collection(1, [7, 8]), _collection(2, [7])])
    # when: the same version read again (membership does not move updatedAt, contract §8.8)
    result = records_upsert(shop=shop, resource="collections", records=[_collection(1, [8])])
    # then
    assert _members(shop) == {1: [8], 2: [7]}
    assert result.updated == 1


def test_an_older_read_and_a_webhook_body_leave_the_members_alone(shop):
    # given
    records_upsert(shop=shop, resource="collections", records=[_collection(1, [7, 8])])
    # when: an older version, then a REST body (no members: "not given")
    records_upsert(
        shop=shop, resource="collections", records=[_collection(1, [9], at=T0 - timedelta(hours=1))]
    )
    records_upsert(
        shop=shop, resource="collections", records=[_collection(1, None, at=T0 + timedelta(hours=1))]
    )
    # then
    assert _members(shop) == {1: [7, 8]}


def test_product_images_are_numbered_in_the_products_order_and_replaced_with_it(shop):
    # given
    def product(at: datetime, images: list[int]) -> ProductRecord:
        return ProductRecord(7, None, at, title="Mug", variants=[], options=[],
                             media=[ProductMediaRecord(i, url=f"u{i}") for i in images])  # fmt: skip

    records_upsert(shop=shop, resource="products", records=[product(T0, [703, 701, 702])])
    # when: one removed and the rest reordered
    records_upsert(shop=shop, resource="products", records=[product(T0 + timedelta(minutes=1), [702, 703])])
    # then
    assert list(
        ProductMedia.objects.filter(shop=shop).order_by("position").values_list("shopify_id", "position")
    ) == [
        (702, 1),
        (703, 2),
    ]
