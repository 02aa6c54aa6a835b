"""A refund's link to the transactions that paid it back (contract §8.2, §8.3) survives arrival order:
the refund comes with its order (a REST order body, or the order refetched on `refunds/create`), the
transaction with `order_transactions/create`; whichever is first keeps its side, and the pair joins
once both are here."""

from __future__ import annotations

import uuid

import pytest

from shopsync.models import OrderTransaction, Refund, RefundTransaction
from shopsync.payloads.rest import parse_order_rest
from shopsync.services.upsert import records_upsert
from tests.factories import ShopFactory
from tests.webhooks.factories import delivery_process
from webhooks.models import WebhookLog

pytestmark = pytest.mark.e2e


@pytest.fixture
def sim_shop(simulator, db):
    domain = f"rl-{uuid.uuid4().hex[:8]}.myshopify.com"
    token = f"shpat_{uuid.uuid4().hex}"
    simulator.control.create_shop(domain, token=token, orders=30, customers=5, products=5, seed=11)
    shop = ShopFactory(domain=domain, access_token=token, api_base_url=f"{simulator.base_url}/shops/{domain}",
                       api_version="2026-01")  # fmt: skip
    shop.sim_domain = domain
    yield shop
    simulator.control.delete_shop(domain)


def _held_paid_order(simulator, shop) -> dict:
    """An open paid order of the store, written here as a REST body gives it (no transactions)."""
    order = next(
        row["record"] for row in simulator.control.truth("orders", full=True, shop=shop.sim_domain)["records"]
        if row["record"]["financial_status"] == "paid" and row["record"]["cancelled_at"] is None
        and row["record"]["closed_at"] is None and not row["record"]["refunds"]
    )  # fmt: skip
    records_upsert(shop=shop, resource="orders", records=[parse_order_rest(order)])
    return order


def _links(shop, refund_id: int) -> list[tuple[int, int | None]]:
    """(linked transaction id, the id of our transaction row it joins, None while we lack it)."""
    ours = dict(OrderTransaction.objects.filter(shop=shop).values_list("shopify_id", "order_id"))
    refund = Refund.objects.get(shop=shop, shopify_id=refund_id)
    return [
        (shopify_id, ours.get(shopify_id) and refund.order_id)
        for shopify_id in refund.refund_transactions.order_by("shopify_id").values_list(
            "shopify_id", flat=True
        )
    ]


def test_a_refund_that_arrives_before_its_transaction_keeps_its_link(simulator, sim_shop):
    # given: an order we hold; Shopify refunds part of it; the order's update (a REST body, which
    # carries its refunds with their transactions but never the order's own transactions) comes first
    order = _held_paid_order(simulator, sim_shop)
    refunded = simulator.control.update("orders", order["id"], shop=sim_shop.sim_domain, refund="3.00")
    refund = refunded["refunds"][-1]
    [paid_back] = refund["transactions"]
    assert delivery_process(sim_shop, "orders/updated", refunded).status == WebhookLog.Status.PROCESSED
    assert _links(sim_shop, refund["id"]) == [(paid_back["id"], None)]
    # when: the transaction's own webhook follows
    log = delivery_process(sim_shop, "order_transactions/create", paid_back)
    # then: the link joins the transaction, on the refund's order
    assert log.status == WebhookLog.Status.PROCESSED, log.last_error
    stored = Refund.objects.get(shop=sim_shop, shopify_id=refund["id"])
    assert _links(sim_shop, refund["id"]) == [(paid_back["id"], stored.order_id)]
    assert OrderTransaction.objects.get(shop=sim_shop, shopify_id=paid_back["id"]).kind == "refund"


def test_a_transaction_that_arrives_before_its_refund_is_linked_when_the_refund_comes(simulator, sim_shop):
    # given: an order we hold; Shopify refunds part of it; the refund transaction's webhook comes first
    order = _held_paid_order(simulator, sim_shop)
    refunded = simulator.control.update("orders", order["id"], shop=sim_shop.sim_domain, refund="4.00")
    refund = refunded["refunds"][-1]
    [paid_back] = refund["transactions"]
    assert (
        delivery_process(sim_shop, "order_transactions/create", paid_back).status
        == WebhookLog.Status.PROCESSED
    )
    assert OrderTransaction.objects.filter(shop=sim_shop, shopify_id=paid_back["id"]).exists()
    assert not RefundTransaction.objects.filter(shop=sim_shop).exists()
    # when: the refund's webhook (the order refetched by id, complete)
    log = delivery_process(sim_shop, "refunds/create", refund)
    # then: the refund links the transaction already held, which stays as it was
    assert log.status == WebhookLog.Status.PROCESSED, log.last_error
    stored = Refund.objects.get(shop=sim_shop, shopify_id=refund["id"])
    assert _links(sim_shop, refund["id"]) == [(paid_back["id"], stored.order_id)]
    transaction = OrderTransaction.objects.get(shop=sim_shop, shopify_id=paid_back["id"])
    assert (transaction.order_id, transaction.kind, str(transaction.amount)) == (
        stored.order_id,
        "refund",
        "4.0000",
    )
