"""Parsing paged GraphQL nodes (with their children already gathered) into records; invalid ones
are set apart for the dead letters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shopsync.payloads import (
    PayloadValidationError,
    Resource,
    parse_customer_graphql,
    parse_order_graphql,
    parse_product_graphql,
)
from shopsync.payloads.records import AnyRecord

# Where a GraphQL node nests its first page of children.
NESTED_CHILDREN = {Resource.ORDERS: "lineItems", Resource.PRODUCTS: "variants"}


@dataclass(slots=True)
class InvalidRecord:
    """A record that failed validation: it goes to the dead letters, the run goes on."""

    shopify_id: int | None
    raw: Any
    error: str
    where: dict


def node_parse(resource: Resource, node: dict[str, Any], children: list[dict[str, Any]] | None) -> AnyRecord:
    """Raises PayloadValidationError for an invalid node or child."""
    if resource == Resource.ORDERS:
        return parse_order_graphql(node, line_items=children)
    if resource == Resource.PRODUCTS:
        return parse_product_graphql(node, variants=children)
    return parse_customer_graphql(node)


def unit_parse(resource: Resource, unit: dict[str, Any]) -> AnyRecord:
    """A unit is `{"node": ..., "children": [...] | None}`; raises PayloadValidationError. A unit whose
    children are still nested in its node (`children` empty or None) is read from the node."""
    children = unit.get("children")
    node = unit["node"]
    if not children and _nested_children(resource, node):
        children = None
    return node_parse(resource, node, children)


def unit_jsonable(
    resource: Resource, node: dict[str, Any], children: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """A paged unit as stored for a retry: the node with every child gathered for it (the first page
    nested in the query plus the follow-up pages), so `unit_parse` gives back the whole record."""
    if children is None and _nested_children(resource, node):
        return {"node": node, "children": None}
    return {"node": node, "children": list(children or [])}


def _nested_children(resource: Resource, node: dict[str, Any]) -> bool:
    key = NESTED_CHILDREN.get(resource)
    return key is not None and isinstance(node.get(key), dict)


def nodes_parse(
    resource: Resource, units: Iterable[tuple[dict[str, Any], list[dict[str, Any]] | None]], *, where: dict
) -> tuple[list[AnyRecord], list[InvalidRecord]]:
    records: list[AnyRecord] = []
    invalid: list[InvalidRecord] = []
    for node, children in units:
        try:
            records.append(node_parse(resource, node, children))
        except PayloadValidationError as exc:
            raw = unit_jsonable(resource, node, children)
            invalid.append(InvalidRecord(shopify_id=exc.shopify_id, raw=raw, error=str(exc), where=where))
    return records, invalid
