"""Fetching records from Shopify by id, complete with their children. One implementation for the
paged engine (roots whose children outgrow the page), the reconciliation's heal (missing and stale
records) and the dead letters' refetch (a record whose stored payload is broken).

1. `nodes(ids:)` with the first page of each root's connection children (and its inline lists), the
   declaration's ids per query (roots with children cost more), fewer after a MAX_COST_EXCEEDED answer. Roots the caller already holds
   (`fetched`, e.g. from a sync page) are not asked for again.
2. A root whose children do not fit that first page gets the rest by its id from `children_query`
   pages, halved after a MAX_COST_EXCEEDED answer, so an order with hundreds of line items arrives
   complete.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from shopsync.resources import ChildDeclaration, ResourceDeclaration, declaration_for
from shopsync.services.sync.graphql_queries import (
    children_query,
    nested_children_query,
    nodes_query,
    query_cost_from_error,
    shop_namespaces,
)
from shopsync.services.sync.query_cost import child_page_fitting, children_page_size, ids_per_query
from shopsync.shopify import ShopifyClient, ShopifyPermanentError
from shopsync.shopify.queries import gid_to_id, id_to_gid

logger = logging.getLogger(__name__)

# A unit is what the sync engine's parser takes: {"node": root fields and inline lists, "children":
# {connection child name: [nodes]}, or None for a resource without connection children}.
Unit = dict[str, Any]

MAX_COST_EXCEEDED = "MAX_COST_EXCEEDED"
MAX_QUERY_COST = 1000
MAX_IDS_PER_QUERY = 250  # Shopify's input array limit
FIRST_CHILD_PAGE_SIZE = 20
CHILD_PAGE_SIZE = 50


def records_fetch_by_ids(
    *,
    client: ShopifyClient,
    resource: str,
    shopify_ids: Iterable[int],
    fetched: Mapping[int, dict[str, Any]] | None = None,
    child_page_size: int = FIRST_CHILD_PAGE_SIZE,
) -> dict[int, Unit]:
    """Shopify's current copy of each record, as a unit with all its children, by id in the order
    asked; an id Shopify does not know is absent. `fetched` holds roots already read, as a query
    returned them (their children connection's first page included): those are completed, not
    fetched again. `child_page_size` is the first page of children asked with each root. Shopify
    errors propagate, classified (R7)."""
    fetch = _Fetch(client, declaration_for(resource))
    fetched = fetched or {}
    wanted = list(dict.fromkeys(shopify_ids))
    missing = [shopify_id for shopify_id in wanted if shopify_id not in fetched]
    nodes = {**dict(_nodes_fetch(fetch, missing, child_page_size)), **fetched}
    return {i: _unit_complete(fetch, nodes[i]) for i in wanted if i in nodes}


class _Fetch:
    """One fetch's client and declaration, with the connections its shop's queries select (metafields
    only in the namespaces the shop chose)."""

    def __init__(self, client: ShopifyClient, declaration: ResourceDeclaration) -> None:
        self.client = client
        self.declaration = declaration
        self.namespaces = shop_namespaces(getattr(client, "shop", None))
        self.connections = declaration.selected_connections(self.namespaces)


def _nodes_fetch(
    fetch: _Fetch, shopify_ids: list[int], child_page_size: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    # Within the requested-cost limit for this child page size (`query_cost`), then halved further
    # on MAX_COST_EXCEEDED should Shopify count more than we do.
    client, declaration, namespaces = fetch.client, fetch.declaration, fetch.namespaces
    child_page_size = child_page_fitting(declaration.name, child_page_size, namespaces)
    size = min(ids_per_query(declaration.name, child_page_size, namespaces), MAX_IDS_PER_QUERY)
    query = nodes_query(declaration.name, namespaces)
    start = 0
    while start < len(shopify_ids):
        ids = shopify_ids[start : start + size]
        variables: dict[str, Any] = {"ids": [id_to_gid(declaration.graphql_type, i) for i in ids]}
        if fetch.connections:
            variables["childFirst"] = child_page_size
        try:
            data = client.graphql(query, variables)
        except ShopifyPermanentError as exc:
            if exc.code != MAX_COST_EXCEEDED:
                raise
            if len(ids) == 1:
                # One root whose first pages alone cost too much (several connections): smaller
                # first pages; the rest of each connection follows by the root's id.
                if child_page_size <= 1 or not fetch.connections:
                    raise
                child_page_size //= 2
                continue
            size = _fewer_ids(str(exc), len(ids))
            logger.info("nodes query for %s too expensive: now %s ids per query", declaration.name, size)
            continue
        for node in data.get("nodes") or []:
            if node and node.get("id"):
                yield gid_to_id(node["id"]), node
        start += len(ids)


def _fewer_ids(message: str, asked: int) -> int:
    cost = query_cost_from_error(message) or MAX_QUERY_COST * 2
    return max(1, min(asked - 1, asked * MAX_QUERY_COST * 9 // (cost * 10)))


def _unit_complete(fetch: _Fetch, node: dict[str, Any]) -> Unit:
    """The node without its connections, and each connection's children complete (its first page,
    then the rest by the root's id). Inline lists stay in the node: they are never paged (their
    items' own connections are completed in place, `nested_parts_complete`). A connection the shop's
    query does not select is not in `children` (its stored rows stay)."""
    nested_parts_complete(fetch.client, fetch.declaration, node)
    if not fetch.connections:
        return {"node": node, "children": None}
    children: dict[str, list[dict[str, Any]]] = {}
    for child in fetch.connections:
        connection = node.get(child.graphql_field) or {}
        nodes = list(connection.get("nodes") or [])
        page_info = connection.get("pageInfo") or {}
        if page_info.get("hasNextPage"):
            nodes += _children_rest(fetch, child, node["id"], page_info.get("endCursor"))
        children[child.name] = nodes
    nested = {child.graphql_field for child in fetch.connections}
    return {"node": {k: v for k, v in node.items() if k not in nested}, "children": children}


def _children_rest(
    fetch: _Fetch, child: ChildDeclaration, gid: str, after: str | None
) -> list[dict[str, Any]]:
    client, declaration = fetch.client, fetch.declaration
    query, children = children_query(declaration.name, child, fetch.namespaces), []
    first = children_page_size(declaration.name, child.name, CHILD_PAGE_SIZE, fetch.namespaces)
    while True:
        try:
            data = client.graphql(query, {"id": gid, "first": first, "after": after})
        except ShopifyPermanentError as exc:
            if exc.code == MAX_COST_EXCEEDED and first > 1:
                first = max(1, first // 2)
                continue
            raise
        connection = (data.get(declaration.singular) or {}).get(child.graphql_field) or {}
        children += connection.get("nodes") or []
        page_info = connection.get("pageInfo") or {}
        if not page_info.get("hasNextPage"):
            return children
        after = page_info.get("endCursor")


def nested_parts_complete(
    client: ShopifyClient, declaration: ResourceDeclaration, node: dict[str, Any]
) -> None:
    """Complete, in the node, the connections of its inline list items (a refund's line items) whose
    first page said `hasNextPage`: the rest by the item's `node(id:)`. Rare (an order refunded in
    more than a few parts), so one item at a time."""
    for child in declaration.inline_children:
        parts = [part for part in child.children if part.is_connection]
        for item in (node.get(child.graphql_field) or ()) if parts else ():
            for part in parts:
                connection = item.get(part.graphql_field) if isinstance(item, dict) else None
                page_info = (connection or {}).get("pageInfo") or {}
                if page_info.get("hasNextPage") and item.get("id"):
                    connection["nodes"] = list(connection.get("nodes") or []) + _nested_rest(
                        client, child, part, item["id"], page_info.get("endCursor")
                    )
                    connection["pageInfo"] = {"hasNextPage": False, "endCursor": None}


def _nested_rest(
    client: ShopifyClient, child: ChildDeclaration, part: ChildDeclaration, gid: str, after: str | None
) -> list[dict[str, Any]]:
    query, found, first = nested_children_query(child, part), [], CHILD_PAGE_SIZE
    while True:
        try:
            data = client.graphql(query, {"id": gid, "first": first, "after": after})
        except ShopifyPermanentError as exc:
            if exc.code == MAX_COST_EXCEEDED and first > 1:
                first = max(1, first // 2)
                continue
            raise
        connection = (data.get("node") or {}).get(part.graphql_field) or {}
        found += connection.get("nodes") or []
        page_info = connection.get("pageInfo") or {}
        if not page_info.get("hasNextPage"):
            return found
        after = page_info.get("endCursor")
