"""An order's extras (contract §8.5) read the same from a GraphQL node, a bulk export and a REST body."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from shopsync.payloads import PayloadValidationError, read_bulk_jsonl
from shopsync.payloads.graphql import parse_graphql_node
from shopsync.payloads.order_extras import order_discount_applications
from shopsync.payloads.rest import parse_order_rest
from shopsync.resources import Resource, declaration_for


def bag(amount: str) -> dict:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


CODE_APPLICATION = {
    "__typename": "DiscountCodeApplication", "index": 0, "allocationMethod": "ACROSS",
    "targetSelection": "ENTITLED", "targetType": "LINE_ITEM",
    "value": {"__typename": "PricingPercentageValue", "percentage": 10.0}, "code": "SAVE10",
}  # fmt: skip
SHIPPING_APPLICATION = {
    "__typename": "ManualDiscountApplication", "index": 1, "allocationMethod": "ONE",
    "targetSelection": "EXPLICIT", "targetType": "SHIPPING_LINE",
    "value": {"__typename": "MoneyV2", "amount": "2.00", "currencyCode": "USD"},
    "title": "Loyal", "description": "Loyal customer",
}  # fmt: skip
TAX = {"title": "GST", "rate": 0.05, "priceSet": bag("1.5")}  # Shopify may drop the trailing zero
ORDER_NODE = {
    "id": "gid://shopify/Order/7", "updatedAt": "2025-01-02T00:00:00Z",
    "billingAddress": {"firstName": "Ada", "city": "Oslo", "countryCodeV2": "NO"},
    "customAttributes": [{"key": "gift_wrap", "value": "yes"}], "sourceName": "web",
    "discountCodes": ["SAVE10"], "taxLines": [{"title": "GST", "rate": 0.05, "priceSet": bag("1.80")}],
    "shippingLine": {
        "title": "Express", "code": "EXPRESS", "source": "shopify", "originalPriceSet": bag("8.00"),
        "discountedPriceSet": bag("6.00"), "taxLines": [{"title": "GST", "rate": 0.05, "priceSet": bag("0.30")}],
        "discountAllocations": [{"allocatedAmountSet": bag("2.00"), "discountApplication": SHIPPING_APPLICATION}],
    },
    "currentTotalPriceSet": bag("30.80"), "totalRefundedSet": bag("5.00"), "netPaymentSet": bag("25.80"),
    "totalReceivedSet": bag("30.80"), "totalOutstandingSet": bag("0.00"),
}  # fmt: skip
LINE_NODE = {
    "id": "gid://shopify/LineItem/71", "quantity": 1, "taxLines": [TAX],
    "discountAllocations": [{"allocatedAmountSet": bag("3.0"), "discountApplication": CODE_APPLICATION}],
}  # fmt: skip
ORDER_REST = {
    "id": 7, "updated_at": "2025-01-01T19:00:00-05:00",
    "billing_address": {"first_name": "Ada", "city": "Oslo", "country_code": "NO", "country_name": "Norway"},
    "note_attributes": [{"name": "gift_wrap", "value": "yes"}], "source_name": "web",
    "discount_codes": [{"code": "SAVE10", "amount": "3.00", "type": "percentage"}],
    "discount_applications": [
        {"type": "discount_code", "value": "10.0", "value_type": "percentage", "allocation_method": "across",
         "target_selection": "entitled", "target_type": "line_item", "code": "SAVE10", "title": "SAVE10"},
        {"type": "manual", "value": "2.0", "value_type": "fixed_amount", "allocation_method": "one",
         "target_selection": "explicit", "target_type": "shipping_line", "title": "Loyal",
         "description": "Loyal customer"},
    ],
    "tax_lines": [{"title": "GST", "rate": 0.05, "price": "1.80"}],
    "shipping_lines": [
        {"id": 9, "title": "Express", "code": "EXPRESS", "source": "shopify", "price": "8.00",
         "discounted_price": "6.00", "tax_lines": [{"title": "GST", "rate": 0.05, "price": "0.30"}],
         "discount_allocations": [{"amount": "2.00", "discount_application_index": 1}]},
        {"id": 10, "title": "Old", "price": "1.00", "is_removed": True},
    ],
    "current_total_price": "30.80", "total_outstanding": "0.00",
    "line_items": [
        {"id": 71, "quantity": 1, "tax_lines": [{"title": "GST", "rate": 0.05, "price": "1.50"}],
         "discount_allocations": [{"amount": "3.00", "discount_application_index": 0}]},
    ],
}  # fmt: skip
CODE = {"index": 0, "type": "discount_code", "code": "SAVE10", "title": None, "description": None, "value": "10",
        "value_type": "percentage", "allocation_method": "across", "target_selection": "entitled",
        "target_type": "line_item"}  # fmt: skip
LOYAL = {"index": 1, "type": "manual", "code": None, "title": "Loyal", "description": "Loyal customer",
         "value": "2", "value_type": "fixed_amount", "allocation_method": "one", "target_selection": "explicit",
         "target_type": "shipping_line"}  # fmt: skip
SHIPPING = {"title": "Express", "code": "EXPRESS", "source": "shopify", "price": "8.00", "discounted_price": "6.00",
            "tax_lines": [{"title": "GST", "rate": 0.05, "price": "0.30"}],
            "discount_allocations": [{"amount": "2.00", "application": LOYAL}]}  # fmt: skip
EXTRAS = ("billing_address", "note_attributes", "source_name", "discount_codes", "shipping_lines", "tax_lines",
          "current_total_price", "total_outstanding")  # fmt: skip


def _extras(record) -> dict:
    return {name: getattr(record, name) for name in EXTRAS}


def test_an_orders_extras_read_the_same_from_graphql_and_rest():
    # when
    graphql = parse_graphql_node(
        declaration_for("orders"), {**ORDER_NODE, "lineItems": {"nodes": [LINE_NODE]}}
    )
    rest = parse_order_rest(ORDER_REST)
    # then: the REST allocations name their application in full, as GraphQL's do
    assert _extras(graphql) == _extras(rest)
    assert graphql.shipping_lines == [SHIPPING]  # the removed REST shipping line is not kept
    assert graphql.billing_address["country_code"] == "NO"
    assert graphql.note_attributes == [{"name": "gift_wrap", "value": "yes"}]
    assert graphql.discount_codes == ["SAVE10"]
    assert graphql.tax_lines == [{"title": "GST", "rate": 0.05, "price": "1.80"}]
    assert graphql.current_total_price == Decimal("30.80")
    [line] = graphql.line_items
    assert line == rest.line_items[0]
    assert line.tax_lines == [{"title": "GST", "rate": 0.05, "price": "1.50"}]
    assert line.discount_allocations == [{"amount": "3.00", "application": CODE}]
    assert order_discount_applications([line.discount_allocations], graphql.shipping_lines) == [CODE, LOYAL]


def test_the_totals_only_graphql_carries_are_not_given_by_a_rest_body():
    # when
    graphql = parse_graphql_node(declaration_for("orders"), ORDER_NODE)
    rest = parse_order_rest(ORDER_REST)
    # then: None is "not carried" (the write path keeps the stored value)
    assert (graphql.total_refunded, graphql.net_payment, graphql.total_received) == (
        Decimal("5.00"), Decimal("25.80"), Decimal("30.80")
    )  # fmt: skip
    assert (rest.total_refunded, rest.net_payment, rest.total_received) == (None, None, None)


def test_a_bulk_export_carries_the_line_items_allocations_in_their_own_lines():
    # given
    lines = [
        orjson.dumps(ORDER_NODE),
        orjson.dumps({**LINE_NODE, "__parentId": ORDER_NODE["id"]}),
    ]
    # when
    [batch] = read_bulk_jsonl(lines, resource=Resource.ORDERS)
    # then
    [order] = batch.records
    assert order.shipping_lines == [SHIPPING]
    assert order.line_items[0].discount_allocations == [{"amount": "3.00", "application": CODE}]


def test_an_order_without_extras_has_empty_lists_and_no_totals():
    # when
    order = parse_graphql_node(
        declaration_for("orders"), {"id": "gid://shopify/Order/8", "updatedAt": "2025-01-02T00:00:00Z"}
    )
    rest = parse_order_rest({"id": 8, "updated_at": "2025-01-02T00:00:00Z"})
    # then
    assert _extras(order) == _extras(rest) == {
        "billing_address": None, "note_attributes": [], "source_name": None, "discount_codes": [],
        "shipping_lines": [], "tax_lines": [], "current_total_price": None, "total_outstanding": None,
    }  # fmt: skip


def test_a_rest_allocation_naming_an_unknown_application_keeps_its_index():
    # given
    body = {**ORDER_REST, "discount_applications": []}
    # when
    order = parse_order_rest(body)
    # then
    assert order.line_items[0].discount_allocations == [{"amount": "3.00", "application": {"index": 0}}]


@pytest.mark.parametrize(
    ("node", "field"),
    [
        ({**ORDER_NODE, "taxLines": [{"title": "GST", "rate": "high"}]}, "taxLines.0.rate"),
        ({**ORDER_NODE, "taxLines": [{"priceSet": bag("1e400")}]}, "taxLines.0.priceSet.shopMoney.amount"),
        ({**ORDER_NODE, "shippingLine": {"discountAllocations": [{"discountApplication": {"index": "x"}}]}},
         "shippingLine.discountAllocations.0.discountApplication.index"),
    ],
)  # fmt: skip
def test_malformed_extras_fail_the_order_with_the_field_named(node, field):
    # when
    with pytest.raises(PayloadValidationError) as error:
        parse_graphql_node(declaration_for("orders"), node)
    # then
    assert [e.field for e in error.value.errors] == [field]
