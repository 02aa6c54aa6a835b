"""The GraphQL documents the sync engine sends, built from the parsers' field selections."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from shopsync.payloads import Resource
from shopsync.payloads.graphql_fields import (
    CUSTOMER_FIELDS,
    LINE_ITEM_FIELDS,
    ORDER_FIELDS,
    PRODUCT_FIELDS,
    VARIANT_FIELDS,
)


@dataclass(frozen=True, slots=True)
class ResourceShape:
    connection: str  # top-level connection name: orders / customers / products
    single: str  # single-object query field: order / customer / product
    fields: str
    child_connection: str | None  # lineItems / variants
    child_fields: str | None


SHAPES: dict[Resource, ResourceShape] = {
    Resource.ORDERS: ResourceShape("orders", "order", ORDER_FIELDS, "lineItems", LINE_ITEM_FIELDS),
    Resource.CUSTOMERS: ResourceShape("customers", "customer", CUSTOMER_FIELDS, None, None),
    Resource.PRODUCTS: ResourceShape("products", "product", PRODUCT_FIELDS, "variants", VARIANT_FIELDS),
}

GRAPHQL_TYPES: dict[Resource, str] = {
    Resource.ORDERS: "Order",
    Resource.CUSTOMERS: "Customer",
    Resource.PRODUCTS: "Product",
}


def search_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bulk_query(resource: Resource, search: str | None) -> str:
    """The bulk query: every root with all its children (bulk ignores `first`), in id order so a
    follow-up query after a failed operation can ask for `id:>last` and skip nothing."""
    shape = SHAPES[resource]
    args = "sortKey: ID" + (f", query: {_quote(search)}" if search else "")
    children = ""
    if shape.child_connection:
        children = f"{shape.child_connection} {{ edges {{ node {{ {_flat(shape.child_fields)} }} }} }}"
    return f"{{ {shape.connection}({args}) {{ edges {{ node {{ {_flat(shape.fields)} {children} }} }} }} }}"


def _first_children(resource: Resource, variables: str) -> tuple[str, str]:
    """The selection of a root's first page of children (empty without children) and the query's
    variables with `$childFirst` added when needed."""
    shape = SHAPES[resource]
    if not shape.child_connection:
        return "", variables
    selection = (
        f"{shape.child_connection}(first: $childFirst) {{ pageInfo {{ hasNextPage endCursor }} "
        f"nodes {{ {_flat(shape.child_fields)} }} }}"
    )
    return selection, f"{variables}, $childFirst: Int!"


def page_query(resource: Resource) -> str:
    """One page of roots (sorted by UPDATED_AT) with the first page of their children."""
    shape = SHAPES[resource]
    children, variables = _first_children(resource, "$first: Int!, $after: String, $query: String")
    return (
        f"query SyncPage({variables}) {{ {shape.connection}(first: $first, after: $after, query: $query, "
        f"sortKey: UPDATED_AT) {{ pageInfo {{ hasNextPage endCursor }} "
        f"nodes {{ {_flat(shape.fields)} {children} }} }} }}"
    )


def children_query(resource: Resource) -> str:
    """The rest of one root's children, when its first page said `hasNextPage`."""
    shape = SHAPES[resource]
    return (
        f"query SyncChildren($id: ID!, $first: Int!, $after: String) {{ {shape.single}(id: $id) {{ "
        f"{shape.child_connection}(first: $first, after: $after) {{ pageInfo {{ hasNextPage endCursor }} "
        f"nodes {{ {_flat(shape.child_fields)} }} }} }} }}"
    )


def nodes_query(resource: Resource) -> str:
    """Roots by id (`nodes(ids:)`) with the first page of their children; unknown ids come back null."""
    shape = SHAPES[resource]
    children, variables = _first_children(resource, "$ids: [ID!]!")
    return (
        f"query SyncNodes({variables}) {{ nodes(ids: $ids) {{ "
        f"... on {GRAPHQL_TYPES[resource]} {{ {_flat(shape.fields)} {children} }} }} }}"
    )


def query_cost_from_error(message: str) -> int | None:
    """Shopify says "Query cost is N, which exceeds the single query max cost limit (1000)"."""
    match = re.search(r"cost is (\d+)", message)
    return int(match.group(1)) if match else None


def _flat(fields: str | None) -> str:
    return " ".join((fields or "").split())


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
