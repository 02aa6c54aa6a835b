from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from shopsync.payloads.records import LineItemRecord, OrderRecord, ProductRecord, VariantRecord
from shopsync.resources import Resource
from shopsync.services.sync.record_codec import record_from_json, record_to_json


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
