"""Refunds and fulfillments through the sync engine against the simulator (contract §8.3, §8.4,
§8.13): the initial bulk sync (lists inline, their parts by the pass after the export, since bulk
refuses a connection under a list) and an incremental run after Shopify refunds and ships an order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopsync.models import (
    Fulfillment,
    FulfillmentLineItem,
    Order,
    OrderTransaction,
    Refund,
    RefundLineItem,
    RefundTransaction,
    SyncSession,
)
from shopsync.resources import Resource
from tests.shopsync.sync.test_sync_e2e import _run_inline, assert_db_equals_truth

pytestmark = pytest.mark.e2e

SMALL = {"orders": 40, "customers": 10, "products": 8}


def _orders(simulator, shop) -> dict[int, dict]:
    rows = simulator.control.truth("orders", full=True, shop=shop.sim_domain)["records"]
    return {row["id"]: row["record"] for row in rows}


def _links_join(shop) -> list[tuple[int, int, int, int, str]]:
    """Each refund's link with the transaction it names: (refund, transaction, the refund's order row,
    the transaction's order row, its kind); a link whose transaction we lack shows (..., 0, "")."""
    ours = {t.shopify_id: t for t in OrderTransaction.objects.filter(shop=shop)}
    rows = RefundTransaction.objects.filter(shop=shop).select_related("refund")
    return sorted(
        (r.refund.shopify_id, r.shopify_id, r.refund.order_id,
         ours[r.shopify_id].order_id if r.shopify_id in ours else 0,
         ours[r.shopify_id].kind if r.shopify_id in ours else "")
        for r in rows
    )  # fmt: skip


def test_an_initial_sync_mirrors_refunds_and_fulfillments_with_their_parts(simulator, sim_shop):
    # given
    shop = sim_shop(**SMALL)
    truth = _orders(simulator, shop)
    # when
    session = _run_inline(shop)
    # then: every column of every refund, fulfillment and part, as the simulator has them
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert_db_equals_truth(simulator, shop, [Resource.ORDERS])
    refunds = [r for o in truth.values() for r in o["refunds"]]
    fulfillments = [f for o in truth.values() for f in o["fulfillments"]]
    assert refunds and fulfillments
    assert Refund.objects.filter(shop=shop).count() == len(refunds)
    assert RefundLineItem.objects.filter(shop=shop).count() == sum(
        len(r["refund_line_items"]) for r in refunds
    )
    assert Fulfillment.objects.filter(shop=shop).count() == len(fulfillments)
    assert FulfillmentLineItem.objects.filter(shop=shop).count() == sum(
        len(f["line_items"]) for f in fulfillments
    )
    # each refund links the transactions that paid it back, held on its own order
    links = _links_join(shop)
    assert [(refund, tx) for refund, tx, *_ in links] == sorted(
        (r["id"], t["id"]) for r in refunds for t in r["transactions"]
    )
    assert links and all(own == theirs and kind == "refund" for _, _, own, theirs, kind in links)
    tracked = next(f for f in fulfillments if f["tracking_number"])
    row = Fulfillment.objects.get(shop=shop, shopify_id=tracked["id"])
    assert (row.tracking_company, row.tracking_number, row.tracking_url) == (
        tracked["tracking_company"], tracked["tracking_number"], tracked["tracking_url"],
    )  # fmt: skip


def test_an_incremental_run_picks_up_a_new_refund_and_fulfillment_through_their_orders(simulator, sim_shop):
    # given: synced; then Shopify refunds part of one paid order and ships some of another (two
    # orders: a second change to one order within its second would move it past the run's start)
    shop = sim_shop(**SMALL)
    _run_inline(shop)
    refunded_id, shipped_id = [
        i for i, o in _orders(simulator, shop).items()
        if o["financial_status"] == "paid" and o["fulfillment_status"] is None and o["cancelled_at"] is None
        and o["closed_at"] is None
    ][:2]  # fmt: skip
    simulator.control.update("orders", refunded_id, shop=shop.sim_domain, refund="3.00")
    simulator.control.update("orders", shipped_id, shop=shop.sim_domain, fulfill="partial")
    # when
    session = _run_inline(shop, kind="incremental")
    # then: the order rows and their children agree with Shopify, and with each other
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert_db_equals_truth(simulator, shop, [Resource.ORDERS])
    refunded = Order.objects.get(shop=shop, shopify_id=refunded_id)
    assert refunded.financial_status == "partially_refunded"
    assert (
        [r.total_refunded for r in refunded.refunds.all()] == [refunded.total_refunded] == [Decimal("3.00")]
    )
    [new_refund] = _orders(simulator, shop)[refunded_id]["refunds"]
    links = [
        (tx, own == theirs, kind)
        for refund, tx, own, theirs, kind in _links_join(shop)
        if refund == new_refund["id"]
    ]
    assert links == [(t["id"], True, "refund") for t in new_refund["transactions"]]
    shipped = Order.objects.get(shop=shop, shopify_id=shipped_id)
    assert shipped.fulfillment_status == "partially_fulfilled"
    assert FulfillmentLineItem.objects.filter(fulfillment__order=shipped).exists()
