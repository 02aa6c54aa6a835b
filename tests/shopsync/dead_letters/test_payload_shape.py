from __future__ import annotations

import pytest

from shopsync.services.dead_letter_retries import PayloadShape, payload_shape


@pytest.mark.parametrize(
    ("payload", "shape"),
    [
        ({"id": 1, "admin_graphql_api_id": "gid://shopify/Order/1"}, PayloadShape.REST),
        ({"id": "gid://shopify/Order/1", "updatedAt": "2025-01-01T00:00:00Z"}, PayloadShape.GRAPHQL),
        ({"node": {"id": "gid://shopify/Order/1"}, "children": []}, PayloadShape.GRAPHQL),
        ({"id": "gid://shopify/Order/1", "_shape": "rest"}, PayloadShape.REST),
        ({"id": 1, "_shape": "graphql"}, PayloadShape.GRAPHQL),
        ({"id": 1, "_shape": "xml"}, PayloadShape.REST),
        (None, PayloadShape.REST),
    ],
)
def test_payload_shape_is_detected_from_the_id_or_an_explicit_hint(payload, shape):
    # given / when
    detected = payload_shape(payload)
    # then
    assert detected == shape
