"""`order_transactions/create`: one new transaction added to its order (contract §8.2, §8.14)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import orjson
import pytest

from shopsync.models import FailedSyncItem, Order, OrderTransaction
from tests.factories import ShopFactory
from tests.webhooks.factories import BASE_TIME, WebhookLogFactory, order_payload, transaction_payload
from webhooks.models import WebhookLog
from webhooks.services.processing import webhook_log_process

TOPIC = "order_transactions/create"


def _apply(shop, topic, payload):
    log = WebhookLogFactory(
        shop=shop,
        topic=topic,
        body=orjson.dumps(payload),
        shopify_id=payload.get("id"),
        triggered_at=BASE_TIME,
    )
    webhook_log_process(webhook_log_id=log.id)
    log.refresh_from_db()
    return log


def _transactions(shop) -> list[tuple]:
    return list(
        OrderTransaction.objects.filter(shop=shop)
        .order_by("shopify_id")
        .values_list(
            "order__shopify_id", "shopify_id", "kind", "status", "amount", "parent_transaction_shopify_id"
        )
    )


def test_a_transaction_is_added_to_its_stored_order_and_the_others_stay(shop):
    # given
    _apply(shop, "orders/create", order_payload(1001, version=1))
    _apply(shop, TOPIC, transaction_payload(501, order_id=1001, kind="authorization", amount="12.50"))
    # when
    log = _apply(shop, TOPIC, transaction_payload(502, order_id=1001, parent_id=501, amount="12.50"))
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    assert _transactions(shop) == [
        (1001, 501, "authorization", "success", Decimal("12.5000"), None),
        (1001, 502, "capture", "success", Decimal("12.5000"), 501),
    ]
    stored = OrderTransaction.objects.get(shop=shop, shopify_id=502)
    assert (stored.gateway, stored.currency, stored.authorization_code, stored.test) == (
        "shopify_payments", "USD", "ch_1", False,
    )  # fmt: skip
    assert stored.processed_at == stored.shopify_created_at == BASE_TIME + timedelta(minutes=1)


def test_a_replayed_transaction_does_not_overwrite_the_stored_copy(shop):
    # given: the transaction is stored as it is now (settled)
    _apply(shop, "orders/create", order_payload(1001, version=1))
    _apply(shop, TOPIC, transaction_payload(501, order_id=1001, kind="sale", status="success"))
    # when: its creation is delivered again, as it was (pending)
    log = _apply(shop, TOPIC, transaction_payload(501, order_id=1001, kind="sale", status="pending"))
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    assert [row[3] for row in _transactions(shop)] == ["success"]


def test_a_rest_order_update_keeps_the_orders_transactions(shop):
    # given: REST order bodies do not carry transactions
    _apply(shop, "orders/create", order_payload(1001, version=1))
    _apply(shop, TOPIC, transaction_payload(501, order_id=1001))
    # when
    _apply(shop, "orders/updated", order_payload(1001, version=2))
    # then
    assert [row[1] for row in _transactions(shop)] == [501]
    assert Order.objects.get(shop=shop, shopify_id=1001).note == "version 2"


def test_a_body_without_its_order_id_is_dead_lettered_and_writes_nothing(shop):
    # when
    log = _apply(shop, TOPIC, transaction_payload(501, order_id=None))
    # then
    assert log.status == WebhookLog.Status.DEAD
    assert "order_id" in log.last_error
    assert FailedSyncItem.objects.filter(shop=shop, source_ref=str(log.pk)).exists()
    assert _transactions(shop) == []


@pytest.fixture
def sim_shop(simulator, db):
    domain = f"tx-{uuid.uuid4().hex[:8]}.myshopify.com"
    token = f"shpat_{uuid.uuid4().hex}"
    simulator.control.create_shop(domain, token=token, orders=8, customers=3, products=3, seed=5)
    shop = ShopFactory(domain=domain, access_token=token, api_base_url=f"{simulator.base_url}/shops/{domain}",
                       api_version="2026-01")  # fmt: skip
    shop.truth_transactions = lambda: [
        row["record"] for row in simulator.control.truth("transactions", full=True, shop=domain)["records"]
    ]
    yield shop
    simulator.control.delete_shop(domain)


@pytest.mark.e2e
def test_a_transaction_of_an_order_not_stored_yet_fetches_the_order_with_all_its_transactions(sim_shop):
    # given: an order of the simulated store with transactions, not in our database
    truth = sim_shop.truth_transactions()
    order_id = truth[-1]["order_id"]
    expected = sorted(tx["id"] for tx in truth if tx["order_id"] == order_id)
    # when
    log = _apply(sim_shop, TOPIC, next(tx for tx in truth if tx["order_id"] == order_id))
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    order = Order.objects.get(shop=sim_shop, shopify_id=order_id)
    assert sorted(order.transactions.values_list("shopify_id", flat=True)) == expected
    assert order.line_items.exists()


@pytest.mark.e2e
def test_a_transaction_of_an_order_shopify_does_not_have_is_not_applied(sim_shop):
    # when
    log = _apply(sim_shop, TOPIC, transaction_payload(501, order_id=999_999_999))
    # then
    assert log.status == WebhookLog.Status.IGNORED
    assert "999999999" in log.last_error
    assert _transactions(sim_shop) == []
