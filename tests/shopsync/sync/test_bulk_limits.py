"""Every bulk export the engine builds stays within Shopify's bulk limits (contract §2.2, §8.13): at
most five connections, at most two nested connection levels, with a shop's metafields selected too."""

from __future__ import annotations

import pytest
from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode, parse

from shopsync.resources import DECLARATIONS
from shopsync.services.sync.graphql_queries import bulk_query


def _connections(selection_set: SelectionSetNode | None, depth: int = 0) -> list[int]:
    """The depth of every connection (a field selecting `edges`), the top-level one at 0."""
    found: list[int] = []
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, InlineFragmentNode):
            found += _connections(selection.selection_set, depth)
        elif isinstance(selection, FieldNode) and selection.selection_set is not None:
            inner = {f.name.value: f for f in selection.selection_set.selections if isinstance(f, FieldNode)}
            if "edges" in inner:
                node = next(f for f in inner["edges"].selection_set.selections if f.name.value == "node")
                found += [depth, *_connections(node.selection_set, depth + 1)]
            else:
                found += _connections(selection.selection_set, depth)
    return found


@pytest.mark.parametrize("resource", sorted(DECLARATIONS))
@pytest.mark.parametrize("namespaces", [(), ("erp",), ("custom", "erp")])
def test_a_bulk_export_has_at_most_five_connections_two_levels_deep(resource, namespaces):
    # given
    document = parse(bulk_query(resource, None, namespaces=namespaces))
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    # when
    depths = _connections(operation.selection_set)
    # then
    assert len(depths) <= 5, depths
    assert max(depths) <= 2, depths
    assert ("metafields" in bulk_query(resource, None, namespaces=namespaces)) == bool(
        namespaces and any(child.namespaced for child in DECLARATIONS[resource].children)
    )
