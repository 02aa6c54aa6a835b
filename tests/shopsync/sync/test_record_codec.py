from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from shopsync.payloads.records import LineItemRecord, OrderRecord, ProductRecord, VariantRecord
from shopsync.resources import Resource, declaration_for
from shopsync.services.sync.record_codec import (
    batch_from_json,
    batch_to_json,
    record_from_json,
    record_to_json,
)
from shopsync.services.upsert import EncodedBatch


def test_an_order_with_line_items_survives_a_json_round_trip():
    # given
    order = OrderRecord(
        shopify_id=820982911946154508, shopify_created_at=None, shopify_updated_at=datetime(2025, 3, 1, 12, tzinfo=UTC),
        total_price=Decimal("359.9700"), tags=["vip", "b2b"], shipping_address={"city": "Paris"},
        line_items=[LineItemRecord(shopify_id=1, quantity=2, price=Decimal("1.10"), sku=None)],
    )  # fmt: skip
    # when
    stored = json.loads(json.dumps(record_to_json(order)))
    # then
    assert record_from_json(Resource.ORDERS, stored) == order


def test_a_product_with_variants_survives_a_json_round_trip():
    # given
    product = ProductRecord(
        shopify_id=5, shopify_created_at=datetime(2024, 1, 1, tzinfo=UTC), shopify_updated_at=datetime(2025, 1, 1, tzinfo=UTC),
        title="Hat", variants=[VariantRecord(shopify_id=6, price=Decimal("9.99"), shopify_updated_at=datetime(2025, 1, 1, tzinfo=UTC))],
    )  # fmt: skip
    # when
    stored = json.loads(json.dumps(record_to_json(product)))
    # then
    assert record_from_json(Resource.PRODUCTS, stored) == product


def test_an_encoded_batch_stored_before_a_child_table_was_declared_is_read_back_table_by_table():
    # given: an orders batch as stored when one table in the middle (refund transactions) and one at
    # the end were not declared yet, and one table since dropped
    tables = [child.name for child in declaration_for(Resource.ORDERS).all_children()]
    stored_tables = [name for name in tables if name not in ("refund_transactions", tables[-1])]
    stored = {
        "format": "encoded",
        "shopify_ids": [1, 2],
        "parents": "parents\n",
        "child_tables": [*stored_tables, "dropped_since"],
        "children": [f"{name}\n" for name in stored_tables] + ["dropped\n"],
        "children_not_given": [[2] for _ in stored_tables] + [[]],
    }
    # when
    batch = batch_from_json(Resource.ORDERS, json.loads(json.dumps(stored)))
    # then: each stored table is where today's order has it; the new ones are "not given" for both
    assert isinstance(batch, EncodedBatch)
    by_name = dict(zip(tables, zip(batch.children, batch.children_not_given, strict=True), strict=True))
    for name in stored_tables:
        assert by_name[name] == (f"{name}\n".encode(), (2,))
    assert by_name["refund_transactions"] == (b"", (1, 2))
    assert by_name[tables[-1]] == (b"", (1, 2))


def test_an_encoded_batch_round_trips_with_its_table_names():
    # given
    tables = list(declaration_for(Resource.ORDERS).all_children())
    batch = EncodedBatch(
        resource=Resource.ORDERS,
        shopify_ids=(7,),
        parents=b"p\n",
        children=tuple(f"{child.name}\n".encode() for child in tables),
        children_not_given=tuple(() for _ in tables),
    )
    # when
    again = batch_from_json(Resource.ORDERS, json.loads(json.dumps(batch_to_json(batch))))
    # then
    assert again == batch
