"""Build the versioned schemas from SDL and wire the single field resolver."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLInterfaceType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    extend_schema,
    parse,
)

from shopify_sim.admin_graphql import catalogue, customers_extra, metafields, order_children
from shopify_sim.admin_graphql.fields import FIELDS, NESTED_CONNECTIONS, FieldFn
from shopify_sim.admin_graphql.root import EVENT_FIELDS, MUTATION, QUERY_ROOT

HERE = Path(__file__).parent


def merged(*tables: dict[str, dict[str, FieldFn]]) -> dict[str, dict[str, FieldFn]]:
    """Type -> field tables, later ones adding types and fields (the catalogue's over the base ones)."""
    result: dict[str, dict[str, FieldFn]] = {}
    for table in tables:
        for type_name, fields in table.items():
            result[type_name] = {**result.get(type_name, {}), **fields}
    return result


TABLES = merged(
    FIELDS,
    {"QueryRoot": QUERY_ROOT, "Mutation": MUTATION, "BasicEvent": EVENT_FIELDS},
    catalogue.FIELDS,
    {"QueryRoot": catalogue.QUERY_ROOT},
    customers_extra.FIELDS,
    metafields.FIELDS,
    order_children.FIELDS,
)
# Connection fields the bulk exporter expands into child lines: type -> field -> all-items iterator.
NESTED = merged(
    NESTED_CONNECTIONS,
    catalogue.NESTED_CONNECTIONS,
    metafields.NESTED_CONNECTIONS,
    order_children.NESTED_CONNECTIONS,
)
BULK_BY_ID_SINCE = "2026-01"


def field_resolver(obj: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    table = TABLES.get(info.parent_type.name)
    if table is not None:
        fn = table.get(info.field_name)
        if fn is not None:
            return fn(obj, args, info.context)
    if isinstance(obj, dict):
        return obj.get(info.field_name)
    return getattr(obj, info.field_name, None)


def resolve_type(obj: Any, info: GraphQLResolveInfo, abstract: Any) -> str | None:
    if isinstance(obj, dict):
        if "__typename" in obj:
            return obj["__typename"]
        if "callbackUrl" in obj:
            return "WebhookHttpEndpoint"
    return None


def wire(schema: GraphQLSchema) -> GraphQLSchema:
    for named in schema.type_map.values():
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            named.resolve_type = resolve_type
    return schema


@functools.cache
def base_schema() -> GraphQLSchema:
    base = build_schema((HERE / "schema.graphql").read_text())
    return wire(extend_schema(base, parse((HERE / "schema_extra.graphql").read_text())))


@functools.cache
def schema_2026_01() -> GraphQLSchema:
    extension = parse((HERE / "schema_2026_01.graphql").read_text())
    return wire(extend_schema(base_schema(), extension))


def schema_for(version: str) -> GraphQLSchema:
    """`unstable` and 2026-01+ have bulkOperation(id:)/bulkOperations; earlier versions do not."""
    if version == "unstable" or version >= BULK_BY_ID_SINCE:
        return schema_2026_01()
    return base_schema()
