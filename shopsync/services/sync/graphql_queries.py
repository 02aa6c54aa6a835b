"""The GraphQL documents the sync engine sends, built from the resource declarations
(`shopsync.resources`): the roots' selections, their inline list children, their connections."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from shopsync.resources import ChildDeclaration, ResourceDeclaration, declaration_for

# A shop's metafield namespaces (`Shop.metafield_namespaces`, sorted): which `namespaced` children a
# query selects, and their filter.
Namespaces = tuple[str, ...]


def shop_namespaces(shop: Any) -> Namespaces:
    """The metafield namespaces a shop's queries select (none: no metafields are read)."""
    return tuple(getattr(shop, "metafield_namespaces", None) or ())


def search_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def updated_at_search(start: datetime | None, end: datetime | None) -> str:
    """The search of a delta window: records whose `updated_at` is in [start, end] (either open)."""
    terms = []
    if start is not None:
        terms.append(f"updated_at:>='{search_time(start)}'")
    if end is not None:
        terms.append(f"updated_at:<='{search_time(end)}'")
    return " ".join(terms)


def _root_selection(declaration: ResourceDeclaration, *, bulk: bool = False) -> str:
    """The root's own fields and its inline list children (a list is not a connection: it comes
    inline, in a bulk export's root line too, and is never paged). A list item's own connections
    (a refund's line items) come with their first page, except in a bulk query: Shopify refuses a
    connection under a list there, so a bulk line carries the items without them ("not given")."""
    lists = [
        f"{child.graphql_field} {{ {_flat(child.graphql_fields)}{'' if bulk else _nested_first_pages(child)} }}"
        for child in declaration.inline_children
    ]
    return " ".join([_flat(declaration.graphql_fields), *lists])


def _arguments(*arguments: str) -> str:
    given = ", ".join(argument for argument in arguments if argument)
    return f"({given})" if given else ""


def _nested_first_pages(child: ChildDeclaration) -> str:
    return "".join(
        f" {part.graphql_field}(first: {part.first_page}) {{ pageInfo {{ hasNextPage endCursor }} "
        f"nodes {{ {_flat(part.graphql_fields)} }} }}"
        for part in child.children
        if part.is_connection
    )


def nested_lists(declaration: ResourceDeclaration) -> list[ChildDeclaration]:
    """The root's inline lists whose items have connections of their own (an order's refunds)."""
    return [child for child in declaration.inline_children if any(p.is_connection for p in child.children)]


def nested_children_query(child: ChildDeclaration, part: ChildDeclaration) -> str:
    """The rest of one list item's connection (a refund's line items) by the item's id."""
    return (
        f"query SyncNestedChildren($id: ID!, $first: Int!, $after: String) {{ node(id: $id) {{ "
        f"... on {child.graphql_type} {{ {part.graphql_field}(first: $first, after: $after) {{ "
        f"pageInfo {{ hasNextPage endCursor }} nodes {{ {_flat(part.graphql_fields)} }} }} }} }} }}"
    )


def bulk_query(resource: str, search: str | None, *, namespaces: Namespaces = ()) -> str:
    """The bulk query: every root with all its children (bulk ignores `first`), in id order so a
    follow-up query after a failed operation can ask for `id:>last` and skip nothing. `namespaces`:
    the shop's metafield namespaces (`ChildDeclaration.namespaced`)."""
    declaration = declaration_for(resource)
    args = ", ".join(
        part for part in ("sortKey: ID", declaration.root_arguments, f"query: {_quote(search)}" if search else "")
        if part
    )  # fmt: skip
    children = "".join(
        f" {child.graphql_field}{_arguments(child.graphql_arguments(namespaces))} "
        f"{{ edges {{ node {{ {_flat(child.graphql_fields)} }} }} }}"
        for child in declaration.selected_connections(namespaces)
    )
    selection = _root_selection(declaration, bulk=True)
    return f"{{ {declaration.connection}({args}) {{ edges {{ node {{ {selection}{children} }} }} }} }}"


def _first_children(
    declaration: ResourceDeclaration, variables: str, namespaces: Namespaces
) -> tuple[str, str]:
    """The selection of a root's first page of each connection child (empty without any) and the
    query's variables with `$childFirst` added when needed."""
    connections = declaration.selected_connections(namespaces)
    if not connections:
        return "", variables
    selection = " ".join(
        f"{child.graphql_field}{_arguments('first: $childFirst', child.graphql_arguments(namespaces))} "
        f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ {_flat(child.graphql_fields)} }} }}"
        for child in connections
    )
    return selection, f"{variables}, $childFirst: Int!"


def child_first_page(resource: str, namespaces: Namespaces = ()) -> int:
    """Children per root in a page's first page of each connection child (one `$childFirst`)."""
    pages = [child.first_page for child in declaration_for(resource).selected_connections(namespaces)]
    return min(pages) if pages else 0


def page_query(resource: str, namespaces: Namespaces = ()) -> str:
    """One page of roots (sorted by the declaration's page sort key, UPDATED_AT but for locations) with
    the first page of their children."""
    declaration = declaration_for(resource)
    children, variables = _first_children(
        declaration, "$first: Int!, $after: String, $query: String", namespaces
    )
    extra = f", {declaration.root_arguments}" if declaration.root_arguments else ""
    return (
        f"query SyncPage({variables}) {{ {declaration.connection}(first: $first, after: $after, query: $query, "
        f"sortKey: {declaration.page_sort_key}{extra}) {{ pageInfo {{ hasNextPage endCursor }} "
        f"nodes {{ {_root_selection(declaration)} {children} }} }} }}"
    )


def children_query(resource: str, child: ChildDeclaration | None = None, namespaces: Namespaces = ()) -> str:
    """The rest of one root's children of one connection (the first by default), when its first
    page said `hasNextPage`."""
    declaration = declaration_for(resource)
    child = child or declaration.connection_children[0]
    arguments = _arguments("first: $first, after: $after", child.graphql_arguments(namespaces))
    return (
        f"query SyncChildren($id: ID!, $first: Int!, $after: String) {{ {declaration.singular}(id: $id) {{ "
        f"{child.graphql_field}{arguments} {{ pageInfo {{ hasNextPage endCursor }} "
        f"nodes {{ {_flat(child.graphql_fields)} }} }} }} }}"
    )


def nodes_query(resource: str, namespaces: Namespaces = ()) -> str:
    """Roots by id (`nodes(ids:)`) with the first page of their children; unknown ids come back null."""
    declaration = declaration_for(resource)
    children, variables = _first_children(declaration, "$ids: [ID!]!", namespaces)
    return (
        f"query SyncNodes({variables}) {{ nodes(ids: $ids) {{ "
        f"... on {declaration.graphql_type} {{ {_root_selection(declaration)} {children} }} }} }}"
    )


def query_cost_from_error(message: str) -> int | None:
    """Shopify says "Query cost is N, which exceeds the single query max cost limit (1000)"."""
    match = re.search(r"cost is (\d+)", message)
    return int(match.group(1)) if match else None


def _flat(fields: str | None) -> str:
    return " ".join((fields or "").split())


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
