"""`config.wsgi.application`: the receiver's path is served without the middleware stack, with
the same answers; every other path still goes through the middleware."""

from __future__ import annotations

import io
import sys

import orjson
import pytest

from tests.factories import ShopFactory
from tests.webhooks.conftest import RECEIVER_PATH, webhook_headers
from tests.webhooks.factories import order_payload
from webhooks.models import WebhookLog


@pytest.fixture
def acme(transactional_db):
    # transactional: the WSGI call fires Django's request signals, which recycle the connection.
    return ShopFactory(domain="acme.myshopify.com")


def _call(method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None):
    from config.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": (headers or {}).get("Content-Type", ""),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    answer: dict = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    chunks = application(environ, start_response)
    try:
        b"".join(chunks)
    finally:
        chunks.close()
    return answer["status"], answer["headers"]


def test_a_signed_delivery_is_stored_without_passing_through_the_middleware(acme):
    # given
    body = orjson.dumps(order_payload(7))
    # when
    status, headers = _call(
        "POST", RECEIVER_PATH, body=body, headers=webhook_headers(topic="orders/create", body=body)
    )
    # then: stored, and no middleware touched the response (no clickjacking header)
    assert status == 200
    assert "X-Frame-Options" not in headers
    log = WebhookLog.objects.get()
    assert (log.shop_id, log.shopify_id, bytes(log.body)) == (acme.id, 7, body)


def test_the_fast_path_answers_401_to_a_bad_signature_and_stores_nothing(acme):
    # given
    body = orjson.dumps(order_payload(7))
    headers = webhook_headers(topic="orders/create", body=body, secret="not-our-secret")
    # when
    status, _ = _call("POST", RECEIVER_PATH, body=body, headers=headers)
    # then
    assert status == 401
    assert WebhookLog.objects.count() == 0


def test_the_fast_path_still_refuses_anything_but_post(acme):
    # when
    status, _ = _call("GET", RECEIVER_PATH)
    # then
    assert status == 405


def test_other_paths_still_go_through_the_middleware(acme):
    # when
    status, headers = _call("GET", "/admin/login/")
    # then
    assert status == 200
    assert headers["X-Frame-Options"] == "DENY"
