"""REST / webhook shapes of an order's refunds and fulfillments (contract §8.3, §8.4), rendered inside the
REST order (`refunds`, `fulfillments`) from its already rendered line items, so the standalone routes,
the webhooks and the truth all show the same objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shopify_sim.gid import gid
from shopify_sim.store import refunds as refund_store
from shopify_sim.store.records import cents, money
from shopify_sim.timeutil import iso_offset

Bag = Callable[[str], dict[str, Any]]


def refund(
    record: dict[str, Any],
    order: dict[str, Any],
    offset: int,
    bag: Bag,
    lines: dict[int, dict[str, Any]],
    transaction: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    zero = bag("0.00")
    shipping_by_id = {s["id"]: s for s in order["shipping_lines"]}
    return {
        "id": record["id"],
        "admin_graphql_api_id": gid("Refund", record["id"]),
        "order_id": order["id"],
        "created_at": iso_offset(record["created_at"], offset),
        "processed_at": iso_offset(record["processed_at"], offset),
        "note": record["note"],
        "user_id": None,
        "restock": record["restock"],
        "total_duties_set": zero,
        "total_additional_fees_set": zero,
        "duties": [],
        "additional_fees": [],
        "refund_duties": [],
        "return": None,
        "refund_line_items": [
            {
                "id": item["id"],
                "line_item_id": item["line_item_id"],
                "line_item": lines.get(item["line_item_id"]),
                "quantity": item["quantity"],
                "location_id": item["location_id"],
                "restock_type": item["restock_type"],
                # Numbers here, strings in the sets (contract §8.1's gotcha).
                "subtotal": cents(item["subtotal"]) / 100,
                "total_tax": cents(item["total_tax"]) / 100,
                "subtotal_set": bag(item["subtotal"]),
                "total_tax_set": bag(item["total_tax"]),
            }
            for item in record["refund_line_items"]
        ],
        "refund_shipping_lines": [
            {
                "id": line["id"],
                "shipping_line_id": line["shipping_line_id"],
                "shipping_line": shipping_by_id.get(line["shipping_line_id"]),
                "subtotal_amount_set": bag(line["subtotal_amount"]),
            }
            for line in record["refund_shipping_lines"]
        ],
        "order_adjustments": [
            {
                "id": adjustment["id"],
                "order_id": order["id"],
                "refund_id": record["id"],
                "amount": adjustment["amount"],
                "tax_amount": adjustment["tax_amount"],
                "kind": adjustment["kind"],
                "reason": adjustment["reason"],
                "amount_set": bag(adjustment["amount"]),
                "tax_amount_set": bag(adjustment["tax_amount"]),
            }
            for adjustment in record["order_adjustments"]
        ],
        "transactions": [transaction(tx) for tx in refund_store.transactions_of(order, record)],
    }


def fulfillment_name(order: dict[str, Any], record: dict[str, Any]) -> str:
    place = next(i for i, f in enumerate(order["fulfillments"], start=1) if f["id"] == record["id"])
    return f"#{order['number'] + 1000}.{place}"


def fulfillment(
    record: dict[str, Any], order: dict[str, Any], offset: int, lines: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    number = record["tracking_number"]
    return {
        "id": record["id"],
        "admin_graphql_api_id": gid("Fulfillment", record["id"]),
        "order_id": order["id"],
        "name": fulfillment_name(order, record),
        "status": record["status"],
        "shipment_status": record["shipment_status"],
        "created_at": iso_offset(record["created_at"], offset),
        "updated_at": iso_offset(record["updated_at"], offset),
        "location_id": record["location_id"],
        "service": "manual",
        "tracking_company": record["tracking_company"],
        "tracking_number": number,
        "tracking_numbers": [number] if number else [],
        "tracking_url": record["tracking_url"],
        "tracking_urls": [record["tracking_url"]] if record["tracking_url"] else [],
        "receipt": {},
        "origin_address": {},
        "line_items": [
            {
                **(lines.get(item["line_item_id"]) or {"id": item["line_item_id"]}),
                "quantity": item["quantity"],
                "fulfillment_line_item_id": item["id"],
            }
            for item in record["line_items"]
        ],
    }


def refunded_money(order: dict[str, Any]) -> dict[str, str]:
    """REST current_* money strings (refunds lower them)."""
    now = refund_store.current(order)
    return {
        "current_subtotal_price": money(now["subtotal"]),
        "current_total_tax": money(now["tax"]),
        "current_total_discounts": money(now["discounts"]),
        "current_total_price": money(now["total"]),
    }
