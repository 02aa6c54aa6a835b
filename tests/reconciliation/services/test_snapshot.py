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
    rows = list(_rows(iter(lines), [], {"Product": "members"}))
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
        list(_rows(iter(lines), [], {"Product": "members"}))
