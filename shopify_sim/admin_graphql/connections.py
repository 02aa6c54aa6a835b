"""Relay connections over SQLite (keyset on (sort column, id)) and over in-memory lists."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from graphql import GraphQLError

from shopify_sim.admin_graphql.search import Filter

MAX_PAGE = 250

SORT_COLUMNS: dict[str, dict[str, str]] = {
    "orders": {"PROCESSED_AT": "processed_at", "UPDATED_AT": "updated_at", "CREATED_AT": "created_at"},
    "customers": {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at"},
    "products": {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at", "PUBLISHED_AT": "created_at"},
    "events": {"CREATED_AT": "created_at"},
    # ProductVariantSortKeys has no UPDATED_AT; every key but ID sorts by id (README).
    "variants": {},
    "collections": {"UPDATED_AT": "updated_at"},
    "locations": {"CREATED_AT": "created_at"},
}


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, orjson.JSONDecodeError) as error:
        raise GraphQLError(
            "Invalid cursor for current pagination sort.", extensions={"code": "BAD_REQUEST"}
        ) from error
    if not isinstance(values, list):
        raise GraphQLError("Invalid cursor for current pagination sort.", extensions={"code": "BAD_REQUEST"})
    return values


def page_size(args: dict[str, Any]) -> tuple[int | None, int | None]:
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_REQUEST"})
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE:
            raise GraphQLError(
                f"The '{name}' argument must be between 0 and {MAX_PAGE}; got {value}.",
                extensions={"code": "BAD_REQUEST"},
            )
    return first, last


def sort_column(resource: str, sort_key: str | None) -> str:
    return SORT_COLUMNS.get(resource, {}).get(sort_key or "ID", "id")


def result(nodes: list[Any], cursors: list[str], has_next: bool, has_previous: bool) -> dict[str, Any]:
    return {
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
        "nodes": nodes,
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


def sql_page(store: Any, resource: str, where: Filter, args: dict[str, Any], typename: str) -> dict[str, Any]:
    """One page of a top-level connection: keyset pagination on (sort column, id), ties broken by id."""
    first, last = page_size(args)
    column = sort_column(resource, args.get("sortKey"))
    ascending = not args.get("reverse")
    forward_op, backward_op = (">", "<") if ascending else ("<", ">")
    clauses, params = list(where.clauses), list(where.params)
    key = f"({column}, id)"
    after, before = args.get("after"), args.get("before")
    if after:
        clauses.append(f"{key} {forward_op} (?, ?)")
        params.extend(decode_cursor(after)[:2])
    if before:
        clauses.append(f"{key} {backward_op} (?, ?)")
        params.extend(decode_cursor(before)[:2])
    base = " AND ".join(clauses) or "1"
    direction = "ASC" if ascending else "DESC"
    opposite = "DESC" if ascending else "ASC"
    if first is not None:
        rows = store.select(resource, base, params, f"{column} {direction}, id {direction}", first + 1)
        has_more = len(rows) > first
        rows = rows[:first]
        if last is not None and len(rows) > last:
            rows = rows[-last:]
        has_next, has_previous = (
            has_more,
            bool(after) and _exists_beyond(store, resource, where, key, after, backward_op, "="),
        )
    else:
        rows = store.select(resource, base, params, f"{column} {opposite}, id {opposite}", last + 1)
        has_more = len(rows) > last
        rows = list(reversed(rows[:last]))
        has_previous, has_next = (
            has_more,
            bool(before) and _exists_beyond(store, resource, where, key, before, forward_op, "="),
        )
    for row in rows:
        row["__typename"] = typename
    cursors = [encode_cursor([row[column] if column != "id" else row["id"], row["id"]]) for row in rows]
    return result(rows, cursors, has_next, has_previous)


def _exists_beyond(
    store: Any, resource: str, where: Filter, key: str, cursor: str, op: str, inclusive: str
) -> bool:
    values = decode_cursor(cursor)[:2]
    clause = f"{key} {op}{inclusive} (?, ?)"
    sql = " AND ".join([*where.clauses, clause])
    return store.exists(resource, sql, [*where.params, *values])


def list_page(
    items: list[Any], args: dict[str, Any], prepare: Callable[[Any], Any] | None = None
) -> dict[str, Any]:
    """Paginate an in-memory list (line items, variants, subscriptions); cursors hold the position."""
    first, last = page_size(args)
    indexed = list(enumerate(items))
    if args.get("reverse"):
        indexed.reverse()
    after, before = args.get("after"), args.get("before")
    start, end = 0, len(indexed)
    positions = [i for i, _ in indexed]
    if after:
        marker = decode_cursor(after)[0]
        start = positions.index(marker) + 1 if marker in positions else start
    if before:
        marker = decode_cursor(before)[0]
        end = positions.index(marker) if marker in positions else end
    window = indexed[start:end]
    if first is not None:
        has_next, window = len(window) > first, window[:first]
        has_previous = start > 0
    else:
        has_previous, window = len(window) > last, window[-last:] if last else []
        has_next = end < len(indexed)
    if first is not None and last is not None and len(window) > last:
        window = window[-last:]
    nodes = [prepare(item) if prepare else item for _, item in window]
    return result(nodes, [encode_cursor([i]) for i, _ in window], has_next, has_previous)
