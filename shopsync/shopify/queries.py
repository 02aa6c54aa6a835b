"""Builders for paged GraphQL connection queries and count queries, plus GID helpers.

Field selections are passed in (they live in `shopsync.payloads.graphql_fields`), so this module knows
only the shape of a connection (contract §1.6-1.8).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shopsync.shopify.errors import ShopifyPermanentError

if TYPE_CHECKING:
    from shopsync.shopify.client import ShopifyClient

MAX_PAGE_SIZE = 250
_GID_RE = re.compile(r"^gid://shopify/(?P<type>[A-Za-z0-9_]+)/(?P<id>\d+)(?:\?.*)?$")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ConnectionPage:
    nodes: list[dict[str, Any]]
    has_next_page: bool
    end_cursor: str | None


def connection_page_query(
    resource: str,
    fields: str,
    *,
    first: int = MAX_PAGE_SIZE,
    after: str | None = None,
    query_filter: str | None = None,
    sort_key: str | None = None,
    reverse: bool = False,
) -> GraphQLRequest:
    """One page of a top-level connection, e.g. `orders`, selecting `nodes { fields }` and `pageInfo`.

    The cursor, page size and search filter are variables, so every page of one listing sends the same
    query text (which lets the client reuse the last page's cost for pacing). `sort_key` and `reverse`
    are inlined: enum variable types differ per resource (`OrderSortKeys`, `ProductSortKeys`, …).
    """
    _check_name(resource)
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise ValueError(f"first must be between 1 and {MAX_PAGE_SIZE}, got {first}")
    arguments = ["first: $first", "after: $after", "query: $query"]
    if sort_key:
        _check_name(sort_key)
        arguments.append(f"sortKey: {sort_key}")
    if reverse:
        arguments.append("reverse: true")
    query = (
        f"query ShopsyncPage($first: Int!, $after: String, $query: String) {{\n"
        f"  {resource}({', '.join(arguments)}) {{\n"
        f"    pageInfo {{ hasNextPage endCursor }}\n"
        f"    nodes {{\n{_indent(fields, 6)}\n    }}\n"
        f"  }}\n"
        f"}}"
    )
    return GraphQLRequest(query=query, variables={"first": first, "after": after, "query": query_filter})


def connection_page_parse(data: dict[str, Any], resource: str) -> ConnectionPage:
    """Read `data[resource]` of a `connection_page_query` answer (accepts `edges` too)."""
    connection = data.get(resource)
    if not isinstance(connection, dict):
        raise ShopifyPermanentError(f"GraphQL answer has no {resource!r} connection")
    if "nodes" in connection:
        nodes = list(connection["nodes"])
    else:
        nodes = [edge["node"] for edge in connection.get("edges", [])]
    page_info = connection.get("pageInfo") or {}
    return ConnectionPage(
        nodes=nodes,
        has_next_page=bool(page_info.get("hasNextPage")),
        end_cursor=page_info.get("endCursor"),
    )


def connection_pages(
    client: ShopifyClient,
    resource: str,
    fields: str,
    *,
    first: int = MAX_PAGE_SIZE,
    after: str | None = None,
    query_filter: str | None = None,
    sort_key: str | None = None,
    reverse: bool = False,
) -> Iterator[ConnectionPage]:
    """Every page of a connection, starting after `after` (a checkpointed cursor, or None)."""
    cursor = after
    while True:
        request = connection_page_query(
            resource,
            fields,
            first=first,
            after=cursor,
            query_filter=query_filter,
            sort_key=sort_key,
            reverse=reverse,
        )
        page = connection_page_parse(client.graphql(request.query, request.variables), resource)
        yield page
        if not page.has_next_page or not page.end_cursor:
            return
        cursor = page.end_cursor


def count_query(resource: str, *, query_filter: str | None = None, uncapped: bool = True) -> GraphQLRequest:
    """`{resource}Count(query:, limit: null) { count precision }`, e.g. `ordersCount`.

    `limit: null` asks for an uncapped count (the default cap is 10,000); Shopify may still answer with
    `precision: AT_LEAST` above its own limit. `uncapped=False` leaves `limit` out, for count fields
    that do not take it."""
    _check_name(resource)
    limit = ", limit: null" if uncapped else ""
    query = (
        f"query ShopsyncCount($query: String) {{\n"
        f"  {resource}Count(query: $query{limit}) {{ count precision }}\n"
        f"}}"
    )
    return GraphQLRequest(query=query, variables={"query": query_filter})


def count_parse(data: dict[str, Any], resource: str) -> int:
    counted = data.get(f"{resource}Count")
    if not isinstance(counted, dict) or counted.get("count") is None:
        raise ShopifyPermanentError(f"GraphQL answer has no {resource}Count")
    return int(counted["count"])


def search_quote(value: str) -> str:
    """Quote a value for Shopify's search syntax (`updated_at:>'…'`)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def gid_to_id(gid: str) -> int:
    """`gid://shopify/Order/123` → 123."""
    match = _GID_RE.match(gid or "")
    if match is None:
        raise ValueError(f"not a Shopify GID: {gid!r}")
    return int(match["id"])


def gid_type(gid: str) -> str:
    """`gid://shopify/Order/123` → `Order`."""
    match = _GID_RE.match(gid or "")
    if match is None:
        raise ValueError(f"not a Shopify GID: {gid!r}")
    return match["type"]


def id_to_gid(resource_type: str, id_: int | str) -> str:
    """(`Order`, 123) → `gid://shopify/Order/123`."""
    _check_name(resource_type)
    numeric = int(id_)
    if numeric < 0:
        raise ValueError(f"Shopify ids are non-negative, got {id_!r}")
    return f"gid://shopify/{resource_type}/{numeric}"


def graphql_string(value: str) -> str:
    """A GraphQL string literal (JSON's escaping is valid GraphQL)."""
    return json.dumps(value)


def _check_name(name: str) -> None:
    # These end up inside query text: refuse anything that is not a plain GraphQL name.
    if not _NAME_RE.match(name):
        raise ValueError(f"not a GraphQL name: {name!r}")


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line.strip() for line in text.strip().splitlines() if line.strip())
