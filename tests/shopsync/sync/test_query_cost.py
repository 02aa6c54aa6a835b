"""Our estimate of a query's requested cost is the simulator's (which follows Shopify's rules, contract
§1.3), and the page sizes computed from it keep every query the engine sends within 1000 points."""

from __future__ import annotations

import pytest
from graphql import OperationDefinitionNode, parse, validate

from shopify_sim.admin_graphql import cost, schema
from shopsync.resources import DECLARATIONS, declaration_for
from shopsync.services.sync.graphql_queries import child_first_page, children_query, nodes_query, page_query
from shopsync.services.sync.query_cost import (
    MAX_REQUESTED_COST,
    child_page_fitting,
    children_page_size,
    ids_per_query,
    page_size,
    requested_cost,
)


def _simulators_cost(query: str, variables: dict) -> int:
    sim_schema = schema.schema_for("2026-01")  # the version the product runs on (Refund.processedAt)
    document = parse(query)
    assert validate(sim_schema, document) == []
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return cost.operation_cost(cost.Walk(sim_schema, {}, variables), operation)


def _page(resource: str, first: int) -> tuple[str, dict]:
    return page_query(resource), {
        "first": first,
        "after": None,
        "query": None,
        "childFirst": child_first_page(resource),
    }


def _nodes(resource: str, ids: int, child_first: int = 20) -> tuple[str, dict]:
    return nodes_query(resource), {
        "ids": [f"gid://shopify/X/{i}" for i in range(ids)],
        "childFirst": child_first,
    }


@pytest.mark.parametrize("resource", sorted(DECLARATIONS))
def test_the_estimate_is_the_simulators_requested_cost(resource):
    for query, variables in (_page(resource, 3), _nodes(resource, 2)):
        assert requested_cost(query, variables) == _simulators_cost(query, variables)


@pytest.mark.parametrize("resource", sorted(DECLARATIONS))
def test_a_page_holds_as_many_roots_as_fit_in_1000_points(resource):
    # when
    size = page_size(resource)
    # then: within the limit; one more root would not be, unless the declaration caps it first
    assert _simulators_cost(*_page(resource, size)) <= MAX_REQUESTED_COST
    if size < declaration_for(resource).page_size:
        assert _simulators_cost(*_page(resource, size + 1)) > MAX_REQUESTED_COST


def test_the_orders_by_id_and_children_queries_fit_too():
    # given: a dead letter's refetch asks for 100 line items with its order
    child_first = child_page_fitting("orders", 100)
    # then
    assert child_first < 100
    assert _simulators_cost(*_nodes("orders", 1, child_first)) <= MAX_REQUESTED_COST
    assert _simulators_cost(*_nodes("orders", 1, child_first + 1)) > MAX_REQUESTED_COST
    ids = ids_per_query("orders", 20)
    assert (
        _simulators_cost(*_nodes("orders", ids))
        <= MAX_REQUESTED_COST
        < _simulators_cost(*_nodes("orders", ids + 1))
    )
    first = children_page_size("orders", "line_items", 250)
    children = children_query("orders")
    assert _simulators_cost(children, {"id": "gid://shopify/Order/1", "first": first}) <= MAX_REQUESTED_COST
    assert (
        _simulators_cost(children, {"id": "gid://shopify/Order/1", "first": first + 1}) > MAX_REQUESTED_COST
    )


def test_fragments_and_lists_are_counted_like_shopify_counts_them():
    # given: a list of objects (once), an interface with two fragments (both), a connection
    query = (
        "query Q($first: Int!) { orders(first: $first) { nodes { id taxLines { priceSet { shopMoney { amount } } } "
        "lineItems(first: 5) { nodes { discountAllocations { discountApplication { index "
        "... on DiscountCodeApplication { code } ... on ManualDiscountApplication { title } "
        "value { ... on MoneyV2 { amount } } } } } } } } }"
    )
    # then: 2 + 10 x (1 + taxLines 3 + lineItems (2 + 5 x (1 + allocations 1 + application 1 + value 1)))
    assert (
        requested_cost(query, {"first": 10})
        == 2 + 10 * (1 + 3 + 2 + 5 * 4)
        == _simulators_cost(query, {"first": 10})
    )
