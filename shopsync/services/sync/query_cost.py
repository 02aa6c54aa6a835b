"""The requested cost of our own GraphQL queries, and the page sizes that keep them within Shopify's
single-query limit whatever the declarations select.

Shopify reserves a query's *requested* cost before running it and refuses one above 1000 points
(contract §0, §1.3): scalars and enums cost 0, an object 1 plus its fields, a connection 2 plus
`first` times (1 + its node's cost). A list of objects costs its object once, or `first` (or the
number of `ids`) times when it takes one. The page size of a resource used to be a hand-computed number on
its declaration; every field a declaration adds (an order's extras, its refunds' and fulfillments'
line items) moved it. It is computed here from the very query text the engine sends, so a page stays
within the limit whatever the selections grow to; the declaration's `page_size` / `ids_per_query`
remain upper bounds.

The walk needs no schema: a field whose selection has `nodes` or `edges` is a connection, any other
field with a selection an object. Every fragment of an interface or union is counted (an upper bound
where Shopify might count only the costliest).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from graphql import (
    FieldNode,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    parse,
)

from shopsync.resources import declaration_for
from shopsync.services.sync.graphql_queries import (
    child_first_page,
    children_query,
    nodes_query,
    page_query,
)

MAX_REQUESTED_COST = 1000
MAX_PAGE = 250  # Shopify's `first` limit, and its input array limit for `ids`
CONNECTION_OVERHEAD = 2


def requested_cost(query: str, variables: Mapping[str, Any]) -> int:
    """The requested cost of `query` (one operation) with `variables`."""
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return _selection_cost(operation.selection_set, variables)


def _selection_cost(selection_set: SelectionSetNode | None, variables: Mapping[str, Any]) -> int:
    total = 0
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, InlineFragmentNode):
            total += _selection_cost(selection.selection_set, variables)
        elif isinstance(selection, FieldNode) and selection.selection_set is not None:
            total += _field_cost(selection, variables)
    return total


def _field_cost(node: FieldNode, variables: Mapping[str, Any]) -> int:
    arguments = {argument.name.value: _value(argument.value, variables) for argument in node.arguments or ()}
    inner = {f.name.value: f for f in node.selection_set.selections if isinstance(f, FieldNode)}
    if "nodes" in inner or "edges" in inner:
        size = next((arguments[k] for k in ("first", "last") if arguments.get(k) is not None), MAX_PAGE)
        shapes = [_selection_cost(inner["nodes"].selection_set, variables)] if "nodes" in inner else []
        if "edges" in inner:
            edges = {
                f.name.value: f for f in inner["edges"].selection_set.selections if isinstance(f, FieldNode)
            }
            if "node" in edges:
                shapes.append(_selection_cost(edges["node"].selection_set, variables))
        return CONNECTION_OVERHEAD + size * max((1 + cost for cost in shapes), default=0)
    ids, first = arguments.get("ids"), arguments.get("first")
    count = len(ids) if isinstance(ids, list) else first if first is not None else 1
    return count * (1 + _selection_cost(node.selection_set, variables))


def _value(value: Any, variables: Mapping[str, Any]) -> Any:
    if isinstance(value, VariableNode):
        return variables.get(value.name.value)
    if isinstance(value, IntValueNode):
        return int(value.value)
    if isinstance(value, ListValueNode):
        return list(value.values)
    return None


def _largest_fitting(cost_of, ceiling: int) -> int:
    """The largest n in 1..ceiling with cost_of(n) within the limit (cost grows linearly with n)."""
    base, step = cost_of(0), cost_of(1) - cost_of(0)
    fitting = (MAX_REQUESTED_COST - base) // step if step > 0 else ceiling
    return max(1, min(ceiling, fitting))


@cache
def page_size(resource: str) -> int:
    """Roots per page of `page_query`, with each connection child's first page, within the limit."""
    declaration = declaration_for(resource)
    query, child_first = page_query(resource), child_first_page(resource)
    return _largest_fitting(
        lambda n: requested_cost(query, {"first": n, "childFirst": child_first}),
        min(declaration.page_size, MAX_PAGE),
    )


@cache
def ids_per_query(resource: str, child_page_size: int) -> int:
    """Ids per `nodes_query`, each root with `child_page_size` children of each connection, within the limit."""
    declaration = declaration_for(resource)
    query = nodes_query(resource)
    return _largest_fitting(
        lambda n: requested_cost(query, {"ids": ["id"] * n, "childFirst": child_page_size}),
        min(declaration.ids_per_query, MAX_PAGE),
    )


@cache
def child_page_fitting(resource: str, child_page_size: int) -> int:
    """The first page of children (`$childFirst`) one root of a `nodes_query` can ask for within the
    limit, at most `child_page_size`: a by-id refetch asking 100 line items of an order with its
    extras would cost more than 1000 points on its own."""
    query = nodes_query(resource)
    return _largest_fitting(
        lambda n: requested_cost(query, {"ids": ["id"], "childFirst": n}), child_page_size
    )


@cache
def children_page_size(resource: str, child_name: str, ceiling: int) -> int:
    """Children per `children_query` page of one connection child, within the limit, at most `ceiling`."""
    query = children_query(resource, declaration_for(resource).child(child_name))
    return _largest_fitting(lambda n: requested_cost(query, {"id": "id", "first": n}), ceiling)
