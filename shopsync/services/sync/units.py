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
    """A unit is `{"node": ..., "children": [...] | None}`; raises PayloadValidationError."""
    return node_parse(resource, unit["node"], unit.get("children"))


def nodes_parse(
    resource: Resource, units: Iterable[tuple[dict[str, Any], list[dict[str, Any]] | None]], *, where: dict
) -> tuple[list[AnyRecord], list[InvalidRecord]]:
    records: list[AnyRecord] = []
    invalid: list[InvalidRecord] = []
    for node, children in units:
        try:
            records.append(node_parse(resource, node, children))
        except PayloadValidationError as exc:
            raw = {**node, "__children": children} if children else node
            invalid.append(InvalidRecord(shopify_id=exc.shopify_id, raw=raw, error=str(exc), where=where))
    return records, invalid
