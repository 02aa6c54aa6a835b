"""Record builders for the write-path tests (the `sqlite`-marked ones also run in the SQLite lane)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shopsync.payloads.records import (
    CustomerRecord,
    LineItemRecord,
    OrderRecord,
    ProductRecord,
    VariantRecord,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def make_order():
    def build(
        shopify_id: int, *, version: int = 0, items: dict[int, int] | None = None, **fields
    ) -> OrderRecord:
        """`version` is minutes after T0 for shopify_updated_at; `items` maps line item id -> quantity."""
        items = {shopify_id * 10 + 1: 1} if items is None else items
        values = {
            "shopify_created_at": T0,
            "shopify_updated_at": at(version),
            "name": f"#{shopify_id}",
            "email": f"buyer{shopify_id}@example.com",
            "financial_status": "paid",
            "fulfillment_status": "unfulfilled",
            "total_price": Decimal("10.00") + version,
            "currency": "USD",
            "tags": ["a", "b"],
            "shipping_address": {"city": "Springfield", "zip": "97475"},
            "line_items": [
                LineItemRecord(shopify_id=item_id, quantity=quantity, price=Decimal("5.00"), title="Widget")
                for item_id, quantity in items.items()
            ],
        }
        values.update(fields)
        return OrderRecord(shopify_id=shopify_id, **values)

    return build


@pytest.fixture
def make_customer():
    def build(shopify_id: int, *, version: int = 0, **fields) -> CustomerRecord:
        values = {
            "shopify_created_at": T0,
            "shopify_updated_at": at(version),
            "email": f"c{shopify_id}@example.com",
            "first_name": f"v{version}",
            "state": "enabled",
            "tags": ["vip"],
            "amount_spent": Decimal("12.50"),
            "default_address": {"city": "Springfield"},
        }
        values.update(fields)
        return CustomerRecord(shopify_id=shopify_id, **values)

    return build


@pytest.fixture
def make_product():
    def build(
        shopify_id: int, *, version: int = 0, variants: list[int] | None = None, **fields
    ) -> ProductRecord:
        variants = [shopify_id * 10 + 1] if variants is None else variants
        values = {
            "shopify_created_at": T0,
            "shopify_updated_at": at(version),
            "title": f"Product v{version}",
            "status": "active",
            "tags": [],
            "variants": [
                VariantRecord(
                    shopify_id=variant_id, title=f"V{variant_id}", price=Decimal("3.00"), position=n
                )
                for n, variant_id in enumerate(variants, 1)
            ],
        }
        values.update(fields)
        return ProductRecord(shopify_id=shopify_id, **values)

    return build
