"""Refund and fulfillment building (shopify_sim/store/refunds.py, fulfillments.py): pure logic."""

from __future__ import annotations

import random

from shopify_sim.store import fulfillments, refunds
from shopify_sim.store.records import Ids, cents, money, order_totals


def order(tax_rate_bp: int = 800) -> dict:
    record = {
        "id": 1,
        "number": 1,
        "cancelled_at": None,
        "tax_rate_bp": tax_rate_bp,
        "line_items": [
            {"id": 10, "quantity": 3, "price": "10.00", "total_discount": "1.00", "grams": 1,
             "fulfillment_status": None},
            {"id": 11, "quantity": 1, "price": "25.50", "total_discount": "0.00", "grams": 1,
             "fulfillment_status": None},
        ],
        "shipping_lines": [{"id": 20, "price": "7.00"}],
        "transactions": [],
        "refunds": [],
        "fulfillments": [],
    }  # fmt: skip
    order_totals(record)
    return record


def refund_tx(amount: int, at: int = 100) -> dict:
    return {"id": at, "kind": "refund", "status": "success", "amount": money(amount), "created_at": at}


def test_a_full_refund_covers_every_unit_and_the_shipping_without_adjustment():
    # given
    record = order()
    total = cents(record["total_price"])
    # when
    [refund] = refunds.attach(random.Random(1), Ids.fresh(), record, [refund_tx(total)], None)
    # then
    assert [(i["line_item_id"], i["quantity"]) for i in refund["refund_line_items"]] == [(10, 3), (11, 1)]
    assert [s["subtotal_amount"] for s in refund["refund_shipping_lines"]] == ["7.00"]
    assert refund["order_adjustments"] == []
    assert refunds.check(record, refund) == total
    assert refunds.current(record)["total"] == 0
    assert refunds.current(record)["quantity"] == 0


def test_a_partial_refund_takes_whole_units_and_records_the_rest_as_a_negative_adjustment():
    # given: 1 unit of the first line is 9.67 + tax 0.77 (8 %, discount spread over 3 units)
    record = order()
    # when
    [refund] = refunds.attach(random.Random(1), Ids.fresh(), record, [refund_tx(1500)], 42)
    # then
    [item] = refund["refund_line_items"]
    assert (item["line_item_id"], item["quantity"], item["subtotal"]) == (10, 1, "9.67")
    assert refund["refund_shipping_lines"] == []
    assert [a["amount"] for a in refund["order_adjustments"]] == [
        money(-(1500 - 967 - cents(item["total_tax"])))
    ]
    assert refunds.check(record, refund) == 1500
    assert refunds.current_quantity(record, record["line_items"][0]) == 2


def test_successive_partial_refunds_end_exactly_on_the_lines_net_amount_and_tax():
    # given
    record = order()
    line_net = 30_00 - 1_00
    ids, rng = Ids.fresh(), random.Random(2)
    # when: the first line's three units one refund at a time
    for at in (1, 2, 3):
        step = refunds.unit_steps(record["line_items"][0], refunds.line_tax_cents(record)[0], at - 1, 1)
        refunds.attach(rng, ids, record, [refund_tx(sum(step), at)], None)
    # then
    items = [i for r in record["refunds"] for i in r["refund_line_items"]]
    assert sum(cents(i["subtotal"]) for i in items) == line_net
    assert sum(cents(i["total_tax"]) for i in items) == refunds.line_tax_cents(record)[0]
    assert all(r["order_adjustments"] == [] for r in record["refunds"])


def test_a_cancelled_orders_unfulfilled_units_are_restocked_as_cancel():
    # given
    record = order()
    record["cancelled_at"] = 50
    # when
    [refund] = refunds.attach(
        random.Random(1), Ids.fresh(), record, [refund_tx(cents(record["total_price"]))], 7
    )
    # then
    assert {(i["restock_type"], i["location_id"]) for i in refund["refund_line_items"]} == {("cancel", 7)}
    assert refund["restock"] is True


def test_fulfilling_part_then_the_rest_moves_the_statuses_and_cancelling_moves_them_back():
    # given
    record = order()
    ids, rng = Ids.fresh(), random.Random(3)
    # when
    fulfillments.fulfill(rng, ids, record, 10, None, partial=True)
    partial = (record["fulfillment_status"], [li["fulfillment_status"] for li in record["line_items"]])
    fulfillments.fulfill(rng, ids, record, 11, None)
    full = record["fulfillment_status"]
    fulfillments.cancel(record, 12)
    # then
    assert partial == ("partial", ["partial", None])
    assert full == "fulfilled"
    assert record["fulfillment_status"] == "partial"
    assert [f["status"] for f in record["fulfillments"]] == ["success", "cancelled"]


def test_refunded_units_are_not_fulfilled():
    # given: the second line refunded
    record = order(tax_rate_bp=0)
    record["refunds"] = [{"refund_line_items": [{"line_item_id": 11, "quantity": 1}]}]
    # when
    made = fulfillments.fulfill(random.Random(1), Ids.fresh(), record, 10, None)
    # then
    assert [(i["line_item_id"], i["quantity"]) for i in made["line_items"]] == [(10, 3)]
