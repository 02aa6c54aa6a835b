"""Connection page and count query builders, and GID helpers."""

from __future__ import annotations

import pytest
from graphql import parse

from shopsync.shopify.queries import (
    connection_page_query,
    connection_pages,
    count_parse,
    count_query,
    gid_to_id,
    gid_type,
    id_to_gid,
    search_quote,
)
from tests.shopsync.shopify.scripted_http import GRAPHQL_PATH, graphql_ok


def test_gid_to_id_returns_the_numeric_id_beyond_2_to_the_53():
    # given
    gid = "gid://shopify/Order/820982911946154508"
    # when
    numeric = gid_to_id(gid)
    # then
    assert numeric == 820982911946154508
    assert gid_type(gid) == "Order"


@pytest.mark.parametrize(
    "bad", ["", "123", "gid://shopify/Order/", "gid://other/Order/1", "gid://shopify/Order/x"]
)
def test_gid_to_id_rejects_non_gids(bad):
    with pytest.raises(ValueError):
        gid_to_id(bad)


def test_id_to_gid_builds_a_gid():
    # when
    gid = id_to_gid("ProductVariant", "808950810")
    # then
    assert gid == "gid://shopify/ProductVariant/808950810"
    assert gid_to_id(gid) == 808950810


def test_connection_page_query_is_valid_graphql_with_paging_variables():
    # when
    request = connection_page_query(
        "orders",
        "id\nupdatedAt\nlineItems(first: 250) { nodes { id quantity } }",
        first=100,
        after="abc",
        query_filter="updated_at:>='2025-01-01T00:00:00Z'",
        sort_key="UPDATED_AT",
        reverse=True,
    )
    # then
    document = parse(request.query)
    field = document.definitions[0].selection_set.selections[0]
    assert field.name.value == "orders"
    assert {arg.name.value for arg in field.arguments} == {"first", "after", "query", "sortKey", "reverse"}
    assert request.variables == {"first": 100, "after": "abc", "query": "updated_at:>='2025-01-01T00:00:00Z'"}


def test_connection_page_query_text_is_the_same_for_every_page():
    # when
    first = connection_page_query("customers", "id", after=None, query_filter="a")
    later = connection_page_query("customers", "id", after="cursor-2", query_filter="a")
    # then
    assert first.query == later.query
    assert first.variables != later.variables


@pytest.mark.parametrize("kwargs", [{"first": 0}, {"first": 251}, {"sort_key": "UPDATED_AT) { x }"}])
def test_connection_page_query_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        connection_page_query("orders", "id", **kwargs)


def test_count_query_is_valid_graphql_and_parses():
    # when
    request = count_query("orders", query_filter="status:any")
    # then
    parse(request.query)
    assert request.variables == {"query": "status:any"}
    assert count_parse({"ordersCount": {"count": 42, "precision": "EXACT"}}, "orders") == 42


def test_a_count_that_takes_no_limit_is_asked_without_one():
    # when
    request = count_query("locations", uncapped=False)
    # then
    parse(request.query)
    assert "locationsCount(query: $query)" in request.query


def test_search_quote_escapes_quotes():
    assert search_quote("it's") == "'it\\'s'"


def test_connection_pages_follows_end_cursor_until_the_last_page(server, make_client):
    # given
    server.script(
        GRAPHQL_PATH,
        graphql_ok(
            {"products": {"nodes": [{"id": "1"}], "pageInfo": {"hasNextPage": True, "endCursor": "c1"}}}
        ),
        graphql_ok(
            {"products": {"nodes": [{"id": "2"}], "pageInfo": {"hasNextPage": False, "endCursor": "c2"}}}
        ),
    )
    client = make_client()
    # when
    pages = list(connection_pages(client, "products", "id", first=1, sort_key="ID"))
    # then
    assert [page.nodes for page in pages] == [[{"id": "1"}], [{"id": "2"}]]
    assert [r.json()["variables"]["after"] for r in server.seen(GRAPHQL_PATH)] == [None, "c1"]
