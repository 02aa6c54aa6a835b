"""REST / webhook shapes of the catalogue (contract §8.8, §8.9): collections, collects, locations,
inventory levels and inventory items. Timestamps in the shop's offset, as the other REST renderers."""

from __future__ import annotations

from typing import Any

from shopify_sim.gid import gid
from shopify_sim.store.catalogue import INVENTORY_ITEM_OFFSET
from shopify_sim.timeutil import iso_offset

SORT_ORDER_ENUM = {
    "manual": "MANUAL",
    "best-selling": "BEST_SELLING",
    "alpha-asc": "ALPHA_ASC",
    "alpha-desc": "ALPHA_DESC",
    "created": "CREATED",
    "created-desc": "CREATED_DESC",
    "price-asc": "PRICE_ASC",
    "price-desc": "PRICE_DESC",
}


def level_gid(item_id: int, location_id: int) -> str:
    """[UNSURE exact form, contract §8.1] the location's number with the item as a query parameter."""
    return f"{gid('InventoryLevel', location_id)}?inventory_item_id={item_id}"


def collection(record: dict[str, Any], offset: int) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "id": record["id"],
        "handle": record["handle"],
        "title": record["title"],
        "updated_at": iso_offset(record["updated_at"], offset),
        "body_html": record["body_html"],
        "published_at": iso_offset(record["published_at"], offset),
        "sort_order": record["sort_order"],
        "template_suffix": record["template_suffix"],
        "published_scope": record["published_scope"],
        "admin_graphql_api_id": gid("Collection", record["id"]),
    }
    if record["kind"] == "smart":
        rendered["disjunctive"] = record["disjunctive"]
        rendered["rules"] = [dict(rule) for rule in record["rules"] or []]
    image = record.get("image")
    if image:
        rendered["image"] = {
            "created_at": iso_offset(image["created_at"], offset),
            "alt": image["alt"],
            "width": image["width"],
            "height": image["height"],
            "src": image["src"],
        }
    return rendered


def collect(row: dict[str, Any], offset: int) -> dict[str, Any]:
    return {
        "id": row["id"],
        "collection_id": row["collection_id"],
        "product_id": row["product_id"],
        "created_at": iso_offset(row["created_at"], offset),
        "updated_at": iso_offset(row["updated_at"], offset),
        "position": row["position"],
        "sort_value": f"{row['position']:010d}",
    }


def location(record: dict[str, Any], offset: int) -> dict[str, Any]:
    return {
        "id": record["id"],
        "name": record["name"],
        "address1": record["address1"],
        "address2": record["address2"],
        "city": record["city"],
        "zip": record["zip"],
        "province": record["province"],
        "country": record["country_code"],
        "phone": record["phone"],
        "created_at": iso_offset(record["created_at"], offset),
        "updated_at": iso_offset(record["updated_at"], offset),
        "country_code": record["country_code"],
        "country_name": record["country"],
        "province_code": record["province_code"],
        "legacy": record["legacy"],
        "active": record["active"],
        "admin_graphql_api_id": gid("Location", record["id"]),
        "localized_country_name": record["country"],
        "localized_province_name": record["province"],
    }


def inventory_level(level: dict[str, Any], offset: int, tracked: bool = True) -> dict[str, Any]:
    """The webhook/REST level carries only `available` (null when the item is not tracked)."""
    return {
        "inventory_item_id": level["inventory_item_id"],
        "location_id": level["location_id"],
        "available": level["available"] if tracked else None,
        "updated_at": iso_offset(level["updated_at"], offset),
        "admin_graphql_api_id": level_gid(level["inventory_item_id"], level["location_id"]),
    }


def inventory_item(variant: dict[str, Any], offset: int) -> dict[str, Any]:
    item_id = variant["id"] + INVENTORY_ITEM_OFFSET
    return {
        "id": item_id,
        "sku": variant["sku"] or "",
        "created_at": iso_offset(variant["created_at"], offset),
        "updated_at": iso_offset(variant["updated_at"], offset),
        "requires_shipping": variant["requires_shipping"],
        "cost": None,
        "country_code_of_origin": None,
        "province_code_of_origin": None,
        "harmonized_system_code": None,
        "tracked": variant["inventory_management"] == "shopify",
        "country_harmonized_system_codes": [],
        "admin_graphql_api_id": gid("InventoryItem", item_id),
    }
