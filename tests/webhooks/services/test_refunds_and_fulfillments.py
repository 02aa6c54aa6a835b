"""`refunds/create`, `fulfillments/create` and `fulfillments/update` (contract §8.3, §8.4, §8.14): the
body names its order, which is fetched by id, complete with its refunds, fulfillments and their
parts, and written; an order we do not have yet is fetched all the same (never lost)."""

from __future__ import annotations

import uuid

import pytest

from shopsync.models import Fulfillment, Order, Refund
from shopsync.payloads.rest import parse_order_rest
from shopsync.services.upsert import records_upsert
from tests.factories import ShopFactory
from tests.webhooks.factories import delivery_process
from webhooks.models import WebhookLog

pytestmark = pytest.mark.e2e


@pytest.fixture
def sim_shop(simulator, db):
    domain = f"rf-{uuid.uuid4().hex[:8]}.myshopify.com"
    token = f"shpat_{uuid.uuid4().hex}"
    simulator.control.create_shop(domain, token=token, orders=30, customers=5, products=5, seed=7)
    shop = ShopFactory(domain=domain, access_token=token, api_base_url=f"{simulator.base_url}/shops/{domain}",
                       api_version="2026-01")  # fmt: skip
    shop.sim_domain = domain
    yield shop
    simulator.control.delete_shop(domain)


def _open_paid_order(simulator, shop) -> dict:
    return next(
        row["record"] for row in simulator.control.truth("orders", full=True, shop=shop.sim_domain)["records"]
        if row["record"]["financial_status"] == "paid" and row["record"]["fulfillment_status"] is None
        and row["record"]["cancelled_at"] is None and row["record"]["closed_at"] is None
    )  # fmt: skip


def test_a_refund_for_an_order_we_do_not_have_yet_fetches_the_order_with_it(simulator, sim_shop):
    # given: Shopify refunds a line of an order whose own webhooks have not reached us
    order = _open_paid_order(simulator, sim_shop)
    line = order["line_items"][0]
    refunded = simulator.control.update("orders", order["id"], shop=sim_shop.sim_domain,
                                        refund="3.00")  # fmt: skip
    body = refunded["refunds"][-1]
    # when
    log = delivery_process(sim_shop, "refunds/create", body)
    # then
    assert log.status == WebhookLog.Status.PROCESSED, log.last_error
    stored = Order.objects.get(shop=sim_shop, shopify_id=order["id"])
    assert stored.financial_status == "partially_refunded"
    refund = Refund.objects.get(shop=sim_shop, shopify_id=body["id"])
    assert refund.order_id == stored.pk
    assert str(refund.total_refunded) == "3.0000"
    assert stored.line_items.filter(shopify_id=line["id"]).exists()
    parts = [*refund.refund_line_items.values_list("shopify_id", flat=True),
             *refund.order_adjustments.values_list("shopify_id", flat=True)]  # fmt: skip
    expected = [i["id"] for i in body["refund_line_items"]] + [a["id"] for a in body["order_adjustments"]]
    assert sorted(parts) == sorted(expected)


def test_a_cancelled_fulfillment_is_written_as_cancelled_with_its_line_items(simulator, sim_shop):
    # given: an order we hold, then shipped and the shipment cancelled in Shopify
    order = _open_paid_order(simulator, sim_shop)
    records_upsert(shop=sim_shop, resource="orders", records=[parse_order_rest(order)])
    shipped = simulator.control.update("orders", order["id"], shop=sim_shop.sim_domain, fulfill=True)
    assert (
        delivery_process(sim_shop, "fulfillments/create", shipped["fulfillments"][-1]).status
        == WebhookLog.Status.PROCESSED
    )
    cancelled = simulator.control.update(
        "orders", order["id"], shop=sim_shop.sim_domain, cancel_fulfillment=True
    )
    # when
    log = delivery_process(sim_shop, "fulfillments/update", cancelled["fulfillments"][-1])
    # then
    assert log.status == WebhookLog.Status.PROCESSED, log.last_error
    fulfillment = Fulfillment.objects.get(shop=sim_shop, shopify_id=cancelled["fulfillments"][-1]["id"])
    assert (fulfillment.status, fulfillment.display_status) == ("cancelled", "canceled")
    assert sorted(fulfillment.fulfillment_line_items.values_list("shopify_id", flat=True)) == sorted(
        i["fulfillment_line_item_id"] for i in cancelled["fulfillments"][-1]["line_items"]
    )
    assert Order.objects.get(shop=sim_shop, shopify_id=order["id"]).fulfillment_status == "unfulfilled"


def test_a_refund_of_an_order_shopify_no_longer_has_is_not_applied(sim_shop):
    # when
    log = delivery_process(
        sim_shop, "refunds/create", {"id": 1, "order_id": 999_999_999, "refund_line_items": []}
    )
    # then
    assert log.status == WebhookLog.Status.IGNORED
    assert "999999999" in log.last_error
