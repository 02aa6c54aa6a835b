"""Locations and inventory levels in both shapes (contract §8.9): a level keyed by its item, never
its composite GID; a webhook level carries `available` only."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from shopsync.payloads.errors import PayloadValidationError
from shopsync.payloads.inventory import (
    LOCATION,
    InventoryLevelRecord,
    level_key,
    location_record,
    parse_inventory_level_rest,
    parse_location_rest,
)

AT = datetime(2025, 1, 1, 12, tzinfo=UTC)


def test_a_graphql_location_brings_its_levels_with_every_quantity():
    # given
    node = LOCATION.validate_python({
        "id": "gid://shopify/Location/5", "name": "Main", "isActive": False,
        "createdAt": "2024-12-01T00:00:00Z", "updatedAt": "2025-01-01T12:00:00Z",
        "address": {"city": "Ottawa", "provinceCode": "ON", "countryCode": "CA", "address2": ""},
        "inventoryLevels": {"nodes": [{
            "id": "gid://shopify/InventoryLevel/5?inventory_item_id=77", "updatedAt": "2025-01-01T12:00:00Z",
            "item": {"id": "gid://shopify/InventoryItem/77"},
            "quantities": [{"name": "available", "quantity": 3}, {"name": "on_hand", "quantity": 5},
                           {"name": "committed", "quantity": 2}, {"name": "incoming", "quantity": 0}],
        }]},
    })  # fmt: skip
    # when
    record = location_record(node)
    # then
    assert (record.shopify_id, record.name, record.is_active, record.city, record.address2) == (
        5, "Main", False, "Ottawa", None,
    )  # fmt: skip
    assert record.levels == [InventoryLevelRecord(77, AT, available=3, on_hand=5, committed=2, incoming=0)]


def test_a_rest_location_leaves_the_levels_not_given():
    # when
    record = parse_location_rest(orjson.dumps({
        "id": 5, "name": "Main", "active": True, "country_code": "CA", "updated_at": "2025-01-01T07:00:00-05:00",
    }))  # fmt: skip
    # then
    assert (record.is_active, record.country_code, record.shopify_updated_at) == (True, "CA", AT)
    assert record.levels is None


def test_a_level_webhook_carries_available_only_and_null_when_untracked():
    # when
    tracked = parse_inventory_level_rest({"inventory_item_id": 77, "location_id": 5, "available": 4,
                                          "updated_at": "2025-01-01T12:00:00Z"})  # fmt: skip
    untracked = parse_inventory_level_rest({"inventory_item_id": 77, "location_id": 5, "available": None,
                                            "updated_at": "2025-01-01T12:00:00Z"})  # fmt: skip
    # then
    assert tracked == InventoryLevelRecord(77, AT, available=4)
    assert untracked == InventoryLevelRecord(77, AT)
    assert level_key({"inventory_item_id": 77, "location_id": 5}) == (77, 5)


def test_a_level_body_without_its_item_is_a_payload_error():
    # when / then
    with pytest.raises(PayloadValidationError):
        parse_inventory_level_rest({"location_id": 5, "available": 1, "updated_at": "2025-01-01T12:00:00Z"})
