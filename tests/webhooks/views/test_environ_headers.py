"""The receiver's header access straight from the WSGI environ (pure logic, no server)."""

from __future__ import annotations

from webhooks.views import _EnvironHeaders

ENVIRON = {
    "HTTP_X_SHOPIFY_TOPIC": "orders/updated",
    "HTTP_X_SHOPIFY_HMAC_SHA256": "c2ln",
    "CONTENT_LENGTH": "2",
    "wsgi.input": object(),
}


def test_it_finds_a_header_whatever_the_casing_of_its_name():
    headers = _EnvironHeaders(ENVIRON)

    assert headers["X-Shopify-Topic"] == "orders/updated"
    assert headers.get("x-shopify-hmac-sha256") == "c2ln"
    assert "X-SHOPIFY-TOPIC" in headers


def test_a_missing_header_is_absent_not_an_error():
    headers = _EnvironHeaders(ENVIRON)

    assert headers.get("X-Shopify-Event-Id") is None
    assert "X-Shopify-Order-Id" not in headers


def test_it_lists_only_the_http_headers():
    headers = _EnvironHeaders(ENVIRON)

    assert sorted(headers) == ["X-Shopify-Hmac-Sha256", "X-Shopify-Topic"]
    assert len(headers) == 2
