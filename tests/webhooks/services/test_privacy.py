"""Mandatory privacy topics: export, customer erasure, shop erasure (processed from stored deliveries)."""

from __future__ import annotations

import json
from decimal import Decimal

import orjson
from django.core import mail

from shopsync.models import Customer, FailedSyncItem, LineItem, Order, Product, ProductVariant, Shop
from tests.factories import (
    CustomerFactory,
    FailedSyncItemFactory,
    LineItemFactory,
    OrderFactory,
    ProductVariantFactory,
    ShopFactory,
)
from tests.webhooks.factories import WebhookLogFactory, order_payload
from webhooks.models import PrivacyRequest, WebhookLog
from webhooks.services.processing import webhook_log_process

CUSTOMER_ID = 191167


def _process(shop, topic, payload):
    log = WebhookLogFactory(shop=shop, topic=topic, body=orjson.dumps(payload), shopify_id=None)
    webhook_log_process(webhook_log_id=log.id)
    log.refresh_from_db()
    return log


def _customer_with_orders(shop):
    customer = CustomerFactory(
        shop=shop,
        shopify_id=CUSTOMER_ID,
        email="john@example.com",
        phone="555-625-1199",
        note="VIP",
        default_address={"address1": "1 Main St"},
        local_notes="called twice",
        local_tags=["vip"],
        local_attributes={"birthday": "01-01"},
    )
    own = OrderFactory(
        shop=shop,
        shopify_id=299938,
        customer_shopify_id=CUSTOMER_ID,
        email="john@example.com",
        phone="555",
        note="leave at door",
        shipping_address={"address1": "1 Main St"},
        total_price=Decimal("42.00"),
    )
    LineItemFactory(order=own, shopify_id=1, quantity=2)
    listed = OrderFactory(shop=shop, shopify_id=280263, customer_shopify_id=None, email="john@example.com")
    other = OrderFactory(shop=shop, shopify_id=111, customer_shopify_id=999, email="jane@example.com")
    return customer, own, listed, other


def test_data_request_stores_the_customer_export_and_mails_it(shop, settings):
    # given
    settings.ADMINS = [("Admin", "admin@example.com")]
    _customer_with_orders(shop)
    payload = {
        "shop_id": 954889,
        "shop_domain": shop.domain,
        "orders_requested": [280263],
        "customer": {"id": CUSTOMER_ID, "email": "john@example.com", "phone": "555-625-1199"},
        "data_request": {"id": 9999},
    }
    # when
    log = _process(shop, "customers/data_request", payload)
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    request = PrivacyRequest.objects.get()
    assert (request.topic, request.customer_shopify_id, request.webhook_log_id) == (
        "customers/data_request",
        CUSTOMER_ID,
        log.id,
    )
    assert request.completed_at is not None and request.emailed_at is not None
    export = request.result
    assert export["data_request_id"] == 9999
    assert export["customer"]["email"] == "john@example.com"
    assert export["customer"]["local_notes"] == "called twice"
    assert export["customer"]["local_attributes"] == {"birthday": "01-01"}
    assert [o["shopify_id"] for o in export["orders"]] == [280263, 299938]
    assert export["orders"][1]["line_items"][0]["quantity"] == 2
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["admin@example.com", "owner@example.com", "staff@example.com"]
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == (f"customer-{CUSTOMER_ID}-data.json", "application/json")
    assert json.loads(content) == export


def test_data_request_processed_twice_mails_once_and_keeps_one_record(shop):
    # given
    _customer_with_orders(shop)
    log = WebhookLogFactory(
        shop=shop, topic="customers/data_request", body=orjson.dumps({"customer": {"id": CUSTOMER_ID}})
    )
    webhook_log_process(webhook_log_id=log.id)
    # when
    WebhookLog.objects.filter(pk=log.pk).update(status=WebhookLog.Status.RECEIVED)
    webhook_log_process(webhook_log_id=log.id)
    # then
    assert PrivacyRequest.objects.count() == 1
    assert len(mail.outbox) == 1


def test_customer_redact_erases_personal_data_and_keeps_the_rows(shop):
    # given
    customer, own, listed, other = _customer_with_orders(shop)
    earlier = WebhookLogFactory(
        shop=shop,
        topic="orders/updated",
        shopify_id=own.shopify_id,
        status=WebhookLog.Status.PROCESSED,
        body=orjson.dumps(order_payload(own.shopify_id)),
    )
    pending = WebhookLogFactory(shop=shop, topic="orders/updated", shopify_id=own.shopify_id)
    dead = FailedSyncItemFactory(shop=shop, shopify_id=own.shopify_id, payload={"email": "john@example.com"})
    payload = {
        "shop_id": 954889,
        "shop_domain": shop.domain,
        "customer": {"id": CUSTOMER_ID, "email": "john@example.com", "phone": "555-625-1199"},
        "orders_to_redact": [280263],
    }
    # when
    log = _process(shop, "customers/redact", payload)
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    customer.refresh_from_db()
    assert (customer.email, customer.phone, customer.first_name, customer.last_name, customer.note) == (
        None,
    ) * 5
    assert (
        customer.default_address,
        customer.local_notes,
        customer.local_tags,
        customer.local_attributes,
    ) == (None, "", [], {})
    for order in (own, listed):
        order.refresh_from_db()
        assert (order.email, order.phone, order.note, order.shipping_address) == (None, None, None, None)
    own.refresh_from_db()
    assert own.total_price == Decimal("42.00")
    assert LineItem.objects.filter(order=own).count() == 1
    other.refresh_from_db()
    assert other.email == "jane@example.com"
    assert Customer.objects.count() == 1 and Order.objects.count() == 3
    earlier.refresh_from_db()
    pending.refresh_from_db()
    assert bytes(earlier.body) == b'{"redacted": true}'
    assert b"buyer@example.com" in bytes(pending.body)
    dead.refresh_from_db()
    assert dead.payload is None
    assert b"john@example.com" not in bytes(log.body)
    request = PrivacyRequest.objects.get()
    assert request.payload["customer"] == {"id": CUSTOMER_ID}
    assert (request.result["customers"], request.result["orders"], request.result["order_ids"]) == (
        1,
        2,
        [280263, 299938],
    )


def test_customer_redact_also_erases_an_earlier_export(shop):
    # given
    _customer_with_orders(shop)
    _process(shop, "customers/data_request", {"customer": {"id": CUSTOMER_ID, "email": "john@example.com"}})
    # when
    _process(shop, "customers/redact", {"customer": {"id": CUSTOMER_ID}, "orders_to_redact": []})
    # then
    export = PrivacyRequest.objects.get(topic="customers/data_request")
    assert (export.payload, export.result) == ({}, {"redacted": True})


def test_customer_redact_without_customer_id_is_dead_lettered(shop):
    # when
    log = _process(shop, "customers/redact", {"shop_id": 1, "orders_to_redact": [1]})
    # then
    assert log.status == WebhookLog.Status.DEAD
    assert PrivacyRequest.objects.count() == 0


def test_shop_redact_deletes_the_shops_data_and_secrets_and_nothing_of_other_shops(shop):
    # given
    _customer_with_orders(shop)
    ProductVariantFactory(product__shop=shop)
    FailedSyncItemFactory(shop=shop)
    WebhookLogFactory.create_batch(3, shop=shop, status=WebhookLog.Status.PROCESSED)
    neighbour = ShopFactory(domain="neighbour.myshopify.com")
    OrderFactory(shop=neighbour)
    WebhookLogFactory(shop=neighbour)
    shop.status, shop.refresh_token = Shop.Status.UNINSTALLED, "refresh-secret"
    shop.save()
    # when
    log = _process(shop, "shop/redact", {"shop_id": 954889, "shop_domain": shop.domain})
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    for model in (Order, LineItem, Customer, Product, ProductVariant, FailedSyncItem):
        assert model.objects.filter(shop=shop).count() == 0, model
    assert list(WebhookLog.objects.filter(shop=shop).values_list("pk", flat=True)) == [log.pk]
    shop.refresh_from_db()
    assert (shop.access_token, shop.refresh_token, shop.status) == ("", "", Shop.Status.UNINSTALLED)
    assert Order.objects.filter(shop=neighbour).count() == 1
    assert WebhookLog.objects.filter(shop=neighbour).count() == 1
    request = PrivacyRequest.objects.get()
    assert (
        request.topic,
        request.result["orders"],
        request.result["line_items"],
        request.result["webhook_logs"],
    ) == ("shop/redact", 3, 1, 3)
