"""Refunds and fulfillments in both payload shapes (contract §8.3, §8.4): the same record from a
GraphQL node and from a REST body; a bulk line's items without their parts give them "not given"; a
refund's transactions are kept as links to the order's transactions (by their ids) in both shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from shopsync.payloads.graphql import ORDER, order_record
from shopsync.payloads.order_children import FULFILLMENT, REFUND, fulfillment_record, refund_record
from shopsync.payloads.records import (
    FulfillmentLineItemRecord,
    FulfillmentRecord,
    OrderAdjustmentRecord,
    RefundLineItemRecord,
    RefundRecord,
    RefundShippingLineRecord,
    RefundTransactionRecord,
)
from shopsync.payloads.rest import parse_fulfillment_rest, parse_refund_rest

AT = "2025-05-07T08:37:00Z"
WHEN = datetime(2025, 5, 7, 8, 37, tzinfo=UTC)


def _bag(amount: str, presentment: str | None = None) -> dict:
    bag = {"shopMoney": {"amount": amount, "currencyCode": "USD"}}
    if presentment is not None:
        bag["presentmentMoney"] = {"amount": presentment, "currencyCode": "CAD"}
    return bag


REFUND_NODE = {
    "id": "gid://shopify/Refund/90", "createdAt": AT, "processedAt": AT, "note": "Chipped",
    "totalRefundedSet": _bag("10.00", "13.60"),
    "refundLineItems": {"pageInfo": {"hasNextPage": False}, "nodes": [{
        "id": "gid://shopify/RefundLineItem/91", "quantity": 1, "restockType": "RETURN",
        "location": {"id": "gid://shopify/Location/5"}, "lineItem": {"id": "gid://shopify/LineItem/11"},
        "subtotalSet": _bag("8.00"), "totalTaxSet": _bag("0.50"),
    }]},
    "refundShippingLines": {"nodes": [{"id": "gid://shopify/RefundShippingLine/92",
                                       "shippingLine": {"id": "gid://shopify/ShippingLine/3"},
                                       "subtotalAmountSet": _bag("2.00")}]},
    "orderAdjustments": {"nodes": [{"id": "gid://shopify/OrderAdjustment/93", "reason": "REFUND_DISCREPANCY",
                                    "amountSet": _bag("-0.50"), "taxAmountSet": _bag("0.00")}]},
    "transactions": {"pageInfo": {"hasNextPage": False}, "nodes": [{"id": "gid://shopify/OrderTransaction/94"},
                                                                    {"id": "gid://shopify/OrderTransaction/95"}]},
}  # fmt: skip
REFUND_REST = {
    "id": 90, "order_id": 7, "created_at": "2025-05-07T03:37:00-05:00", "processed_at": AT, "note": "Chipped",
    "refund_line_items": [{"id": 91, "line_item_id": 11, "quantity": 1, "location_id": 5,
                           "restock_type": "return", "subtotal": 8.0, "total_tax": 0.5}],
    "refund_shipping_lines": [{"id": 92, "shipping_line_id": 3,
                               "subtotal_amount_set": {"shop_money": {"amount": "2.00", "currency_code": "USD"}}}],
    "order_adjustments": [{"id": 93, "kind": "refund_discrepancy", "amount": "-0.50", "tax_amount": "0.00"}],
    "transactions": [{"id": 94, "kind": "refund", "status": "success", "amount": "13.60"},
                     {"id": 95, "kind": "refund", "status": "failure", "amount": "13.60"}],
}  # fmt: skip
EXPECTED_REFUND = RefundRecord(
    shopify_id=90, shopify_created_at=WHEN, processed_at=WHEN, note="Chipped", total_refunded=Decimal("13.60"),
    refund_line_items=[RefundLineItemRecord(91, 11, 1, "return", 5, Decimal("8.00"), Decimal("0.50"))],
    refund_shipping_lines=[RefundShippingLineRecord(92, 3, Decimal("2.00"))],
    order_adjustments=[OrderAdjustmentRecord(93, "refund_discrepancy", Decimal("-0.50"), Decimal("0.00"))],
    refund_transactions=[RefundTransactionRecord(94), RefundTransactionRecord(95)],
)  # fmt: skip


def test_a_refund_reads_the_same_from_graphql_and_rest():
    # when
    from_graphql = refund_record(REFUND.validate_python(REFUND_NODE))
    from_rest = parse_refund_rest(REFUND_REST)
    # then: the total in the presentment currency, as its successful transactions add up in REST
    assert from_graphql == EXPECTED_REFUND
    assert from_rest == EXPECTED_REFUND


def test_a_fulfillment_reads_the_same_from_graphql_and_rest():
    # given
    node = {
        "id": "gid://shopify/Fulfillment/80", "name": "#1001.1", "status": "SUCCESS", "displayStatus": "IN_TRANSIT",
        "createdAt": AT, "updatedAt": AT, "location": {"id": "gid://shopify/Location/5"},
        "trackingInfo": [{"company": "UPS", "number": "1Z9", "url": "https://ups.example/1Z9"}],
        "fulfillmentLineItems": {"nodes": [{"id": "gid://shopify/FulfillmentLineItem/81", "quantity": 2,
                                            "lineItem": {"id": "gid://shopify/LineItem/11"}}]},
    }  # fmt: skip
    rest = {
        "id": 80, "order_id": 7, "name": "#1001.1", "status": "success", "shipment_status": "in_transit",
        "created_at": AT, "updated_at": AT, "location_id": 5, "tracking_company": "UPS", "tracking_number": "1Z9",
        "tracking_url": "https://ups.example/1Z9",
        "line_items": [{"id": 11, "fulfillment_line_item_id": 81, "quantity": 2, "title": "Mug"}],
    }  # fmt: skip
    expected = FulfillmentRecord(
        shopify_id=80, shopify_created_at=WHEN, shopify_updated_at=WHEN, name="#1001.1", status="success",
        shipment_status="in_transit", display_status="in_transit", tracking_company="UPS", tracking_number="1Z9",
        tracking_url="https://ups.example/1Z9", location_shopify_id=5,
        fulfillment_line_items=[FulfillmentLineItemRecord(81, 11, 2)],
    )  # fmt: skip
    # when / then
    assert fulfillment_record(FULFILLMENT.validate_python(node)) == expected
    assert parse_fulfillment_rest(rest) == expected


def test_a_cancelled_fulfillment_displays_canceled_in_both_shapes():
    # given
    node = {"id": "gid://shopify/Fulfillment/80", "status": "CANCELLED", "displayStatus": "CANCELED"}
    rest = {"id": 80, "status": "cancelled", "shipment_status": None}
    # when
    shapes = [fulfillment_record(FULFILLMENT.validate_python(node)), parse_fulfillment_rest(rest)]
    # then
    assert [(f.status, f.display_status, f.shipment_status) for f in shapes] == [
        ("cancelled", "canceled", None)
    ] * 2


def test_a_bulk_line_gives_its_refunds_and_fulfillments_without_their_parts():
    # given: the order's bulk line (lists inline, no connections under them)
    line = {
        "id": "gid://shopify/Order/7", "updatedAt": AT,
        "refunds": [{k: v for k, v in REFUND_NODE.items() if not isinstance(v, dict) or k == "totalRefundedSet"}],
        "fulfillments": [{"id": "gid://shopify/Fulfillment/80", "status": "SUCCESS"}],
    }  # fmt: skip
    # when
    record = order_record(ORDER.validate_python(line))
    # then: "not given", so the parts already stored stay
    [refund] = record.refunds
    assert (
        refund.refund_line_items,
        refund.refund_shipping_lines,
        refund.order_adjustments,
        refund.refund_transactions,
    ) == (None, None, None, None)
    assert record.fulfillments[0].fulfillment_line_items is None


def test_a_rest_fulfillment_whose_lines_do_not_name_their_fulfillment_line_items_leaves_them_alone():
    # given
    rest = {"id": 80, "status": "success", "line_items": [{"id": 11, "quantity": 2}]}
    # when
    record = parse_fulfillment_rest(rest)
    # then: not given (the stored ones stay), the fulfillment itself written
    assert (record.shopify_id, record.fulfillment_line_items) == (80, None)


def test_a_rest_refund_whose_transactions_do_not_all_name_their_ids_leaves_its_links_alone():
    # given: one transaction without its id (the others' links alone would be a partial set)
    rest = {**REFUND_REST, "transactions": [{"id": 94, "kind": "refund", "status": "success", "amount": "13.60"},
                                            {"kind": "refund", "status": "success", "amount": "1.00"}]}  # fmt: skip
    # when
    record = parse_refund_rest(rest)
    # then: not given (the stored links stay); the refund and its other parts are read
    assert (record.shopify_id, record.refund_transactions) == (90, None)
    assert record.refund_line_items == EXPECTED_REFUND.refund_line_items


def test_a_refund_without_transactions_links_none_in_both_shapes():
    # given: a restock-only refund (no money moved)
    node = {"id": "gid://shopify/Refund/90", "transactions": {"nodes": []}}
    rest = {"id": 90, "transactions": []}
    # when
    shapes = [refund_record(REFUND.validate_python(node)), parse_refund_rest(rest)]
    # then: an empty set (given: a stored link would go), not "not given"
    assert [refund.refund_transactions for refund in shapes] == [[], []]
