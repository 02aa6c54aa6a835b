"""What a query's cost hint is keyed by (pure)."""

from __future__ import annotations

from shopsync.shopify.pacing import cost_key

QUERY = "query Orders($first: Int!, $after: String) { orders(first: $first, after: $after) { nodes { id } } }"


def test_page_sizes_and_id_list_lengths_are_part_of_the_key():
    # then
    assert cost_key(QUERY, {"first": 5}) != cost_key(QUERY, {"first": 250})
    assert cost_key(QUERY, {"ids": ["a", "b"]}) != cost_key(QUERY, {"ids": ["a", "b", "c"]})
    assert cost_key(QUERY, {"ids": ["a", "b"]}) == cost_key(QUERY, {"ids": ["c", "d"]})


def test_cursors_search_strings_and_flags_are_not():
    # then
    assert cost_key(QUERY, {"first": 50, "after": "x"}) == cost_key(QUERY, {"first": 50, "after": "y"})
    assert cost_key(QUERY, {"query": "updated_at:>a"}) == cost_key(QUERY, None) == QUERY
    assert cost_key(QUERY, {"reverse": True}) == QUERY
