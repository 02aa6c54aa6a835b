"""GraphQL over the catalogue (store/catalogue.py): Collection (membership in both directions),
Location, InventoryLevel (`quantities(names:)`), and InventoryItem's levels; the root fields and
`node(id:)` lookups of these types. Merged over `fields.FIELDS` / `root.QUERY_ROOT` in schema.py.

Nothing here runs for a query (or bulk export) that does not select these fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError

from shopify_sim.admin_graphql import connections
from shopify_sim.admin_graphql.context import GraphQLContext
from shopify_sim.admin_graphql.fields import FieldFn, load, load_variant, tagged
from shopify_sim.admin_graphql.search import Filter, parse
from shopify_sim.gid import gid, parse_gid
from shopify_sim.render.catalogue import SORT_ORDER_ENUM, level_gid
from shopify_sim.store import catalogue as cat
from shopify_sim.timeutil import iso_z

COLLECTION_SCOPES = ("read_products",)
LOCATION_SCOPES = ("read_locations", "read_inventory", "read_markets_home")
INVENTORY_SCOPES = ("read_inventory", "read_products")
# Bulk roots beyond orders/customers/products: table -> scopes (any of).
BULK_ROOT_SCOPES = {"collections": COLLECTION_SCOPES, "locations": LOCATION_SCOPES}


def search(ctx: GraphQLContext, resource: str, query: str | None) -> Filter:
    try:
        return parse(resource, query, ctx.offset)
    except ValueError as error:
        raise GraphQLError(f"Invalid search query: {error}", extensions={"code": "BAD_REQUEST"}) from error


def narrow(resource: str, args: dict[str, Any], where: Filter) -> Filter:
    """Root arguments that are not search terms: `locations` hides inactive ones unless asked."""
    if resource == "locations" and not args.get("includeInactive"):
        where.add("json_extract(data, '$.active') = 1")
    return where


def by_ids(ctx: GraphQLContext, table: str, ids: list[int], typename: str) -> list[dict]:
    found = cat.blobs(ctx.store.conn(), table, ids)
    return [tagged(found[i], typename) for i in ids if i in found]


def id_page(ctx: GraphQLContext, ids: list[int], args: dict, table: str, typename: str) -> dict:
    """A connection over a list of ids (membership): positions as cursors, one read for the page."""
    page = connections.list_page(ids, args)
    found = cat.blobs(ctx.store.conn(), table, page["nodes"])
    edges = [
        {"cursor": edge["cursor"], "node": tagged(found[edge["node"]], typename)}
        for edge in page["edges"]
        if edge["node"] in found
    ]
    return {**page, "edges": edges, "nodes": [edge["node"] for edge in edges]}


def chunked(ctx: GraphQLContext, ids: list[int], table: str, typename: str) -> Iterator[dict]:
    for start in range(0, len(ids), 500):
        yield from by_ids(ctx, table, ids[start : start + 500], typename)


# -- Collection ----------------------------------------------------------------------------------------
def collection_products(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
    return id_page(ctx, cat.member_ids(ctx.store.conn(), obj["id"]), args, "products", "Product")


def collection_products_all(obj: dict, args: dict, ctx: GraphQLContext) -> Iterator[dict]:
    yield from chunked(ctx, cat.member_ids(ctx.store.conn(), obj["id"]), "products", "Product")


def collection_image(obj: dict, args: dict, ctx: GraphQLContext) -> dict | None:
    image = obj.get("image")
    if not image:
        return None
    return {
        "id": gid("CollectionImage", obj["id"]),
        "altText": image["alt"],
        "url": image["src"],
        "width": image["width"],
        "height": image["height"],
    }


def graphql_rule(rule: dict[str, str]) -> dict[str, str]:
    """GraphQL enums are upper-case (contract §8.1): REST's `tag` / `equals` are TAG / EQUALS."""
    return {
        "column": rule["column"].upper(),
        "relation": rule["relation"].upper(),
        "condition": rule["condition"],
    }


def has_product(obj: dict, args: dict, ctx: GraphQLContext) -> bool:
    parsed = parse_gid(args["id"])
    if parsed is None or parsed[0] != "Product":
        return False
    row = (
        ctx.store.conn()
        .execute("SELECT 1 FROM collects WHERE collection_id = ? AND product_id = ?", (obj["id"], parsed[1]))
        .fetchone()
    )
    return row is not None


COLLECTION: dict[str, FieldFn] = {
    "id": lambda o, a, c: gid("Collection", o["id"]),
    "legacyResourceId": lambda o, a, c: str(o["id"]),
    "handle": lambda o, a, c: o["handle"],
    "title": lambda o, a, c: o["title"],
    "description": lambda o, a, c: (o["body_html"] or "").replace("<p>", "").replace("</p>", ""),
    "descriptionHtml": lambda o, a, c: o["body_html"] or "",
    "sortOrder": lambda o, a, c: SORT_ORDER_ENUM.get(o["sort_order"], "MANUAL"),
    "templateSuffix": lambda o, a, c: o["template_suffix"],
    "updatedAt": lambda o, a, c: iso_z(o["updated_at"]),
    "image": collection_image,
    "seo": lambda o, a, c: {"title": None, "description": None},
    "ruleSet": lambda o, a, c: (
        {"appliedDisjunctively": o["disjunctive"], "rules": [graphql_rule(rule) for rule in o["rules"]]}
        if o["kind"] == "smart"
        else None
    ),
    "productsCount": lambda o, a, c: {
        "count": c.store.conn()
        .execute("SELECT COUNT(*) FROM collects WHERE collection_id = ?", (o["id"],))
        .fetchone()[0],
        "precision": "EXACT",
    },
    "products": collection_products,
    "hasProduct": has_product,
}


def product_collections(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
    ctx.require_any(COLLECTION_SCOPES, "collections")
    return id_page(ctx, cat.collection_ids_of(ctx.store.conn(), obj["id"]), args, "collections", "Collection")


def product_collections_all(obj: dict, args: dict, ctx: GraphQLContext) -> Iterator[dict]:
    yield from chunked(ctx, cat.collection_ids_of(ctx.store.conn(), obj["id"]), "collections", "Collection")


# -- Location ------------------------------------------------------------------------------------------
def location_address(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
    area = " ".join(p for p in (obj["city"], obj["province_code"], obj["zip"]) if p)
    return {
        "address1": obj["address1"],
        "address2": obj["address2"],
        "city": obj["city"],
        "province": obj["province"],
        "provinceCode": obj["province_code"],
        "country": obj["country"],
        "countryCode": obj["country_code"],
        "zip": obj["zip"],
        "phone": obj["phone"],
        "formatted": [p for p in (obj["address1"], obj["address2"], area, obj["country"]) if p],
        "latitude": None,
        "longitude": None,
    }


def level_filter(ctx: GraphQLContext, args: dict, column: str, value: int) -> tuple[str, list]:
    where = search(ctx, "inventory_levels", args.get("query"))
    where.add(f"{column} = ?", value)
    return where.sql(), where.params


def level_page(ctx: GraphQLContext, args: dict, column: str, value: int, order: str) -> dict:
    sql, params = level_filter(ctx, args, column, value)
    return connections.list_page(
        [tag_level(level) for level in cat.levels_where(ctx.store.conn(), sql, params, order)], args
    )


def level_iterator(ctx: GraphQLContext, args: dict, column: str, value: int, order: str) -> Iterator[dict]:
    sql, params = level_filter(ctx, args, column, value)
    for level in cat.levels_where(ctx.store.conn(), sql, params, order):
        yield tag_level(level)


def tag_level(level: dict) -> dict:
    level["__typename"] = "InventoryLevel"
    return level


LOCATION: dict[str, FieldFn] = {
    "id": lambda o, a, c: gid("Location", o["id"]),
    "legacyResourceId": lambda o, a, c: str(o["id"]),
    "name": lambda o, a, c: o["name"],
    "isActive": lambda o, a, c: o["active"],
    "createdAt": lambda o, a, c: iso_z(o["created_at"]),
    "updatedAt": lambda o, a, c: iso_z(o["updated_at"]),
    # A String, not a DateTime, in Shopify's schema (contract §8.9).
    "deactivatedAt": lambda o, a, c: iso_z(o["deactivated_at"]) if o["deactivated_at"] else None,
    "activatable": lambda o, a, c: not o["active"],
    "deactivatable": lambda o, a, c: o["active"],
    "deletable": lambda o, a, c: not o["active"],
    "fulfillsOnlineOrders": lambda o, a, c: o["fulfills_online_orders"],
    "hasActiveInventory": lambda o, a, c: (
        c.store.conn()
        .execute("SELECT 1 FROM inventory_levels WHERE location_id = ? LIMIT 1", (o["id"],))
        .fetchone()
        is not None
    ),
    "shipsInventory": lambda o, a, c: o["active"],
    "address": location_address,
    "inventoryLevels": lambda o, a, c: level_page(c, a, "location_id", o["id"], "inventory_item_id"),
}


# -- InventoryLevel / InventoryItem ----------------------------------------------------------------------
def quantities(obj: dict, args: dict, ctx: GraphQLContext) -> list[dict]:
    names = args["names"]
    unknown = [name for name in names if name not in cat.QUANTITY_NAMES]
    if unknown:
        # [UNSURE, contract §8.15.6] Shopify may answer an empty list or a userError instead.
        raise GraphQLError(
            f"Invalid quantity name(s): {', '.join(unknown)}. Valid names: {', '.join(cat.QUANTITY_NAMES)}.",
            extensions={"code": "BAD_REQUEST"},
        )
    item, location = obj["inventory_item_id"], obj["location_id"]
    return [
        {
            "id": f"{gid('InventoryQuantity', location)}?inventory_item_id={item}&name={name}",
            "name": name,
            "quantity": obj[name],
            "updatedAt": iso_z(obj["updated_at"]),
        }
        for name in names
    ]


def level_item(obj: dict, args: dict, ctx: GraphQLContext) -> dict | None:
    variant = load_variant(ctx, obj["variant_id"])
    return {**variant, "__typename": "InventoryItem"} if variant else None


INVENTORY_LEVEL: dict[str, FieldFn] = {
    "id": lambda o, a, c: level_gid(o["inventory_item_id"], o["location_id"]),
    "createdAt": lambda o, a, c: iso_z(o["created_at"]),
    "updatedAt": lambda o, a, c: iso_z(o["updated_at"]),
    "canDeactivate": lambda o, a, c: True,
    "deactivationAlert": lambda o, a, c: None,
    "item": level_item,
    "location": lambda o, a, c: tagged(load(c, "locations", o["location_id"]), "Location"),
    "quantities": quantities,
}


def item_id(variant: dict) -> int:
    return variant["id"] + cat.INVENTORY_ITEM_OFFSET


def item_level(obj: dict, args: dict, ctx: GraphQLContext) -> dict | None:
    parsed = parse_gid(args["locationId"])
    if parsed is None or parsed[0] != "Location":
        return None
    found = cat.level(ctx.store.conn(), item_id(obj), parsed[1])
    return tag_level(found) if found else None


INVENTORY_ITEM: dict[str, FieldFn] = {
    "inventoryLevels": lambda o, a, c: level_page(c, a, "inventory_item_id", item_id(o), "location_id"),
    "inventoryLevel": item_level,
    "locationsCount": lambda o, a, c: {
        "count": c.store.conn()
        .execute("SELECT COUNT(*) FROM inventory_levels WHERE inventory_item_id = ?", (item_id(o),))
        .fetchone()[0],
        "precision": "EXACT",
    },
}

FIELDS: dict[str, dict[str, FieldFn]] = {
    "Collection": COLLECTION,
    "Location": LOCATION,
    "InventoryLevel": INVENTORY_LEVEL,
    "InventoryItem": INVENTORY_ITEM,
    "Product": {"collections": product_collections},
}
NESTED_CONNECTIONS: dict[str, dict[str, FieldFn]] = {
    "Collection": {"products": collection_products_all},
    "Product": {"collections": product_collections_all},
    "Location": {
        "inventoryLevels": lambda o, a, c: level_iterator(c, a, "location_id", o["id"], "inventory_item_id")
    },
    "InventoryItem": {
        "inventoryLevels": lambda o, a, c: level_iterator(
            c, a, "inventory_item_id", item_id(o), "location_id"
        )
    },
}


# -- roots ---------------------------------------------------------------------------------------------
def root_page(table: str, typename: str, scopes: tuple[str, ...]) -> FieldFn:
    def resolve(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
        ctx.require_any(scopes, table)
        where = narrow(table, args, search(ctx, table, args.get("query")))
        return connections.sql_page(ctx.store, table, where, args, typename)

    return resolve


def root_count(table: str, scopes: tuple[str, ...]) -> FieldFn:
    def resolve(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
        ctx.require_any(scopes, f"{table}Count")
        where = narrow(table, {}, search(ctx, table, args.get("query")))
        limit = args.get("limit")
        count = ctx.store.count(table, where.sql(), where.params, limit)
        if limit is not None and count > limit:
            return {"count": limit, "precision": "AT_LEAST"}
        return {"count": count, "precision": "EXACT"}

    return resolve


def numeric(value: str | None, expected: str) -> int | None:
    parsed = parse_gid(value or "")
    if parsed is None:
        raise GraphQLError(
            f"Invalid global id '{value}'", extensions={"code": "argumentLiteralsIncompatible"}
        )
    return parsed[1] if parsed[0] == expected else None


def one(table: str, typename: str, scopes: tuple[str, ...]) -> FieldFn:
    def resolve(obj: Any, args: dict, ctx: GraphQLContext) -> dict | None:
        ctx.require_any(scopes, typename[0].lower() + typename[1:])
        if table == "locations" and args.get("id") is None:
            # `location` without an id is the shop's primary location (the first active one).
            rows = ctx.store.select("locations", "json_extract(data, '$.active') = 1", [], "id", 1)
            return tagged(rows[0], typename) if rows else None
        return tagged(load(ctx, table, numeric(args["id"], typename)), typename)

    return resolve


def collection_by_handle(obj: Any, args: dict, ctx: GraphQLContext) -> dict | None:
    ctx.require_any(COLLECTION_SCOPES, "collectionByHandle")
    rows = ctx.store.select("collections", "json_extract(data, '$.handle') = ?", [args["handle"]], "id", 1)
    return tagged(rows[0], "Collection") if rows else None


def level_by_gid(ctx: GraphQLContext, value: str) -> dict | None:
    ctx.require_any(INVENTORY_SCOPES, "inventoryLevel")
    parsed = parse_gid(value)
    if parsed is None:
        raise GraphQLError(
            f"Invalid global id '{value}'", extensions={"code": "argumentLiteralsIncompatible"}
        )
    _, _, query = value.partition("?")
    item = dict(part.partition("=")[::2] for part in query.split("&") if part).get("inventory_item_id", "")
    if parsed[0] != "InventoryLevel" or not item.isdigit():
        return None
    found = cat.level(ctx.store.conn(), int(item), parsed[1])
    return tag_level(found) if found else None


def node(ctx: GraphQLContext, type_name: str, number: int, value: str) -> dict | None:
    """`node(id:)` for the catalogue's types (root.node_by_gid asks here for types it does not know)."""
    if type_name == "Collection":
        ctx.require_any(COLLECTION_SCOPES, "node")
        return tagged(load(ctx, "collections", number), "Collection")
    if type_name == "Location":
        ctx.require_any(LOCATION_SCOPES, "node")
        return tagged(load(ctx, "locations", number), "Location")
    if type_name == "InventoryLevel":
        return level_by_gid(ctx, value)
    return None


NODE_TYPES = ("Collection", "Location", "InventoryLevel")

QUERY_ROOT: dict[str, FieldFn] = {
    "collections": root_page("collections", "Collection", COLLECTION_SCOPES),
    "collection": one("collections", "Collection", COLLECTION_SCOPES),
    "collectionByHandle": collection_by_handle,
    "collectionsCount": root_count("collections", COLLECTION_SCOPES),
    "locations": root_page("locations", "Location", LOCATION_SCOPES),
    "location": one("locations", "Location", LOCATION_SCOPES),
    "locationsCount": root_count("locations", LOCATION_SCOPES),
    "inventoryLevel": lambda o, a, c: level_by_gid(c, a["id"]),
}
