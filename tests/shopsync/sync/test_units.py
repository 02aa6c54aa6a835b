from __future__ import annotations

from shopsync.resources import Resource
from shopsync.services.dead_letter_retries import _parse_record
from shopsync.services.sync.units import nodes_parse, unit_parse

ORDER = {"id": "gid://shopify/Order/7", "legacyResourceId": "7", "createdAt": "2025-01-01T00:00:00Z",
         "updatedAt": "2025-01-02T00:00:00Z"}  # fmt: skip
LINES = [{"id": f"gid://shopify/LineItem/{n}", "quantity": 1} for n in (71, 72)]


def test_a_paged_unit_stored_for_a_retry_keeps_its_children():
    # given: an invalid order from a page, its line items gathered beside it
    bad = {**ORDER, "updatedAt": "not a date"}
    # when
    records, invalid = nodes_parse(Resource.ORDERS, [(bad, LINES)], where={"page": 1})
    # then
    assert records == []
    assert invalid[0].raw == {"node": bad, "children": {"line_items": LINES}}
    # and once the stored payload is fixed, the retry parses the whole order
    fixed = {**invalid[0].raw, "node": ORDER}
    assert [line.shopify_id for line in _parse_record(resource="orders", payload=fixed).line_items] == [
        71,
        72,
    ]


def test_a_unit_whose_children_are_still_nested_in_its_node_keeps_them():
    # given
    node = {**ORDER, "lineItems": {"nodes": LINES}}
    # when
    record = unit_parse(Resource.ORDERS, {"node": node, "children": []})
    # then
    assert [line.shopify_id for line in record.line_items] == [71, 72]


REFUND = {"id": "gid://shopify/Refund/90", "createdAt": "2025-01-02T00:00:00Z",
          "totalRefundedSet": {"shopMoney": {"amount": "5.00"}}}  # fmt: skip


def test_an_order_with_a_malformed_refund_is_written_without_its_refunds_and_dead_lettered_whole():
    # given: a page's order whose second refund is malformed
    node = {**ORDER, "refunds": [REFUND, {**REFUND, "id": "gid://shopify/Refund/91", "createdAt": "soon"}],
            "fulfillments": [{"id": "gid://shopify/Fulfillment/80", "status": "SUCCESS"}]}  # fmt: skip
    # when
    records, invalid = nodes_parse(Resource.ORDERS, [(node, LINES)], where={"page": 1})
    # then: the rest of the order is written (its refunds not given: the stored ones stay) ...
    [record] = records
    assert record.refunds is None
    assert [f.shopify_id for f in record.fulfillments] == [80]
    assert [line.shopify_id for line in record.line_items] == [71, 72]
    # ... and the whole payload waits in the dead letters, naming the field
    [letter] = invalid
    assert letter.shopify_id == 7
    assert letter.raw["node"] == node
    assert "refunds.1.createdAt" in letter.error


def test_an_order_whose_own_fields_are_malformed_is_not_salvaged():
    # given
    node = {**ORDER, "updatedAt": "never", "refunds": [{**REFUND, "createdAt": "soon"}]}
    # when
    records, invalid = nodes_parse(Resource.ORDERS, [(node, LINES)], where={"page": 1})
    # then
    assert records == []
    assert len(invalid) == 1
