"""Transactions and product options in both payload shapes, and in a bulk export (contract §8.2, §8.7)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import orjson

from shopsync.payloads import read_bulk_jsonl
from shopsync.payloads.graphql import parse_graphql_node
from shopsync.payloads.records import ProductOptionRecord, TransactionRecord
from shopsync.payloads.rest import parse_product_rest, parse_transaction_rest
from shopsync.resources import Resource, declaration_for

ORDER = {"id": "gid://shopify/Order/7", "updatedAt": "2025-01-02T00:00:00Z"}
TRANSACTION_NODE = {
    "id": "gid://shopify/OrderTransaction/71", "kind": "CAPTURE", "status": "SUCCESS", "gateway": "bogus",
    "amountSet": {"shopMoney": {"amount": "9.00", "currencyCode": "USD"},
                  "presentmentMoney": {"amount": "10.00", "currencyCode": "EUR"}},
    "createdAt": "2025-01-01T10:00:00Z", "processedAt": "2025-01-01T10:00:01Z",
    "parentTransaction": {"id": "gid://shopify/OrderTransaction/70"}, "errorCode": None, "test": True,
    "authorizationCode": "53433",
}  # fmt: skip
TRANSACTION_REST = {
    "id": 71, "order_id": 7, "kind": "capture", "status": "success", "gateway": "bogus", "amount": "10.00",
    "currency": "EUR", "created_at": "2025-01-01T05:00:00-05:00", "processed_at": "2025-01-01T05:00:01-05:00",
    "parent_id": 70, "error_code": None, "test": True, "authorization": "53433",
}  # fmt: skip
EXPECTED = TransactionRecord(
    shopify_id=71, kind="capture", status="success", gateway="bogus", amount=Decimal("10.00"), currency="EUR",
    parent_transaction_shopify_id=70, processed_at=datetime(2025, 1, 1, 10, 0, 1, tzinfo=UTC),
    shopify_created_at=datetime(2025, 1, 1, 10, 0, tzinfo=UTC), test=True, authorization_code="53433",
)  # fmt: skip


def test_a_transaction_reads_the_same_from_graphql_and_rest():
    # when
    order = parse_graphql_node(declaration_for("orders"), {**ORDER, "transactions": [TRANSACTION_NODE]})
    # then
    assert order.transactions == [EXPECTED]
    assert parse_transaction_rest(TRANSACTION_REST) == EXPECTED


def test_an_order_node_without_transactions_does_not_give_them():
    # when
    order = parse_graphql_node(declaration_for("orders"), ORDER)
    # then: None keeps the stored ones; an empty list would remove them
    assert (order.transactions, order.line_items) == (None, [])


def test_a_bulk_export_carries_transactions_inline_in_the_order_line():
    # given: a list field has no `__parentId` lines (contract §8.13)
    lines = [
        orjson.dumps({**ORDER, "transactions": [TRANSACTION_NODE]}),
        orjson.dumps({"id": "gid://shopify/LineItem/5", "quantity": 2, "__parentId": ORDER["id"]}),
    ]
    # when
    [batch] = read_bulk_jsonl(lines, resource=Resource.ORDERS)
    # then
    [order] = batch.records
    assert (order.transactions, [item.shopify_id for item in order.line_items], batch.errors) == (
        [EXPECTED], [5], [],
    )  # fmt: skip


def test_variant_options_and_product_options_read_the_same_from_graphql_and_rest():
    # given
    node = {
        "id": "gid://shopify/Product/3", "updatedAt": "2025-01-02T00:00:00Z",
        "options": [{"id": "gid://shopify/ProductOption/31", "name": "Size", "position": 1, "values": ["S", "M"]},
                    {"id": "gid://shopify/ProductOption/32", "name": "Color", "position": 2, "values": ["Red"]}],
        "variants": {"nodes": [{"id": "gid://shopify/ProductVariant/301",
                                "selectedOptions": [{"name": "Size", "value": "M"}, {"name": "Color", "value": "Red"}]}]},
    }  # fmt: skip
    rest = {
        "id": 3, "updated_at": "2025-01-02T00:00:00Z",
        "options": [{"id": 31, "product_id": 3, "name": "Size", "position": 1, "values": ["S", "M"]},
                    {"id": 32, "product_id": 3, "name": "Color", "position": 2, "values": ["Red"]}],
        "variants": [{"id": 301, "option1": "M", "option2": "Red", "option3": None}],
    }  # fmt: skip
    # when
    from_graphql = parse_graphql_node(declaration_for("products"), node)
    from_rest = parse_product_rest(rest)
    # then
    assert from_graphql == from_rest
    assert from_rest.options == [
        ProductOptionRecord(shopify_id=31, name="Size", position=1, option_values=["S", "M"]),
        ProductOptionRecord(shopify_id=32, name="Color", position=2, option_values=["Red"]),
    ]
    assert (from_rest.variants[0].option1, from_rest.variants[0].option2, from_rest.variants[0].option3) == (
        "M", "Red", None,
    )  # fmt: skip


def test_a_sparse_transaction_node_reads_as_nones_and_falls_back_to_shop_money():
    # given: only the required fields; then shop money alone, blanks and an offset time
    sparse = {"id": "gid://shopify/OrderTransaction/72", "kind": "VOID"}
    shop_money_only = {
        **sparse, "status": "", "gateway": "", "errorCode": "", "authorizationCode": "", "parentTransaction": None,
        "amountSet": {"shopMoney": {"amount": "9.00", "currencyCode": ""}}, "processedAt": "2025-01-01T05:00:01-05:00",
    }  # fmt: skip
    # when
    order = parse_graphql_node(
        declaration_for("orders"), {**ORDER, "transactions": [sparse, shop_money_only]}
    )
    # then
    assert order.transactions == [
        TransactionRecord(shopify_id=72, kind="void"),
        TransactionRecord(
            shopify_id=72, kind="void", amount=Decimal("9.00"),
            processed_at=datetime(2025, 1, 1, 10, 0, 1, tzinfo=UTC),
        ),
    ]  # fmt: skip
