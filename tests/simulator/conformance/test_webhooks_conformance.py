"""Webhooks (contract §4): headers, base64 HMAC of the exact body, REST-shaped payloads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import orjson

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TRIGGERED_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")


def test_webhook_delivery_headers_signature_and_payload(sim, new_shop, receiver):
    # given
    domain = new_shop()
    info = sim.control.shop_info(domain)
    sim.control.subscribe(["orders/updated", "orders/delete"], receiver.url, shop=domain)
    order_id = sim.control.truth("orders", shop=domain)["records"][0]["id"]
    # when
    sim.control.update("orders", order_id, shop=domain, note="conformance")
    sim.control.delete("orders", order_id, shop=domain)
    # then
    updated, deleted = receiver.wait_for(2)
    for delivery, topic in ((updated, "orders/updated"), (deleted, "orders/delete")):
        headers = delivery["headers"]
        digest = hmac.new(info["api_secret"].encode(), delivery["body"], hashlib.sha256).digest()
        assert headers["X-Shopify-Hmac-Sha256"] == base64.b64encode(digest).decode()
        assert headers["X-Shopify-Topic"] == topic
        assert headers["X-Shopify-Shop-Domain"] == domain
        assert headers["Content-Type"] == "application/json"
        assert UUID_RE.match(headers["X-Shopify-Webhook-Id"]) and UUID_RE.match(headers["X-Shopify-Event-Id"])
        assert TRIGGERED_RE.match(headers["X-Shopify-Triggered-At"])
        assert re.match(r"^\d{4}-(01|04|07|10)$", headers["X-Shopify-API-Version"])
        assert headers["X-Shopify-Order-Id"] == str(order_id)
    body = orjson.loads(updated["body"])
    assert body["id"] == order_id and body["note"] == "conformance"
    assert body["admin_graphql_api_id"] == f"gid://shopify/Order/{order_id}"
    assert orjson.loads(deleted["body"]) == {"id": order_id}
