"""Webhook factories: stored deliveries and Shopify REST-shaped payloads for every topic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import factory
import orjson
from django.utils import timezone

from tests.factories import ShopFactory
from webhooks.models import WebhookLog
from webhooks.services.processing import webhook_log_process

BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)


def at(minutes: int) -> str:
    """Shopify's REST timestamp format, `minutes` after the base time."""
    return (BASE_TIME + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S-00:00")


def order_payload(shopify_id: int, *, version: int = 0, customer_id: int | None = 555, **overrides) -> dict:
    payload = {
        "id": shopify_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{shopify_id}",
        "name": f"#{shopify_id % 100000}",
        "order_number": shopify_id % 100000,
        "email": "buyer@example.com",
        "phone": "+15550001111",
        "created_at": at(0),
        "updated_at": at(version),
        "processed_at": at(0),
        "currency": "USD",
        "presentment_currency": "USD",
        "financial_status": "paid",
        "fulfillment_status": None,
        "cancelled_at": None,
        "cancel_reason": None,
        "closed_at": None,
        "total_price": f"{10 + version}.00",
        "subtotal_price": f"{10 + version}.00",
        "total_tax": "0.00",
        "total_discounts": "0.00",
        "tags": f"v{version}",
        "note": f"version {version}",
        "test": False,
        "customer": {"id": customer_id, "email": "buyer@example.com"} if customer_id else None,
        "shipping_address": {"address1": "1 Main St", "city": "Springfield", "zip": "12345", "country": "US"},
        "line_items": [
            {
                "id": shopify_id * 10 + 1,
                "product_id": 9001,
                "variant_id": 9002,
                "sku": "SKU-1",
                "title": "Widget",
                "variant_title": "Blue",
                "vendor": "Acme",
                "quantity": 1 + version,
                "price": "10.00",
                "total_discount": "0.00",
            }
        ],
    }
    return {**payload, **overrides}


def customer_payload(shopify_id: int, *, version: int = 0, **overrides) -> dict:
    payload = {
        "id": shopify_id,
        "admin_graphql_api_id": f"gid://shopify/Customer/{shopify_id}",
        "email": f"customer{shopify_id}@example.com",
        "phone": "+15550002222",
        "first_name": "Ada",
        "last_name": f"Lovelace v{version}",
        "state": "enabled",
        "note": "likes widgets",
        "verified_email": True,
        "tax_exempt": False,
        "tags": "vip",
        "orders_count": version,
        "total_spent": f"{version}.00",
        "currency": "USD",
        "created_at": at(0),
        "updated_at": at(version),
        "default_address": {"id": shopify_id * 10 + 1, "address1": "1 Main St", "city": "Springfield"},
        "addresses": [
            {"id": shopify_id * 10 + 1, "address1": "1 Main St", "city": "Springfield", "country_code": "US"},
            {"id": shopify_id * 10 + 2, "address1": "9 Elm St", "city": "Shelbyville", "country_code": "US"},
        ],
        "email_marketing_consent": {
            "state": "subscribed",
            "opt_in_level": "single_opt_in",
            "consent_updated_at": at(version),
        },
        "sms_marketing_consent": None,
    }
    return {**payload, **overrides}


def product_payload(shopify_id: int, *, version: int = 0, **overrides) -> dict:
    payload = {
        "id": shopify_id,
        "admin_graphql_api_id": f"gid://shopify/Product/{shopify_id}",
        "title": f"Widget v{version}",
        "handle": f"widget-{shopify_id}",
        "vendor": "Acme",
        "product_type": "Gadgets",
        "status": "active",
        "tags": "new",
        "body_html": "<p>A widget</p>",
        "created_at": at(0),
        "updated_at": at(version),
        "published_at": at(0),
        "variants": [
            {
                "id": shopify_id * 10 + 1,
                "product_id": shopify_id,
                "title": "Default Title",
                "sku": "SKU-1",
                "barcode": None,
                "position": 1,
                "price": f"{10 + version}.00",
                "compare_at_price": None,
                "inventory_quantity": 5,
                "created_at": at(0),
                "updated_at": at(version),
            }
        ],
    }
    return {**payload, **overrides}


def transaction_payload(shopify_id: int, *, order_id: int, **overrides) -> dict:
    """The body of `order_transactions/create` (contract §8.2): a REST transaction."""
    payload = {
        "id": shopify_id,
        "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{shopify_id}",
        "order_id": order_id,
        "kind": "capture",
        "status": "success",
        "gateway": "shopify_payments",
        "source_name": "web",
        "amount": "10.00",
        "currency": "USD",
        "authorization": "ch_1",
        "parent_id": None,
        "processed_at": at(1),
        "created_at": at(1),
        "test": False,
        "error_code": None,
        "message": None,
        "receipt": {},
    }
    return {**payload, **overrides}


class WebhookLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookLog

    class Params:
        payload = factory.LazyAttribute(lambda log: order_payload(log.shopify_id or 1001))

    shop = factory.SubFactory(ShopFactory)
    topic = "orders/updated"
    event_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    webhook_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    shopify_id = factory.Sequence(lambda n: 4_000_000_000 + n)
    body = factory.LazyAttribute(lambda log: orjson.dumps(log.payload))
    api_version = "2026-01"
    triggered_at = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    status = WebhookLog.Status.RECEIVED


def delivery_process(shop, topic: str, payload: dict) -> WebhookLog:
    """Store a delivery of `payload` (triggered at BASE_TIME) and process it now; the log after."""
    log = WebhookLogFactory(shop=shop, topic=topic, body=orjson.dumps(payload), triggered_at=BASE_TIME)
    webhook_log_process(webhook_log_id=log.id)
    log.refresh_from_db()
    return log
