"""A 5,000-order batch (the size the write-path benchmark reaches for) read from bulk JSONL and written
in one `records_upsert` call: correctness only, no timing."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from shopsync.models import LineItem, Order
from shopsync.payloads import read_bulk_jsonl
from shopsync.resources import Resource
from shopsync.services.upsert import UpsertResult, records_upsert

pytestmark = pytest.mark.django_db

ORDERS = 5_000
ITEMS_PER_ORDER = 3


def _money(amount: str) -> dict:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


def _bulk_lines(*, orders: int, updated_at: str) -> list[bytes]:
    lines = []
    for order_id in range(1, orders + 1):
        gid = f"gid://shopify/Order/{order_id}"
        order = {
            "id": gid,
            "name": f"#{order_id}",
            "createdAt": "2024-01-01T00:00:00Z",
            "updatedAt": updated_at,
            "totalPriceSet": _money(f"{order_id}.25"),
            "tags": ["bulk"],
            "shippingAddress": {"city": "Springfield", "countryCodeV2": "US"},
        }
        lines.append(orjson.dumps(order))
        for position in range(ITEMS_PER_ORDER):
            item_id = order_id * 10 + position
            item = {
                "id": f"gid://shopify/LineItem/{item_id}",
                "quantity": position + 1,
                "originalUnitPriceSet": _money("1.50"),
                "__parentId": gid,
            }
            lines.append(orjson.dumps(item))
    return lines


def _one_batch(lines: list[bytes]) -> list:
    batches = list(read_bulk_jsonl(lines, resource=Resource.ORDERS, batch_size=ORDERS))
    assert len(batches) == 1
    assert batches[0].errors == []
    return batches[0].records


def test_a_5000_order_batch_is_written_in_one_call(shop):
    # given
    records = _one_batch(_bulk_lines(orders=ORDERS, updated_at="2024-01-01T00:05:00Z"))
    # when
    result = records_upsert(resource="orders", shop=shop, records=records)
    # then
    assert result == UpsertResult(created=ORDERS)
    assert Order.objects.filter(shop=shop).count() == ORDERS
    assert LineItem.objects.filter(shop=shop).count() == ORDERS * ITEMS_PER_ORDER
    order = Order.objects.get(shop=shop, shopify_id=4321)
    assert (order.name, order.total_price, order.tags) == ("#4321", Decimal("4321.25"), ["bulk"])
    assert order.shipping_address["country_code"] == "US"
    items = order.line_items.order_by("shopify_id").values_list("shopify_id", "quantity", "price")
    assert list(items) == [
        (43210, 1, Decimal("1.50")),
        (43211, 2, Decimal("1.50")),
        (43212, 3, Decimal("1.50")),
    ]


def test_a_5000_order_batch_replayed_then_updated(shop):
    # given
    records_upsert(
        resource="orders",
        shop=shop,
        records=_one_batch(_bulk_lines(orders=ORDERS, updated_at="2024-01-01T00:05:00Z")),
    )
    item_pks = set(LineItem.objects.values_list("pk", flat=True))
    # when
    replay = records_upsert(
        resource="orders",
        shop=shop,
        records=_one_batch(_bulk_lines(orders=ORDERS, updated_at="2024-01-01T00:05:00Z")),
    )
    newer = _one_batch(_bulk_lines(orders=ORDERS, updated_at="2024-01-02T00:00:00Z"))
    for record in newer:
        record.line_items = record.line_items[:1]
    update = records_upsert(resource="orders", shop=shop, records=newer)
    # then
    assert replay == UpsertResult(unchanged=ORDERS)
    assert update == UpsertResult(updated=ORDERS)
    assert LineItem.objects.filter(shop=shop).count() == ORDERS
    assert set(LineItem.objects.values_list("pk", flat=True)) <= item_pks
