"""Fixtures for dead-letter tests: Shopify-shaped payloads, and a real write failure on demand."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.db import connection

ORDER_ID = 820982911946154508


@pytest.fixture
def rest_order() -> dict:
    return {
        "id": ORDER_ID,
        "admin_graphql_api_id": f"gid://shopify/Order/{ORDER_ID}",
        "name": "#1001",
        "order_number": 1001,
        "email": "ada@example.com",
        "created_at": "2025-03-01T10:00:00-05:00",
        "updated_at": "2025-03-02T10:00:00-05:00",
        "currency": "USD",
        "financial_status": "paid",
        "fulfillment_status": None,
        "total_price": "42.00",
        "tags": "vip, repeat",
        "line_items": [{"id": 466157049, "quantity": 2, "title": "Widget", "price": "21.00", "sku": "W-1"}],
    }


@pytest.fixture
def graphql_order_unit() -> dict:
    """A sync engine "unit": the GraphQL node and its line items as bulk child lines."""
    return {
        "node": {
            "id": f"gid://shopify/Order/{ORDER_ID}",
            "legacyResourceId": str(ORDER_ID),
            "name": "#1001",
            "createdAt": "2025-03-01T15:00:00Z",
            "updatedAt": "2025-03-02T15:00:00Z",
            "currencyCode": "USD",
            "tags": ["vip"],
            "totalPriceSet": {"shopMoney": {"amount": "42.00", "currencyCode": "USD"}},
        },
        "children": [
            {"id": "gid://shopify/LineItem/466157049", "quantity": 2, "title": "Widget", "__parentId": "x"},
        ],
    }


@pytest.fixture
def failing_order_writes(db) -> Iterator[Callable[[], None]]:
    """A PostgreSQL trigger that makes every write of order ORDER_ID fail, as a real database error
    would; call the returned function to let writes through again."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE FUNCTION test_fail_order_write() RETURNS trigger AS $$
            BEGIN
                IF NEW.shopify_id = {ORDER_ID} THEN
                    RAISE EXCEPTION 'simulated write failure for order %', NEW.shopify_id;
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_fail_order_write BEFORE INSERT OR UPDATE ON shopsync_order
                FOR EACH ROW EXECUTE FUNCTION test_fail_order_write();
            """
        )

    def heal() -> None:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_fail_order_write ON shopsync_order")

    yield heal
