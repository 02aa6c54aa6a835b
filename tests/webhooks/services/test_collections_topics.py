"""`collections/create|update|delete` applied through the write path; a product body brings its images."""

from __future__ import annotations

from datetime import timedelta

import orjson

from shopsync.models import Collection, CollectionProduct, ProductMedia, ProductVariant
from tests.webhooks.factories import BASE_TIME, WebhookLogFactory
from webhooks.models import WebhookLog
from webhooks.services.processing import webhook_log_process


def _apply(shop, topic, payload, *, minutes=0):
    log = WebhookLogFactory(
        shop=shop, topic=topic, body=orjson.dumps(payload), shopify_id=payload["id"],
        triggered_at=BASE_TIME + timedelta(minutes=minutes),
    )  # fmt: skip
    webhook_log_process(webhook_log_id=log.id)
    log.refresh_from_db()
    return log


def _collection_body(**fields):
    return {"id": 41, "title": "Sale", "handle": "sale", "updated_at": "2025-01-01T10:00:00Z",
            "sort_order": "manual", "published_scope": "web", **fields}  # fmt: skip


def test_a_collection_update_writes_it_and_keeps_its_members(shop):
    # given: a stored collection with one member
    _apply(shop, "collections/create", _collection_body())
    collection = Collection.objects.get(shop=shop, shopify_id=41)
    CollectionProduct.objects.create(shop=shop, collection=collection, shopify_id=7)
    # when: a smart collection's update (its body carries no members)
    log = _apply(shop, "collections/update", _collection_body(
        title="Big sale", updated_at="2025-01-01T11:00:00Z", disjunctive=False,
        rules=[{"column": "tag", "relation": "equals", "condition": "sale"}],
    ), minutes=1)  # fmt: skip
    # then
    collection.refresh_from_db()
    assert log.status == WebhookLog.Status.PROCESSED
    assert (collection.title, collection.kind, collection.disjunctive) == ("Big sale", "smart", False)
    assert list(collection.members.values_list("shopify_id", flat=True)) == [7]


def test_a_collection_delete_leaves_a_tombstone(shop):
    # given
    _apply(shop, "collections/create", _collection_body())
    # when
    log = _apply(shop, "collections/delete", {"id": 41, "published_scope": "web"}, minutes=5)
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    assert Collection.objects.get(shop=shop, shopify_id=41).deleted_at is not None


def test_a_product_update_brings_its_images_and_which_variant_shows_one(shop):
    # when
    _apply(shop, "products/update", {
        "id": 7, "title": "Mug", "updated_at": "2025-01-01T10:00:00Z",
        "variants": [{"id": 71, "image_id": 702}, {"id": 72, "image_id": None}],
        "images": [{"id": 702, "position": 1, "src": "https://cdn.example/702.jpg", "alt": "Side"},
                   {"id": 701, "position": 2, "src": "https://cdn.example/701.jpg", "alt": None}],
    })  # fmt: skip
    # then
    images = ProductMedia.objects.filter(shop=shop).order_by("position")
    assert list(images.values_list("shopify_id", "position", "alt")) == [(702, 1, "Side"), (701, 2, None)]
    assert dict(ProductVariant.objects.filter(shop=shop).values_list("shopify_id", "image_shopify_id")) == {
        71: 702, 72: None,
    }  # fmt: skip
