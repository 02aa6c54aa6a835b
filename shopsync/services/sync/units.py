"""Parsing paged GraphQL nodes (with their children already gathered) into records; invalid ones
are set apart for the dead letters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shopsync.payloads import PayloadValidationError
from shopsync.payloads.graphql import parse_graphql_node
from shopsync.payloads.records import AnyRecord
from shopsync.resources import ResourceDeclaration, declaration_for

# A unit's children: {connection child name: [nodes]}; a list (units stored before a resource could
# have several connections) is its first connection child's; None: read them from the node.
Children = Mapping[str, list[dict[str, Any]]] | list[dict[str, Any]] | None


@dataclass(slots=True)
class InvalidRecord:
    """A record that failed validation: it goes to the dead letters, the run goes on."""

    shopify_id: int | None
    raw: Any
    error: str
    where: dict


def node_parse(resource: str, node: dict[str, Any], children: Children) -> AnyRecord:
    """Raises PayloadValidationError for an invalid node or child."""
    declaration = declaration_for(resource)
    return parse_graphql_node(declaration, node, _children_map(declaration, node, children))


def unit_parse(resource: str, unit: dict[str, Any]) -> AnyRecord:
    """A unit is `{"node": ..., "children": {...} | [...] | None}`; raises PayloadValidationError. A
    connection whose gathered children are empty while the node still nests them is read from the node."""
    return node_parse(resource, unit["node"], unit.get("children"))


def unit_jsonable(resource: str, node: dict[str, Any], children: Children) -> dict[str, Any]:
    """A paged unit as stored for a retry: the node with every child gathered for it (the first page
    nested in the query plus the follow-up pages), so `unit_parse` gives back the whole record."""
    declaration = declaration_for(resource)
    gathered = _children_map(declaration, node, children)
    return {"node": node, "children": None if gathered is None else {k: list(v) for k, v in gathered.items()}}


def _children_map(
    declaration: ResourceDeclaration, node: dict[str, Any], children: Children
) -> dict[str, list[dict[str, Any]]] | None:
    if not children:
        return None
    if not isinstance(children, Mapping):
        children = {declaration.connection_children[0].name: children}
    # Empty and still nested in the node: the node's own first page is the whole set.
    return {
        name: list(items)
        for name, items in children.items()
        if items or not isinstance(node.get(declaration.child(name).graphql_field), dict)
    } or None


def node_parse_salvaging(
    resource: str, node: dict[str, Any], children: Children
) -> tuple[AnyRecord | None, PayloadValidationError | None]:
    """`node_parse`, and when only items of its inline lists are malformed (a refund, a
    fulfillment), the record without those lists as well: they are "not given", so the stored ones
    stay, and the rest of the record is written. Returns (record or None, the error or None)."""
    try:
        return node_parse(resource, node, children), None
    except PayloadValidationError as exc:
        lists = {child.graphql_field for child in declaration_for(resource).inline_children}
        broken = {field.split(".", 1)[0] for field in exc.fields}
        if not broken or not broken <= lists:
            return None, exc
        try:
            salvaged = node_parse(resource, {k: v for k, v in node.items() if k not in broken}, children)
        except PayloadValidationError:
            return None, exc
        return salvaged, exc


def nodes_parse(
    resource: str, units: Iterable[tuple[dict[str, Any], Children]], *, where: dict
) -> tuple[list[AnyRecord], list[InvalidRecord]]:
    """Records of the valid units; the invalid ones set apart with their payload for the dead
    letters. A unit whose only fault is a malformed inline-list item (a refund) is both: written
    without that list, and dead-lettered whole (a retry fetches the record again)."""
    records: list[AnyRecord] = []
    invalid: list[InvalidRecord] = []
    for node, children in units:
        record, exc = node_parse_salvaging(resource, node, children)
        if record is not None:
            records.append(record)
        if exc is not None:
            raw = unit_jsonable(resource, node, children)
            error = str(exc) if record is None else f"{exc} (written without these lists; stored ones kept)"
            invalid.append(InvalidRecord(shopify_id=exc.shopify_id, raw=raw, error=error, where=where))
    return records, invalid
