"""The snapshot export's query and lines: reconciled children inline (transactions) or as child lines
(a collection's members)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciliation.services.snapshot import SnapshotError, _rows, snapshot_query


def test_the_snapshot_selects_reconciled_lists_inline_and_reconciled_connections_as_edges():
    # when / then
    assert snapshot_query("orders") == (
        "{ orders { edges { node { id updatedAt transactions { id } refunds { id } fulfillments { id } } } } }"
    )
    assert snapshot_query("collections") == (
        "{ collections { edges { node { id updatedAt products { edges { node { id } } } } } } }"
    )


def test_member_lines_are_gathered_under_the_collection_before_them():
    # given
    lines = [
        b'{"id":"gid://shopify/Collection/1","updatedAt":"2025-01-01T00:00:00Z"}',
        b'{"id":"gid://shopify/Product/7","__parentId":"gid://shopify/Collection/1"}',
        b'{"id":"gid://shopify/Product/8","__parentId":"gid://shopify/Collection/1"}',
        b'{"id":"gid://shopify/Collection/2","updatedAt":"2025-01-02T00:00:00Z"}',
    ]
    # when
    rows = list(_rows(iter(lines), [], {"Product": ("members", "")}))
    # then
    assert rows == [
        (1, datetime(2025, 1, 1, tzinfo=UTC), (("members", 7), ("members", 8))),
        (2, datetime(2025, 1, 2, tzinfo=UTC), ()),
    ]


def test_a_member_line_that_does_not_follow_its_collection_fails_the_snapshot():
    # given
    lines = [
        b'{"id":"gid://shopify/Collection/1","updatedAt":"2025-01-01T00:00:00Z"}',
        b'{"id":"gid://shopify/Product/7","__parentId":"gid://shopify/Collection/9"}',
    ]
    # when / then
    with pytest.raises(SnapshotError, match="not after its parent"):
        list(_rows(iter(lines), [], {"Product": ("members", "")}))


def test_locations_are_snapshotted_inactive_ones_included_with_their_levels_keyed_by_item():
    # when / then
    assert snapshot_query("locations") == (
        "{ locations(includeInactive: true, includeLegacy: true) { edges { node { id updatedAt "
        "inventoryLevels { edges { node { id item { id } } } } } } } }"
    )


def test_level_lines_are_gathered_under_their_location_by_their_items_id():
    # given: a level's own GID is composite; its key is its item
    lines = [
        b'{"id":"gid://shopify/Location/5","updatedAt":"2025-01-01T00:00:00Z"}',
        b'{"id":"gid://shopify/InventoryLevel/5?inventory_item_id=77","item":{"id":"gid://shopify/InventoryItem/77"},'
        b'"__parentId":"gid://shopify/Location/5"}',
    ]
    # when
    rows = list(_rows(iter(lines), [], {"InventoryLevel": ("levels", "item")}))
    # then
    assert rows == [(5, datetime(2025, 1, 1, tzinfo=UTC), (("levels", 77),))]
