"""`locations/*` and `inventory_levels/*` applied through the write path: levels batched, last write
wins per (item, location) on the level's `updated_at`, a level of an unknown location is not lost."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from shopsync.models import InventoryLevel, Location
from tests.factories import ProductVariantFactory
from tests.webhooks.factories import BASE_TIME, WebhookLogFactory
from webhooks.models import WebhookLog
from webhooks.services import processing
from webhooks.services.processing import webhook_log_process, webhook_logs_process

LOCATION_ID, ITEM_ID = 76_000_000_001, 1_000_000_000_123


def _log(shop, topic, payload, *, minutes=0):
    return WebhookLogFactory(
        shop=shop, topic=topic, body=orjson.dumps(payload), shopify_id=payload.get("id"),
        triggered_at=BASE_TIME + timedelta(minutes=minutes),
    )  # fmt: skip


def _apply(shop, topic, payload, *, minutes=0):
    log = _log(shop, topic, payload, minutes=minutes)
    webhook_log_process(webhook_log_id=log.id)
    log.refresh_from_db()
    return log


def _location_body(**fields):
    return {"id": LOCATION_ID, "name": "Main warehouse", "active": True, "legacy": False,
            "address1": "1 Main St", "city": "Ottawa", "province_code": "ON", "country_code": "CA",
            "zip": "K1A0B1", "created_at": "2025-01-01T10:00:00Z", "updated_at": "2025-01-01T10:00:00Z",
            **fields}  # fmt: skip


def _level_body(available, updated_at, *, item=ITEM_ID, location=LOCATION_ID):
    return {"inventory_item_id": item, "location_id": location, "available": available,
            "updated_at": updated_at,
            "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location}?inventory_item_id={item}"}  # fmt: skip


@pytest.fixture
def location(shop):
    _apply(shop, "locations/create", _location_body())
    return Location.objects.get(shop=shop, shopify_id=LOCATION_ID)


def test_a_location_update_writes_it_and_keeps_its_levels(shop, location):
    # given
    InventoryLevel.objects.create(shop=shop, location=location, shopify_id=ITEM_ID, available=3, on_hand=4)
    # when
    log = _apply(shop, "locations/deactivate",
                 _location_body(active=False, updated_at="2025-01-02T10:00:00Z"), minutes=1)  # fmt: skip
    # then
    location.refresh_from_db()
    assert log.status == WebhookLog.Status.PROCESSED
    assert (location.is_active, location.city, location.country_code) == (False, "Ottawa", "CA")
    assert list(location.levels.values_list("shopify_id", "available", "on_hand")) == [(ITEM_ID, 3, 4)]


def test_level_updates_in_one_batch_keep_the_newest_and_the_other_quantities(shop, location):
    # given: a level read from GraphQL with all its quantities
    InventoryLevel.objects.create(shop=shop, location=location, shopify_id=ITEM_ID, available=3, on_hand=5,
                                  committed=2, incoming=0, shopify_updated_at=BASE_TIME)  # fmt: skip
    logs = [
        _log(shop, "inventory_levels/update", _level_body(7, "2025-01-01T12:00:00Z")),
        _log(shop, "inventory_levels/update", _level_body(9, "2025-01-01T13:00:00Z")),
        # out of order: older than the one before it
        _log(shop, "inventory_levels/update", _level_body(1, "2025-01-01T11:00:00Z")),
        _log(shop, "inventory_levels/connect", _level_body(0, "2025-01-01T12:00:00Z", item=ITEM_ID + 1)),
    ]
    # when
    webhook_logs_process(webhook_log_ids=[log.id for log in logs])
    # then
    assert {log.status for log in WebhookLog.objects.filter(pk__in=[log.id for log in logs])} == {
        WebhookLog.Status.PROCESSED
    }
    levels = location.levels.order_by("shopify_id").values_list(
        "shopify_id", "available", "on_hand", "committed"
    )
    assert list(levels) == [(ITEM_ID, 9, 5, 2), (ITEM_ID + 1, 0, None, None)]


def test_an_older_level_update_never_replaces_a_newer_one(shop, location):
    # given
    _apply(shop, "inventory_levels/update", _level_body(9, "2025-01-01T13:00:00Z"))
    # when
    log = _apply(shop, "inventory_levels/update", _level_body(1, "2025-01-01T11:00:00Z"), minutes=1)
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    assert InventoryLevel.objects.get(shop=shop, shopify_id=ITEM_ID).available == 9


def test_an_untracked_items_null_available_keeps_the_stored_one(shop, location):
    # given
    _apply(shop, "inventory_levels/update", _level_body(4, "2025-01-01T12:00:00Z"))
    # when
    _apply(shop, "inventory_levels/update", _level_body(None, "2025-01-01T13:00:00Z"), minutes=1)
    # then
    level = InventoryLevel.objects.get(shop=shop, shopify_id=ITEM_ID)
    assert (level.available, level.shopify_updated_at.hour) == (4, 13)


def test_a_level_of_an_unknown_location_fetches_the_location(shop, monkeypatch):
    # given: no location stored; Shopify has it, with this level
    fetched = []

    def fetch(delivery, declaration, parent_id):
        fetched.append(parent_id)
        _apply(shop, "locations/create", _location_body())
        processing.child_records_upsert(shop=shop, resource="locations", child="levels",
                                        records_by_parent={parent_id: [declaration.children[0].parse_rest(
                                            _level_body(6, "2025-01-01T12:00:00Z"))]})  # fmt: skip

    monkeypatch.setattr(processing, "_parent_fetch", fetch)
    # when
    log = _apply(shop, "inventory_levels/update", _level_body(6, "2025-01-01T12:00:00Z"))
    # then: not lost, not a crash
    assert log.status == WebhookLog.Status.PROCESSED
    assert fetched == [LOCATION_ID]
    assert InventoryLevel.objects.get(shop=shop, shopify_id=ITEM_ID).available == 6


def test_a_disconnect_removes_the_level_but_not_a_newer_reconnection(shop, location):
    # given
    _apply(shop, "inventory_levels/connect", _level_body(0, "2025-01-01T12:00:00Z"))
    _apply(shop, "inventory_levels/connect", _level_body(0, "2025-01-01T12:00:00Z", item=ITEM_ID + 1))
    InventoryLevel.objects.filter(shopify_id=ITEM_ID + 1).update(
        shopify_updated_at=BASE_TIME + timedelta(days=9)
    )
    body = {"inventory_item_id": ITEM_ID, "location_id": LOCATION_ID}
    # when
    first = _apply(shop, "inventory_levels/disconnect", body, minutes=13 * 60)
    second = _apply(
        shop, "inventory_levels/disconnect", {**body, "inventory_item_id": ITEM_ID + 1}, minutes=14 * 60
    )
    # then
    assert (first.status, second.status) == (WebhookLog.Status.PROCESSED, WebhookLog.Status.PROCESSED)
    assert list(location.levels.values_list("shopify_id", flat=True)) == [ITEM_ID + 1]


def test_a_disconnect_in_the_same_second_as_the_stored_version_asks_shopify(shop, location, monkeypatch):
    # given: a level stamped 12:00:00 (whole seconds); its disconnect triggered at 12:00:00.5
    _apply(shop, "inventory_levels/connect", _level_body(0, "2025-01-01T12:00:00Z"))
    fetched = []
    monkeypatch.setattr(
        processing, "_parent_fetch", lambda delivery, declaration, parent_id: fetched.append(parent_id)
    )
    log = _log(
        shop, "inventory_levels/disconnect", {"inventory_item_id": ITEM_ID, "location_id": LOCATION_ID}
    )
    WebhookLog.objects.filter(pk=log.pk).update(
        triggered_at=BASE_TIME + timedelta(hours=12, milliseconds=500)
    )
    # when
    webhook_log_process(webhook_log_id=log.id)
    # then: which came first is Shopify's to say: the location is fetched, the level left to it
    assert fetched == [LOCATION_ID]
    assert InventoryLevel.objects.filter(shop=shop, shopify_id=ITEM_ID).exists()


def test_an_inventory_item_update_fetches_the_product_of_its_variant(shop, monkeypatch):
    # given: a stored variant holding the item
    variant = ProductVariantFactory(
        product__shop=shop, product__shopify_id=808, inventory_item_shopify_id=ITEM_ID
    )
    fetched = []
    monkeypatch.setattr(
        processing,
        "_parent_fetch",
        lambda delivery, declaration, parent_id: fetched.append((declaration.name, parent_id)),
    )
    body = {
        "id": ITEM_ID,
        "sku": "MUG-1",
        "cost": "2.50",
        "tracked": True,
        "updated_at": "2025-01-01T12:00:00Z",
    }
    # when
    log = _apply(shop, "inventory_items/update", body)
    unknown = _apply(shop, "inventory_items/update", {**body, "id": ITEM_ID + 1})
    # then: its tracking and cost come with the product (GraphQL); an item no variant holds waits for it
    assert (log.status, fetched) == (WebhookLog.Status.PROCESSED, [("products", variant.product.shopify_id)])
    assert unknown.status == WebhookLog.Status.IGNORED
