from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid

import orjson

from tests.simulator.conftest import token_of

CREATE = """mutation($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri } userErrors { field message } } }"""


def valid_hmac(secret, request):
    digest = hmac.new(secret.encode(), request["body"], hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), request["headers"]["X-Shopify-Hmac-Sha256"])


def test_graphql_subscription_receives_signed_rest_shaped_deliveries(sim, new_shop, receiver):
    # given
    domain = new_shop()
    token = token_of(sim, domain)
    secret = sim.control.shop_info(domain)["api_secret"]
    created = sim.graphql(
        CREATE, {"topic": "ORDERS_UPDATED", "uri": receiver.url}, token=token, shop=domain
    ).json()
    assert created["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    listed = sim.graphql(
        "{ webhookSubscriptions(first: 5) { nodes { id topic uri } } }", token=token, shop=domain
    ).json()
    assert listed["data"]["webhookSubscriptions"]["nodes"][0]["topic"] == "ORDERS_UPDATED"
    order_id = sim.control.truth("orders", shop=domain)["records"][0]["id"]
    # when
    updated = sim.control.update("orders", order_id, shop=domain, note="hello")
    # then
    request = receiver.wait_for(1)[0]
    headers = request["headers"]
    assert headers["X-Shopify-Topic"] == "orders/updated"
    assert headers["X-Shopify-Shop-Domain"] == domain
    assert headers["X-Shopify-API-Version"] == "2026-01"
    assert headers["Content-Type"] == "application/json"
    assert uuid.UUID(headers["X-Shopify-Webhook-Id"]) and uuid.UUID(headers["X-Shopify-Event-Id"])
    assert headers["X-Shopify-Triggered-At"].endswith("Z")
    assert valid_hmac(secret, request)
    payload = orjson.loads(request["body"])
    assert payload["id"] == order_id and payload["note"] == "hello"
    assert payload["updated_at"] == updated["updated_at"]
    assert payload["admin_graphql_api_id"] == f"gid://shopify/Order/{order_id}"


def test_delete_topic_payload_is_just_the_id(sim, new_shop, receiver):
    domain = new_shop()
    sim.control.subscribe("products/delete", receiver.url, shop=domain)
    product_id = sim.control.truth("products", shop=domain)["records"][0]["id"]
    sim.control.delete("products", product_id, shop=domain)
    request = receiver.wait_for(1)[0]
    assert orjson.loads(request["body"]) == {"id": product_id}
    truth = sim.control.truth("products", shop=domain)
    assert product_id in truth["deleted_ids"]
    assert product_id not in {r["id"] for r in truth["records"]}


def test_failed_deliveries_are_retried_with_the_same_event_id(sim, new_shop, receiver):
    domain = new_shop()
    receiver.statuses = [500, 503]
    sim.control.subscribe("customers/update", receiver.url, shop=domain)
    customer_id = sim.control.truth("customers", shop=domain)["records"][0]["id"]
    sim.control.update("customers", customer_id, shop=domain, note="retry me")
    requests_seen = receiver.wait_for(3)
    assert [r["status"] for r in requests_seen[:3]] == [500, 503, 200]
    assert len({r["headers"]["X-Shopify-Event-Id"] for r in requests_seen[:3]}) == 1
    assert len({r["headers"]["X-Shopify-Webhook-Id"] for r in requests_seen[:3]}) == 1
    assert len({r["body"] for r in requests_seen[:3]}) == 1
    sim.control.flush_webhooks(domain)
    delivery = sim.control.deliveries(domain, topic="customers/update")[0]
    assert delivery["status"] == "delivered" and delivery["retries"] == 2


def test_api_subscription_deleted_after_8_consecutive_failures(sim, new_shop, receiver):
    domain = new_shop()
    receiver.default_status = 500
    sim.control.subscribe("customers/update", receiver.url, shop=domain, source="api")
    sim.control.subscribe("customers/create", receiver.url, shop=domain, source="app")
    customer_id = sim.control.truth("customers", shop=domain)["records"][0]["id"]
    sim.control.update("customers", customer_id, shop=domain, note="x")
    deadline = time.time() + 30
    while time.time() < deadline and any(
        s["topic"] == "customers/update" for s in sim.control.subscriptions(domain)
    ):
        sim.control.flush_webhooks(domain)
        time.sleep(0.1)
    topics = [s["topic"] for s in sim.control.subscriptions(domain)]
    assert topics == ["customers/create"]
    assert len([r for r in receiver.requests if r["headers"]["X-Shopify-Topic"] == "customers/update"]) == 8


def test_privacy_topics_carry_the_contract_payloads(sim, new_shop, receiver):
    domain = new_shop()
    secret = sim.control.shop_info(domain)["api_secret"]
    for topic in ("customers/data_request", "customers/redact", "shop/redact"):
        sim.control.send_privacy_webhook(topic, receiver.url, shop=domain)
    requests_seen = receiver.wait_for(3)
    by_topic = {r["headers"]["X-Shopify-Topic"]: orjson.loads(r["body"]) for r in requests_seen}
    assert set(by_topic["shop/redact"]) == {"shop_id", "shop_domain"}
    assert set(by_topic["customers/redact"]) == {"shop_id", "shop_domain", "customer", "orders_to_redact"}
    assert set(by_topic["customers/data_request"]) == {
        "shop_id",
        "shop_domain",
        "orders_requested",
        "customer",
        "data_request",
    }
    assert all(valid_hmac(secret, r) for r in requests_seen)


def test_app_uninstalled_webhook_and_tokens_revoked(sim, new_shop, receiver):
    domain = new_shop()
    token = token_of(sim, domain)
    sim.control.subscribe("app/uninstalled", receiver.url, shop=domain)
    sim.control.uninstall(domain)
    request = receiver.wait_for(1)[0]
    assert orjson.loads(request["body"])["myshopify_domain"] == domain
    assert sim.graphql("{ shop { name } }", token=token, shop=domain).status_code == 401


def test_every_store_change_emits_its_topic(sim, new_shop, receiver):
    domain = new_shop()
    topics = [
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "orders/delete",
        "customers/create",
        "customers/update",
        "customers/delete",
        "products/create",
        "products/update",
        "products/delete",
    ]
    sim.control.subscribe(topics, receiver.url, shop=domain)
    order = sim.control.create("orders", shop=domain)
    sim.control.update("orders", order["id"], shop=domain, cancel=True)
    sim.control.delete("orders", order["id"], shop=domain)
    customer = sim.control.create("customers", shop=domain)
    sim.control.update("customers", customer["id"], shop=domain)
    sim.control.delete("customers", customer["id"], shop=domain)
    product = sim.control.create("products", shop=domain)
    sim.control.update("products", product["id"], shop=domain)
    sim.control.delete("products", product["id"], shop=domain)
    sim.control.flush_webhooks(domain)
    seen = {r["headers"]["X-Shopify-Topic"] for r in receiver.wait_for(10)}
    assert set(topics) <= seen
