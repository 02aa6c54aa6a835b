from __future__ import annotations

from shopsync.resources import Resource
from shopsync.services.sync.graphql_queries import (
    bulk_query,
    children_query,
    page_query,
    query_cost_from_error,
)


def test_bulk_query_sorts_by_id_and_nests_children_as_edges():
    # given
    # when
    query = bulk_query(Resource.ORDERS, "created_at:>='2025-01-01T00:00:00Z' id:>42")
    # then
    assert query.startswith(
        "{ orders(sortKey: ID, query: \"created_at:>='2025-01-01T00:00:00Z' id:>42\") { edges { node { id "
    )
    assert "lineItems { edges { node { id sku" in query
    assert "first:" not in query


def test_bulk_query_for_customers_has_no_children_and_no_filter():
    # given
    # when
    query = bulk_query(Resource.CUSTOMERS, None)
    # then
    assert query.startswith("{ customers(sortKey: ID) { edges { node { id legacyResourceId firstName")
    assert "__parentId" not in query and "edges { node { id sku" not in query


def test_page_query_sorts_by_updated_at_and_pages_children():
    # given
    # when
    query = page_query(Resource.PRODUCTS)
    # then
    assert "products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT)" in query
    assert (
        "variants(first: $childFirst) { pageInfo { hasNextPage endCursor } nodes { id legacyResourceId title"
        in query
    )
    assert "product(id: $id) { variants(first: $first, after: $after)" in children_query(Resource.PRODUCTS)


def test_query_cost_is_read_from_shopifys_max_cost_message():
    # given
    message = "Query cost is 2504, which exceeds the single query max cost limit (1000)."
    # when
    cost = query_cost_from_error(message)
    # then
    assert (cost, query_cost_from_error("something else")) == (2504, None)
