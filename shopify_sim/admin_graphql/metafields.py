"""GraphQL metafields (contract §8.10): `metafields(first/after/last/before, reverse, namespace, keys)`
connections and `metafield(namespace, key)` on Order, Customer, Product and ProductVariant, `Metafield`
nodes (`node(id:)` too), and the bulk child lines of `metafields` (`__parentId` = the owner). Merged over
`fields.FIELDS` in schema.py; nothing here runs for a query that does not select metafields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from shopify_sim.admin_graphql import connections
from shopify_sim.admin_graphql.context import GraphQLContext
from shopify_sim.admin_graphql.fields import FieldFn, load, load_variant
from shopify_sim.gid import gid
from shopify_sim.store import metafields as store
from shopify_sim.store.db import content_hash
from shopify_sim.timeutil import iso_z

OWNER_OF_TYPE = {"Order": "order", "Customer": "customer", "Product": "product", "ProductVariant": "variant"}
OWNER_GRAPHQL_TYPE = {owner: name for name, owner in OWNER_OF_TYPE.items()}


def tag(metafield: dict[str, Any]) -> dict[str, Any]:
    return {**metafield, "__typename": "Metafield"}


def owned(ctx: GraphQLContext, owner_type: str, owner_id: int) -> list[dict[str, Any]]:
    cache = ctx.cache.setdefault("metafields", {})
    found = cache.get((owner_type, owner_id))
    if found is None:
        found = store.of_owner(ctx.store.conn(), owner_type, owner_id)
        cache[(owner_type, owner_id)] = found
    return found


def connection(owner_type: str) -> FieldFn:
    def field(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
        chosen = store.matching(owned(ctx, owner_type, obj["id"]), args.get("namespace"), args.get("keys"))
        return connections.list_page(chosen, args, tag)

    return field


def iterator(owner_type: str) -> FieldFn:
    def field(obj: dict, args: dict, ctx: GraphQLContext) -> Iterator[dict]:
        rows = store.of_owner(ctx.store.conn(), owner_type, obj["id"])
        for metafield in store.matching(rows, args.get("namespace"), args.get("keys")):
            yield tag(metafield)

    return field


def single(owner_type: str) -> FieldFn:
    """`metafield(namespace:, key:)`; `key` may also be "namespace.key" (then no namespace)."""

    def field(obj: dict, args: dict, ctx: GraphQLContext) -> dict | None:
        namespace, key = args.get("namespace"), args["key"]
        if namespace is None and "." in key:
            namespace, key = key.split(".", 1)
        for metafield in owned(ctx, owner_type, obj["id"]):
            if metafield["key"] == key and (namespace is None or metafield["namespace"] == namespace):
                return tag(metafield)
        return None

    return field


def owner(obj: dict, args: dict, ctx: GraphQLContext) -> dict | None:
    typename = OWNER_GRAPHQL_TYPE[obj["owner_type"]]
    if obj["owner_type"] == "variant":
        return load_variant(ctx, obj["owner_id"])
    record = load(ctx, store.OWNER_TABLES[obj["owner_type"]], obj["owner_id"])
    if record is not None:
        record["__typename"] = typename
    return record


def json_value(obj: dict, args: dict, ctx: GraphQLContext) -> Any:
    if obj["type"] == "json":
        return orjson.loads(obj["value"])
    if obj["type"] == "number_integer":
        return int(obj["value"])
    if obj["type"] == "boolean":
        return obj["value"] == "true"
    return obj["value"]


METAFIELD: dict[str, FieldFn] = {
    "id": lambda m, a, c: gid("Metafield", m["id"]),
    "legacyResourceId": lambda m, a, c: str(m["id"]),
    "namespace": lambda m, a, c: m["namespace"],
    "key": lambda m, a, c: m["key"],
    "type": lambda m, a, c: m["type"],
    "value": lambda m, a, c: m["value"],
    "jsonValue": json_value,
    "description": lambda m, a, c: m["description"],
    "ownerType": lambda m, a, c: store.GRAPHQL_OWNER[m["owner_type"]],
    "owner": owner,
    "createdAt": lambda m, a, c: iso_z(m["created_at"]),
    "updatedAt": lambda m, a, c: iso_z(m["updated_at"]),
    "compareDigest": lambda m, a, c: content_hash(orjson.dumps([m["value"], m["updated_at"]])),
}

FIELDS: dict[str, dict[str, FieldFn]] = {
    **{
        name: {"metafields": connection(owner_type), "metafield": single(owner_type)}
        for name, owner_type in OWNER_OF_TYPE.items()
    },
    "Metafield": METAFIELD,
}
NESTED_CONNECTIONS: dict[str, dict[str, FieldFn]] = {
    name: {"metafields": iterator(owner_type)} for name, owner_type in OWNER_OF_TYPE.items()
}


def node(ctx: GraphQLContext, number: int) -> dict | None:
    """`node(id:)` of a Metafield: null when its owner is not readable (scopes, the 60-day window)."""
    metafield = store.by_id(ctx.store.conn(), number)
    if metafield is None:
        return None
    table = store.OWNER_TABLES[metafield["owner_type"]]
    scope = {"orders": "read_orders", "customers": "read_customers"}.get(table, "read_products")
    if scope not in ctx.scopes and scope.replace("read_", "write_") not in ctx.scopes:
        return None
    if table == "orders" and load(ctx, "orders", metafield["owner_id"]) is None:
        return None
    return tag(metafield)
