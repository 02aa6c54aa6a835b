"""Locations and the inventory levels at each, in both shapes (contract §8.9): the records, the
GraphQL selections and nodes, the REST/webhook models, the builders.

- A level's key is (inventory item, location), never its GID (contract §8.1: the GID is composite,
  its exact form [UNSURE]): the record's `shopify_id` is the inventory item's id, its parent the
  location. The level GID is selected only so the bulk reader knows a level's JSONL line.
- GraphQL gives the quantities by name (`quantities(names:)`, `names` required); we mirror the four
  the staff page shows. `inventory_levels/*` webhook bodies carry `available` only (null when the
  item is not tracked): the other quantities are "not carried" there and keep their stored values
  (`LEVEL_KEPT_WHEN_ABSENT`) until the next GraphQL read.
- A location's REST body carries no levels: the stored levels stay ("not given").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from pydantic import TypeAdapter

from shopsync.payloads.graphql import _bulk_child_line, _connected
from shopsync.payloads.rest import _Payload, _validate
from shopsync.payloads.types import (
    ShopifyId,
    Title,
    UtcDatetime,
    blank_to_none,
    connection,
    gid,
    gid_to_int,
    reference_id,
    text,
    to_utc,
)

LocationGid = gid("Location")
InventoryItemGid = gid("InventoryItem")
Code = text(16)
# The quantity names mirrored (contract §8.9: Shopify's names; on_hand = available + committed +
# the unavailable states).
QUANTITY_NAMES = ("available", "on_hand", "committed", "incoming")
# Level columns a webhook body does not carry (an incoming NULL keeps the stored value).
LEVEL_KEPT_WHEN_ABSENT = ("available", "on_hand", "committed", "incoming")

# -- records -------------------------------------------------------------------------------------------


@dataclass(slots=True)
class InventoryLevelRecord:
    """One item's quantities at one location: `shopify_id` is the inventory item's id."""

    shopify_id: int
    shopify_updated_at: datetime | None
    available: int | None = None
    on_hand: int | None = None
    committed: int | None = None
    incoming: int | None = None


@dataclass(slots=True)
class LocationRecord:
    shopify_id: int
    shopify_created_at: datetime | None
    shopify_updated_at: datetime
    name: str | None = None
    is_active: bool | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    country_code: str | None = None
    zip: str | None = None
    phone: str | None = None
    # `Location.inventoryLevels` (a connection).
    levels: list[InventoryLevelRecord] | None = None


# -- GraphQL -------------------------------------------------------------------------------------------

LOCATION_FIELDS = """
id
name
isActive
createdAt
updatedAt
address { address1 address2 city province provinceCode countryCode zip phone }
""".strip()

INVENTORY_LEVEL_FIELDS = (
    "id updatedAt item { id } quantities(names: [" + ", ".join(f'"{n}"' for n in QUANTITY_NAMES) + "]) "
    "{ name quantity }"
)


class LocationAddressNode(TypedDict):
    address1: NotRequired[text(255) | None]
    address2: NotRequired[text(255) | None]
    city: NotRequired[text(255) | None]
    province: NotRequired[text(255) | None]
    provinceCode: NotRequired[Code | None]
    countryCode: NotRequired[Code | None]
    zip: NotRequired[text(64) | None]
    phone: NotRequired[text(64) | None]


class QuantityNode(TypedDict):
    name: text(64)
    quantity: int


class InventoryItemRef(TypedDict):
    id: InventoryItemGid


class InventoryLevelNode(TypedDict):
    # Composite and [UNSURE] in form (contract §8.1): not checked, not used as a key.
    id: NotRequired[str]
    updatedAt: UtcDatetime
    item: InventoryItemRef
    quantities: list[QuantityNode]


InventoryLevelConnection = connection(InventoryLevelNode, "InventoryLevelConnection")


class LocationNode(TypedDict):
    id: LocationGid
    updatedAt: UtcDatetime
    createdAt: NotRequired[UtcDatetime | None]
    name: NotRequired[Title | None]
    isActive: NotRequired[bool | None]
    address: NotRequired[LocationAddressNode | None]
    inventoryLevels: NotRequired[InventoryLevelConnection | None]  # type: ignore[valid-type]


InventoryLevelLine = _bulk_child_line(InventoryLevelNode, "InventoryLevelLine", LocationGid)

LOCATION = TypeAdapter(LocationNode)
INVENTORY_LEVEL = TypeAdapter(InventoryLevelNode)
INVENTORY_LEVEL_LINE = TypeAdapter(InventoryLevelLine)


def inventory_level_record(node: InventoryLevelNode) -> InventoryLevelRecord:
    quantities = {quantity["name"]: quantity["quantity"] for quantity in node["quantities"]}
    return InventoryLevelRecord(
        shopify_id=reference_id(node["item"]["id"]),
        shopify_updated_at=to_utc(node["updatedAt"]),
        available=quantities.get("available"),
        on_hand=quantities.get("on_hand"),
        committed=quantities.get("committed"),
        incoming=quantities.get("incoming"),
    )


def location_record(node: LocationNode) -> LocationRecord:
    get = node.get
    address = get("address") or {}
    return LocationRecord(
        shopify_id=gid_to_int(node["id"]),
        shopify_created_at=to_utc(get("createdAt")),
        shopify_updated_at=to_utc(node["updatedAt"]),
        name=blank_to_none(get("name")),
        is_active=get("isActive"),
        address1=blank_to_none(address.get("address1")),
        address2=blank_to_none(address.get("address2")),
        city=blank_to_none(address.get("city")),
        province=blank_to_none(address.get("province")),
        province_code=blank_to_none(address.get("provinceCode")),
        country_code=blank_to_none(address.get("countryCode")),
        zip=blank_to_none(address.get("zip")),
        phone=blank_to_none(address.get("phone")),
        levels=_connected(get("inventoryLevels"), inventory_level_record),
    )


# -- REST / webhooks -------------------------------------------------------------------------------------


class RestLocation(_Payload):
    id: ShopifyId
    updated_at: UtcDatetime
    created_at: UtcDatetime | None = None
    name: Title | None = None
    active: bool | None = None
    address1: text(255) | None = None
    address2: text(255) | None = None
    city: text(255) | None = None
    province: text(255) | None = None
    province_code: Code | None = None
    country_code: Code | None = None
    zip: text(64) | None = None
    phone: text(64) | None = None

    def to_record(self) -> LocationRecord:
        return LocationRecord(
            shopify_id=self.id,
            shopify_created_at=to_utc(self.created_at),
            shopify_updated_at=to_utc(self.updated_at),
            name=blank_to_none(self.name),
            is_active=self.active,
            address1=blank_to_none(self.address1),
            address2=blank_to_none(self.address2),
            city=blank_to_none(self.city),
            province=blank_to_none(self.province),
            province_code=blank_to_none(self.province_code),
            country_code=blank_to_none(self.country_code),
            zip=blank_to_none(self.zip),
            phone=blank_to_none(self.phone),
            # No levels in a REST/webhook location: the stored ones stay.
            levels=None,
        )


class RestInventoryLevel(_Payload):
    """`inventory_levels/update|connect` (contract §8.9): `available` only, null when untracked."""

    inventory_item_id: ShopifyId
    location_id: ShopifyId
    updated_at: UtcDatetime
    available: int | None = None

    def to_record(self) -> InventoryLevelRecord:
        return InventoryLevelRecord(
            shopify_id=self.inventory_item_id,
            shopify_updated_at=to_utc(self.updated_at),
            available=self.available,
        )


class RestLevelKey(_Payload):
    """`inventory_levels/disconnect`: which level goes."""

    inventory_item_id: ShopifyId
    location_id: ShopifyId


def parse_location_rest(payload: Any) -> LocationRecord:
    return _validate(RestLocation, payload, resource="location").to_record()


def parse_inventory_level_rest(payload: Any) -> InventoryLevelRecord:
    return _validate(RestInventoryLevel, payload, resource="inventory level").to_record()


def level_location_id(payload: Any) -> int:
    """The location (the level's parent) of a level body; raises PayloadValidationError."""
    return _validate(RestLevelKey, payload, resource="inventory level").location_id


def level_key(payload: Any) -> tuple[int, int]:
    """(inventory item id, location id) of a level body; raises PayloadValidationError."""
    key = _validate(RestLevelKey, payload, resource="inventory level")
    return key.inventory_item_id, key.location_id
