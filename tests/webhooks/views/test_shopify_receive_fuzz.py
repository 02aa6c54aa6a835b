"""Fuzzing the receiver over real HTTP: random bodies and headers never give a 500 and never store
an unsigned delivery; signed bodies of every handled topic (valid shapes, missing keys, nulls,
wrong types, NULs, huge integers, floats, unicode) are then applied or recorded as failed with a
readable error, and never take away children the body did not list."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopsync.models import (
    Customer,
    CustomerAddress,
    FailedSyncItem,
    Fulfillment,
    LineItem,
    Order,
    OrderTransaction,
    Product,
    ProductOption,
    ProductVariant,
    Refund,
    Shop,
)
from shopsync.payloads import parse_customer_rest, parse_order_rest, parse_product_rest
from shopsync.services.upsert import records_upsert
from tests.factories import ShopFactory
from tests.webhooks.conftest import RECEIVER_PATH, sign, webhook_headers
from tests.webhooks.factories import at, customer_payload, order_payload, product_payload, transaction_payload
from webhooks.models import PrivacyRequest, WebhookLog
from webhooks.services import processing
from webhooks.services.processing import WebhookRetryableError
from webhooks.topics import HANDLED_TOPICS

HEADER_NAMES = [
    "X-Shopify-Topic",
    "X-Shopify-Shop-Domain",
    "X-Shopify-Event-Id",
    "X-Shopify-Webhook-Id",
    "X-Shopify-API-Version",
    "X-Shopify-Triggered-At",
    "X-Shopify-Order-Id",
    "Content-Type",
]
# What an HTTP client can send as a header value: latin-1 without controls, CR/LF or whitespace.
HEADER_CHARACTERS = [chr(c) for c in (*range(33, 127), *range(161, 256))]
header_values = st.one_of(
    st.sampled_from(
        ["orders/create", "orders/delete", "acme.myshopify.com", "2026-01", "", "0", "-1", "a" * 300]
    ),
    st.text(st.sampled_from(HEADER_CHARACTERS), max_size=80),
)
bodies = st.one_of(
    st.binary(max_size=2048),
    st.sampled_from(
        [b"", b"{}", b"[]", b"null", b'{"id": 1}', b'{"id": "1"}', b'{"id": 1e400}', b'{"customer": {}}']
    ),
    st.text(max_size=300).map(str.encode),
)


@pytest.fixture
def acme(transactional_db):
    return ShopFactory(domain="acme.myshopify.com")


# database=None: no example database left in the work tree; a failure prints its example anyway.
@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=bodies,
    headers=st.dictionaries(st.sampled_from(HEADER_NAMES), header_values, max_size=len(HEADER_NAMES)),
    signature=st.one_of(st.none(), st.just("valid"), header_values),
)
def test_random_deliveries_never_fail_and_unsigned_ones_are_never_stored(
    live_server, acme, body, headers, signature
):
    # given
    headers = dict(headers)
    if signature == "valid":
        headers["X-Shopify-Hmac-Sha256"] = sign(body)
    elif signature is not None:
        headers["X-Shopify-Hmac-Sha256"] = signature
    before = WebhookLog.objects.count()
    # when
    response = requests.post(live_server.url + RECEIVER_PATH, data=body, headers=headers, timeout=10)
    # then
    assert response.status_code in (200, 400, 401, 413)
    stored = WebhookLog.objects.count() - before
    if signature != "valid":
        assert (response.status_code, stored) == (401, 0)
    else:
        assert stored in (0, 1)
        assert stored == 0 or response.status_code == 200


# --- signed deliveries of every handled topic, received over HTTP and then processed -----------------

ORDER_ID, PRODUCT_ID, CUSTOMER_ID, COLLECTION_ID = 1001, 7, 42, 480
LOCATION_ID, ITEM_ID = 76_000_000_001, 1_000_000_000_077
BASES: dict[str, Callable[[], object]] = {
    "orders/create": lambda: order_payload(ORDER_ID, version=1),
    "orders/updated": lambda: order_payload(ORDER_ID, version=1),
    "orders/cancelled": lambda: order_payload(ORDER_ID, version=1, cancelled_at=at(1)),
    "orders/delete": lambda: {"id": ORDER_ID},
    "order_transactions/create": lambda: transaction_payload(ORDER_ID * 10 + 7, order_id=ORDER_ID),
    # Refund and fulfillment bodies name their order, which is fetched (the fuzz shop has none).
    "refunds/create": lambda: {
        "id": 5001,
        "order_id": ORDER_ID,
        "created_at": at(1),
        "note": "damaged",
        "refund_line_items": [
            {
                "id": 5002,
                "line_item_id": ORDER_ID * 10 + 1,
                "quantity": 1,
                "restock_type": "return",
                "subtotal": 9.5,
                "total_tax": 0.5,
            }
        ],
        "transactions": [{"id": 5003, "kind": "refund", "status": "success", "amount": "10.00"}],
    },
    "fulfillments/create": lambda: {
        "id": 6001,
        "order_id": ORDER_ID,
        "status": "success",
        "created_at": at(1),
        "updated_at": at(1),
        "tracking_number": "1Z1",
        "line_items": [{"id": ORDER_ID * 10 + 1, "fulfillment_line_item_id": 6002, "quantity": 1}],
    },
    "fulfillments/update": lambda: {
        "id": 6001,
        "order_id": ORDER_ID,
        "status": "cancelled",
        "created_at": at(1),
        "updated_at": at(2),
        "line_items": [{"id": ORDER_ID * 10 + 1, "fulfillment_line_item_id": 6002, "quantity": 1}],
    },
    "customers/create": lambda: customer_payload(CUSTOMER_ID, version=1),
    "customers/update": lambda: customer_payload(CUSTOMER_ID, version=1),
    "customers/delete": lambda: {"id": CUSTOMER_ID},
    "customers/enable": lambda: customer_payload(CUSTOMER_ID, version=1),
    "customers/disable": lambda: customer_payload(CUSTOMER_ID, version=1, state="disabled"),
    # Consent bodies name the customer, which is fetched (the fuzz shop's simulator has none).
    "customers_email_marketing_consent/update": lambda: {
        "customer_id": CUSTOMER_ID,
        "email_address": "c@example.com",
        "email_marketing_consent": {"state": "unsubscribed", "opt_in_level": "single_opt_in"},
    },
    "customers_marketing_consent/update": lambda: {
        "customer_id": CUSTOMER_ID,
        "phone_number": "+15550002222",
        "sms_marketing_consent": {"state": "subscribed", "opt_in_level": "single_opt_in"},
    },
    "products/create": lambda: product_payload(PRODUCT_ID, version=1),
    "products/update": lambda: product_payload(PRODUCT_ID, version=1),
    "products/delete": lambda: {"id": PRODUCT_ID},
    "collections/create": lambda: {
        "id": COLLECTION_ID,
        "title": "Sale",
        "updated_at": at(0),
        "sort_order": "manual",
    },
    "collections/update": lambda: {
        "id": COLLECTION_ID,
        "title": "Sale",
        "updated_at": at(0),
        "disjunctive": False,
        "rules": [{"column": "tag", "relation": "equals", "condition": "sale"}],
    },
    "collections/delete": lambda: {"id": COLLECTION_ID, "published_scope": "web"},
    **{
        f"locations/{action}": lambda: {
            "id": LOCATION_ID,
            "name": "Main",
            "active": True,
            "updated_at": at(0),
        }
        for action in ("create", "update", "activate", "deactivate")
    },
    "locations/delete": lambda: {"id": LOCATION_ID},
    # A level's location is fetched when not stored (the fuzz shop's simulator has none).
    **{
        f"inventory_levels/{action}": lambda: {
            "inventory_item_id": ITEM_ID,
            "location_id": LOCATION_ID,
            "available": 3,
            "updated_at": at(0),
        }
        for action in ("update", "connect")
    },
    "inventory_levels/disconnect": lambda: {"inventory_item_id": ITEM_ID, "location_id": LOCATION_ID},
    **{
        f"inventory_items/{action}": lambda: {
            "id": ITEM_ID,
            "sku": "MUG-1",
            "cost": "2.50",
            "tracked": True,
            "updated_at": at(0),
        }
        for action in ("create", "update")
    },
    "inventory_items/delete": lambda: {"id": ITEM_ID},
    "app/uninstalled": lambda: {"id": 954889, "name": "Acme", "myshopify_domain": "fuzz.myshopify.com"},
    "bulk_operations/finish": lambda: {
        "admin_graphql_api_id": "gid://shopify/BulkOperation/720918",
        "status": "completed",
        "type": "query",
        "error_code": None,
    },
    "customers/data_request": lambda: {
        "shop_id": 954889,
        "shop_domain": "fuzz.myshopify.com",
        "orders_requested": [ORDER_ID],
        "customer": {"id": CUSTOMER_ID, "email": "c@example.com", "phone": "555"},
        "data_request": {"id": 9999},
    },
    "customers/redact": lambda: {
        "shop_id": 954889,
        "shop_domain": "fuzz.myshopify.com",
        "customer": {"id": CUSTOMER_ID, "email": "c@example.com", "phone": "555"},
        "orders_to_redact": [ORDER_ID],
    },
    "shop/redact": lambda: {"shop_id": 954889, "shop_domain": "fuzz.myshopify.com"},
}
# (resource, child list): the topics that may change it (besides the resource's own with the list).
CHILDREN = {
    ("orders", "line_items"): (),
    ("orders", "transactions"): ("order_transactions/create",),
    ("orders", "refunds"): ("refunds/create",),
    ("orders", "fulfillments"): ("fulfillments/create", "fulfillments/update"),
    ("products", "variants"): (),
    ("products", "options"): (),
    # customers/redact erases the customer's address book.
    ("customers", "addresses"): ("customers/redact",),
}
# Erasing the shop's records is what shop/redact is for.
ERASING_TOPICS = frozenset({"shop/redact"})
FUZZ_TOKEN = "shpat_fuzz"

# Values a broken or hostile producer could put anywhere: wrong types, NULs, unicode, floats where
# ids go, integers past 64 bits (the JSON decoder reads them as floats).
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([9.00000000000000011e17, 2**64, "1001", "", "\x00", "a\x00b", "🛒 ünïcödé", "1e400"]),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


@st.composite
def mutated(draw, value: object, depth: int = 0) -> object:
    """The value with keys dropped, nulled or replaced by junk, at any depth."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            action = draw(st.sampled_from(["keep"] * 6 + ["drop", "null", "junk", "deeper"]))
            if action == "keep":
                result[key] = item
            elif action == "null":
                result[key] = None
            elif action == "junk":
                result[key] = draw(junk)
            elif action == "deeper":
                result[key] = draw(mutated(item, depth + 1))
        return result
    if isinstance(value, list) and depth < 3:
        return [draw(mutated(item, depth + 1)) for item in value]
    if isinstance(value, str) and draw(st.booleans()):
        return value + draw(st.sampled_from(["\x00", "é\x00", "\u2028", "\U0001f600"]))
    return value


@st.composite
def signed_bodies(draw) -> tuple[str, bytes]:
    topic = draw(st.sampled_from(sorted(HANDLED_TOPICS)))
    payload = draw(mutated(BASES[topic]()))
    # json, not orjson: it writes integers past 64 bits, as a broken producer might.
    return topic, json.dumps(payload).encode()


@pytest.fixture
def fuzz_shop(simulator, transactional_db):
    if "fuzz.myshopify.com" not in {s["domain"] for s in simulator.control.shops()}:
        simulator.control.create_shop(
            "fuzz.myshopify.com", token=FUZZ_TOKEN, orders=0, customers=0, products=0
        )
    return ShopFactory(domain="fuzz.myshopify.com", api_base_url=simulator.base_url, access_token=FUZZ_TOKEN)


def _seed(shop) -> None:
    """The store before each example: one order, product and customer, at an old version."""
    # An earlier example may have uninstalled or redacted the shop (which erases its token).
    shop.status, shop.uninstalled_at, shop.access_token = Shop.Status.INSTALLED, None, FUZZ_TOKEN
    shop.save()
    PrivacyRequest.objects.all().delete()
    for model in (Order, Product, Customer):
        model.objects.filter(shop=shop).delete()
    records_upsert(
        resource="orders", shop=shop, records=[parse_order_rest(order_payload(ORDER_ID, version=0))]
    )
    records_upsert(
        resource="products", shop=shop, records=[parse_product_rest(product_payload(PRODUCT_ID, version=0))]
    )
    records_upsert(
        resource="customers",
        shop=shop,
        records=[parse_customer_rest(customer_payload(CUSTOMER_ID, version=0))],
    )


def _children() -> dict[tuple[str, str], list[tuple]]:
    return {
        ("orders", "line_items"): list(
            LineItem.objects.order_by("shopify_id").values_list("shopify_id", "quantity", "title")
        ),
        ("orders", "transactions"): list(
            OrderTransaction.objects.order_by("shopify_id").values_list("shopify_id", "order_id", "status")
        ),
        ("orders", "refunds"): list(
            Refund.objects.order_by("shopify_id").values_list("shopify_id", "order_id")
        ),
        ("orders", "fulfillments"): list(
            Fulfillment.objects.order_by("shopify_id").values_list("shopify_id", "order_id", "status")
        ),
        ("products", "variants"): list(
            ProductVariant.objects.order_by("shopify_id").values_list("shopify_id", "price", "sku")
        ),
        ("products", "options"): list(
            ProductOption.objects.order_by("shopify_id").values_list("shopify_id", "name", "option_values")
        ),
        ("customers", "addresses"): list(
            CustomerAddress.objects.order_by("shopify_id").values_list("shopify_id", "city", "customer_id")
        ),
    }


def _carries_children(topic: str, body: bytes, key: tuple[str, str]) -> bool:
    if topic in CHILDREN[key]:
        return True
    resource, child = key
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    return (
        topic.startswith(f"{resource}/")
        and isinstance(payload, dict)
        and isinstance(payload.get(child), list)
    )


@settings(
    max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(delivery=signed_bodies())
def test_any_signed_body_of_any_topic_is_applied_or_recorded_as_failed_and_never_loses_children(
    live_server, fuzz_shop, delivery
):
    # given
    topic, body = delivery
    _seed(fuzz_shop)
    before = _children()
    headers = webhook_headers(topic=topic, body=body, shop_domain=fuzz_shop.domain)
    # when
    response = requests.post(live_server.url + RECEIVER_PATH, data=body, headers=headers, timeout=10)
    log = WebhookLog.objects.get(webhook_id=headers["X-Shopify-Webhook-Id"])
    if log.status == WebhookLog.Status.RECEIVED:
        # A transient failure is recorded as failed and raised for the task to retry.
        with contextlib.suppress(WebhookRetryableError):
            processing.webhook_log_process(webhook_log_id=log.id)
        log.refresh_from_db()
    # then: never a 500, never a crash; an outcome, with a readable reason when it is a failure
    assert response.status_code == 200
    assert log.status in (
        WebhookLog.Status.PROCESSED,
        WebhookLog.Status.IGNORED,
        WebhookLog.Status.FAILED,
        WebhookLog.Status.DEAD,
    )
    if log.status in (WebhookLog.Status.FAILED, WebhookLog.Status.DEAD):
        assert log.last_error
    if log.status == WebhookLog.Status.DEAD:
        assert FailedSyncItem.objects.filter(source_ref=str(log.pk)).exists()
    # and children change only through an explicit list in a delivery that was applied
    after = _children()
    for key in CHILDREN if topic not in ERASING_TOPICS else ():
        if after[key] != before[key]:
            assert log.status == WebhookLog.Status.PROCESSED, (key, before, after)
            assert _carries_children(topic, body, key), (key, before, after)
