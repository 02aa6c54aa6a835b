"""Order transactions in the store (shopify_sim/store/transactions.py) and the changes that move money
(control API verbs, the change generator's `order_transactions/create`): the generated history matches
each financial status, and every change keeps status, transactions and totals in step."""

from __future__ import annotations

import random

import pytest

from shopify_sim.store import transactions
from shopify_sim.store.records import Ids, cents
from shopify_sim.testing import SimulatorError
from tests.simulator.conformance.test_transactions_conformance import assert_consistent, bulk_orders
from tests.simulator.conftest import token_of

STATUSES = (
    "paid",
    "pending",
    "authorized",
    "partially_paid",
    "refunded",
    "partially_refunded",
    "voided",
    "expired",
)


def make_order(status: str, gateways: list[str], total: str = "120.00", cancelled: bool = False) -> dict:
    return {
        "id": 9_007_100_000_000_123,
        "number": 7,
        "created_at": 1_700_000_000,
        "processed_at": 1_700_000_000,
        "updated_at": 1_700_500_000,
        "cancelled_at": 1_700_400_000 if cancelled else None,
        "financial_status": status,
        "total_price": total,
        "payment_gateway_names": gateways,
    }


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("gateways", [["shopify_payments"], ["manual"], ["gift_card", "shopify_payments"]])
def test_a_generated_history_has_the_orders_financial_status(status, gateways):
    for seed in range(30):
        # given
        order = make_order(status, gateways, cancelled=status in ("voided", "refunded"))
        # when
        transactions.generate(random.Random(seed), Ids.fresh(), order)
        # then
        assert transactions.financial_status(order) == status, (seed, order["transactions"])
        assert all(
            order["created_at"] <= tx["created_at"] <= order["updated_at"] for tx in order["transactions"]
        )
        ids = [tx["id"] for tx in order["transactions"]]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_the_ledger_sums_successful_charges_and_refunds_only():
    # given
    order = make_order("partially_refunded", ["shopify_payments"])
    order["transactions"] = [
        {"id": 1, "kind": "sale", "status": "failure", "amount": "120.00", "parent_id": None},
        {"id": 2, "kind": "authorization", "status": "success", "amount": "120.00", "parent_id": None},
        {"id": 3, "kind": "capture", "status": "success", "amount": "120.00", "parent_id": 2},
        {"id": 4, "kind": "refund", "status": "success", "amount": "20.00", "parent_id": 3},
        {"id": 5, "kind": "refund", "status": "failure", "amount": "50.00", "parent_id": 3},
    ]
    # when
    paid = transactions.payments(order)
    # then
    assert paid == {
        "received": 12000,
        "net": 10000,
        "outstanding": 0,
        "capturable": 0,
        "refunded": 2000,
        "tip": 0,
    }
    assert transactions.financial_status(order) == "partially_refunded"


def test_money_verbs_refuse_what_the_order_cannot_take():
    # given
    order = make_order("paid", ["shopify_payments"])
    transactions.generate(random.Random(1), Ids.fresh(), order)
    # then
    with pytest.raises(transactions.PaymentError):
        transactions.capture(random.Random(1), Ids.fresh(), order, 1_700_600_000)
    with pytest.raises(transactions.PaymentError):
        transactions.refund(random.Random(1), Ids.fresh(), order, 1_700_600_000, cents("120.01"))
    with pytest.raises(transactions.PaymentError):
        transactions.void(random.Random(1), Ids.fresh(), order, 1_700_600_000)


def test_same_seed_same_transactions(sim, new_shop):
    # given
    first, second = new_shop(seed=9), new_shop(seed=9)
    # when
    one = sim.control.truth("transactions", shop=first)
    two = sim.control.truth("transactions", shop=second)
    # then
    assert one["count"] > 60 and one == two


def order_with(sim, domain: str, status: str) -> dict:
    return next(
        r["record"]
        for r in sim.control.truth("orders", full=True, shop=domain)["records"]
        if r["record"]["financial_status"] == status and r["record"]["cancelled_at"] is None
    )


def transactions_of(sim, domain: str, order_id: int) -> list[dict]:
    rows = sim.control.truth("transactions", full=True, shop=domain)["records"]
    return [r["record"] for r in rows if r["order_id"] == order_id]


def topics_sent(sim, domain: str) -> list[str]:
    sim.control.flush_webhooks(domain)
    return [d["topic"] for d in sim.control.deliveries(shop=domain)]


def test_capturing_an_authorization_pays_the_order_and_moves_its_updated_at(sim, new_shop, receiver):
    # given
    domain = new_shop(orders=120)
    sim.control.subscribe(["orders/updated", "order_transactions/create"], receiver.url, shop=domain)
    order = order_with(sim, domain, "authorized")
    [authorization] = [t for t in transactions_of(sim, domain, order["id"]) if t["status"] == "success"]
    # when
    updated = sim.control.update("orders", order["id"], shop=domain, capture=True)
    # then
    capture = transactions_of(sim, domain, order["id"])[-1]
    assert (capture["kind"], capture["status"], capture["parent_id"]) == (
        "capture",
        "success",
        authorization["id"],
    )
    assert capture["amount"] == authorization["amount"]
    assert updated["financial_status"] == "paid" and updated["total_outstanding"] == "0.00"
    assert updated["updated_at"] > order["updated_at"] and capture["created_at"] <= updated["updated_at"]
    assert sorted(topics_sent(sim, domain)) == ["order_transactions/create", "orders/updated"]
    events = sim.rest(f"orders/{order['id']}/events.json", token=token_of(sim, domain), shop=domain).json()
    assert [e["verb"] for e in events["events"]] == ["capture_success", "update"]
    with pytest.raises(SimulatorError, match="nothing to capture"):
        sim.control.update("orders", order["id"], shop=domain, capture=True)


def test_a_pending_sale_turns_into_a_success_in_place_without_a_create_webhook(sim, new_shop, receiver):
    # given
    domain = new_shop(orders=150)
    sim.control.subscribe(["orders/updated", "order_transactions/create"], receiver.url, shop=domain)
    order = order_with(sim, domain, "pending")
    before = transactions_of(sim, domain, order["id"])
    # when
    updated = sim.control.update("orders", order["id"], shop=domain, pay=True)
    # then: the same transaction, now a success (contract §8.2 [UNSURE]: status may move in place)
    after = transactions_of(sim, domain, order["id"])
    assert [t["id"] for t in after] == [t["id"] for t in before]
    assert [t["status"] for t in before] == ["pending"] and [t["status"] for t in after] == ["success"]
    assert updated["financial_status"] == "paid"
    assert topics_sent(sim, domain) == ["orders/updated"]


def test_cancelling_refunds_what_was_paid_and_voids_what_was_authorized(sim, new_shop):
    # given
    domain = new_shop(orders=120)
    paid, authorized = order_with(sim, domain, "paid"), order_with(sim, domain, "authorized")
    # when
    refunded = sim.control.update("orders", paid["id"], shop=domain, cancel=True)
    voided = sim.control.update("orders", authorized["id"], shop=domain, cancel=True)
    # then
    assert refunded["financial_status"] == "refunded" and voided["financial_status"] == "voided"
    token = token_of(sim, domain)
    in_shop = sim.rest(
        f"orders/{paid['id']}/transactions.json", {"in_shop_currency": "true"}, token=token, shop=domain
    ).json()["transactions"]
    refunds = [t for t in in_shop if t["kind"] == "refund"]
    assert refunds and sum(cents(t["amount"]) for t in refunds) == cents(paid["total_price"])
    assert transactions_of(sim, domain, authorized["id"])[-1]["kind"] == "void"
    assert voided["total_outstanding"] == "0.00"


def test_with_the_switch_off_a_transaction_leaves_the_orders_updated_at(sim, new_shop, receiver):
    # given: contract §8.15.4, the reconciliation case
    domain = new_shop(orders=80)
    sim.control.update_settings(shop=domain, order_updated_by_transactions=False)
    sim.control.subscribe(["orders/updated", "order_transactions/create"], receiver.url, shop=domain)
    order = order_with(sim, domain, "paid")
    hashes = {r["id"]: r["hash"] for r in sim.control.truth("orders", shop=domain)["records"]}
    # when
    updated = sim.control.update("orders", order["id"], shop=domain, refund="2.00")
    # then: the money moved, the clock did not, and only the transaction webhook went out
    assert updated["updated_at"] == order["updated_at"]
    assert updated["financial_status"] == "partially_refunded"
    after = {r["id"]: r["hash"] for r in sim.control.truth("orders", shop=domain)["records"]}
    assert after[order["id"]] != hashes[order["id"]]
    assert topics_sent(sim, domain) == ["order_transactions/create"]


def test_the_change_generator_makes_transactions_and_keeps_every_order_consistent(sim, new_shop):
    # given
    domain = new_shop(orders=120, seed=8)
    token = token_of(sim, domain)
    before = sim.control.truth("transactions", shop=domain)["count"]
    # when
    changes = sim.control.mutate(count=30, seed=3, mix={"order_transactions/create": 1}, shop=domain)
    # then
    assert len(changes) == 30 and {c["resource"] for c in changes} == {"order_transactions"}
    assert {c["action"] for c in changes} >= {"capture", "refund", "pay"}
    assert sim.control.truth("transactions", shop=domain)["count"] > before
    lines = {line["id"]: line for line in bulk_orders(sim, token, domain)}
    for line in lines.values():
        assert_consistent(line)
    for change in changes:
        line = lines[f"gid://shopify/Order/{change['id']}"]
        assert line["updatedAt"] >= change["updated_at"]


def test_the_default_mix_moves_money_too(sim, new_shop):
    # given
    domain = new_shop(orders=80, seed=12)
    # when
    changes = sim.control.mutate(count=40, seed=5, shop=domain)
    # then
    assert "order_transactions" in {c["resource"] for c in changes}
    lines = bulk_orders(sim, token_of(sim, domain), domain)
    for line in lines:
        assert_consistent(line)
