"""The receiver over real HTTP (live_server + requests): verify, record once, answer fast."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import requests
from django.test import override_settings

from shopsync.models import FailedSyncItem, Shop
from tests.factories import ShopFactory
from tests.webhooks.conftest import RECEIVER_PATH, deliver, post_concurrently, webhook_headers
from tests.webhooks.factories import order_payload
from webhooks.models import WebhookLog


@pytest.fixture
def acme(transactional_db):
    return ShopFactory(domain="acme.myshopify.com")


def test_it_accepts_and_stores_a_validly_signed_delivery(live_server, acme):
    # given
    payload = order_payload(820982911946154508)
    triggered_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    # when
    response = deliver(
        live_server.url,
        topic="orders/create",
        payload=payload,
        event_id="ev-1",
        webhook_id="wh-1",
        triggered_at=triggered_at.strftime("%Y-%m-%dT%H:%M:%S.877041743Z"),
    )
    # then
    assert response.status_code == 200
    log = WebhookLog.objects.get()
    assert (log.shop_id, log.topic, log.event_id, log.webhook_id) == (
        acme.id,
        "orders/create",
        "ev-1",
        "wh-1",
    )
    assert log.shopify_id == 820982911946154508
    assert bytes(log.body) == orjson.dumps(payload)
    assert log.api_version == "2026-01"
    assert log.triggered_at == triggered_at.replace(microsecond=877041)
    assert log.status in (
        WebhookLog.Status.RECEIVED,
        WebhookLog.Status.PROCESSING,
        WebhookLog.Status.PROCESSED,
    )


def test_it_reads_headers_whatever_their_casing(live_server, acme):
    # given
    body = orjson.dumps(order_payload(1))
    headers = {key.lower(): value for key, value in webhook_headers(topic="orders/create", body=body).items()}
    # when
    response = requests.post(live_server.url + RECEIVER_PATH, data=body, headers=headers, timeout=10)
    # then
    assert response.status_code == 200
    assert WebhookLog.objects.filter(topic="orders/create", shopify_id=1).count() == 1


def test_it_rejects_a_tampered_body_and_stores_nothing(live_server, acme):
    # given
    body = orjson.dumps(order_payload(1))
    headers = webhook_headers(topic="orders/create", body=body)
    # when
    response = requests.post(
        live_server.url + RECEIVER_PATH, data=body.replace(b"10.00", b"0.01"), headers=headers, timeout=10
    )
    # then
    assert response.status_code == 401
    assert WebhookLog.objects.count() == 0


def test_it_rejects_a_signature_made_with_another_secret(live_server, acme):
    # when
    response = deliver(
        live_server.url, topic="orders/create", payload=order_payload(1), secret="not-our-secret"
    )
    # then
    assert response.status_code == 401
    assert WebhookLog.objects.count() == 0


def test_it_rejects_a_delivery_without_signature_header(live_server, acme):
    # given
    body = orjson.dumps(order_payload(1))
    headers = webhook_headers(topic="orders/create", body=body)
    del headers["X-Shopify-Hmac-Sha256"]
    # when
    response = requests.post(live_server.url + RECEIVER_PATH, data=body, headers=headers, timeout=10)
    # then
    assert response.status_code == 401
    assert WebhookLog.objects.count() == 0


def test_it_rejects_a_hex_signature(live_server, acme):
    # given: Shopify's HMAC is base64; a hex digest of the right HMAC must not pass
    import hashlib
    import hmac

    from django.conf import settings

    body = orjson.dumps(order_payload(1))
    headers = webhook_headers(topic="orders/create", body=body)
    headers["X-Shopify-Hmac-Sha256"] = hmac.new(
        settings.SHOPIFY_API_SECRET.encode(), body, hashlib.sha256
    ).hexdigest()
    # when
    response = requests.post(live_server.url + RECEIVER_PATH, data=body, headers=headers, timeout=10)
    # then
    assert response.status_code == 401
    assert WebhookLog.objects.count() == 0


def test_it_rejects_a_validly_signed_delivery_for_an_unknown_shop(live_server, acme):
    # when
    response = deliver(
        live_server.url, topic="orders/create", payload=order_payload(1), shop_domain="stranger.myshopify.com"
    )
    # then
    assert response.status_code == 401
    assert WebhookLog.objects.count() == 0


def test_it_answers_413_to_an_oversized_body_and_stores_nothing(live_server, acme):
    # given
    with override_settings(WEBHOOK_MAX_BODY_BYTES=1024):
        payload = order_payload(1, note="x" * 2000)
        # when
        response = deliver(live_server.url, topic="orders/create", payload=payload)
    # then
    assert response.status_code == 413
    assert WebhookLog.objects.count() == 0


def test_it_answers_413_when_the_body_is_longer_than_declared_limit_even_if_streamed(live_server, acme):
    # given: a chunked body (no Content-Length) is never read past the limit
    body = orjson.dumps(order_payload(1, note="x" * 5000))
    headers = webhook_headers(topic="orders/create", body=body)

    def chunks():
        yield body[:100]
        yield body[100:]

    # when
    response = requests.post(live_server.url + RECEIVER_PATH, data=chunks(), headers=headers, timeout=10)
    # then: WSGI gives no body without a Content-Length, so the signature cannot match
    assert response.status_code == 401
    assert WebhookLog.objects.count() == 0


def test_it_rejects_get_requests(live_server, acme):
    # when
    response = requests.get(live_server.url + RECEIVER_PATH, timeout=10)
    # then
    assert response.status_code == 405
    assert WebhookLog.objects.count() == 0


def test_a_repeated_delivery_answers_200_and_is_stored_once(live_server, acme):
    # given
    payload = order_payload(7)
    deliver(live_server.url, topic="orders/updated", payload=payload, event_id="ev-7", webhook_id="wh-7")
    # when
    response = deliver(
        live_server.url, topic="orders/updated", payload=payload, event_id="ev-7", webhook_id="wh-7"
    )
    # then
    assert response.status_code == 200
    assert WebhookLog.objects.count() == 1


def test_a_retry_with_a_new_webhook_id_but_the_same_event_id_is_a_duplicate(live_server, acme):
    # given
    payload = order_payload(7)
    deliver(live_server.url, topic="orders/updated", payload=payload, event_id="ev-7", webhook_id="wh-a")
    # when
    response = deliver(
        live_server.url, topic="orders/updated", payload=payload, event_id="ev-7", webhook_id="wh-b"
    )
    # then
    assert response.status_code == 200
    assert list(WebhookLog.objects.values_list("webhook_id", flat=True)) == ["wh-a"]


def test_the_same_webhook_id_with_a_new_event_id_is_a_duplicate(live_server, acme):
    # given: older senders only carry a stable Webhook-Id
    payload = order_payload(7)
    deliver(live_server.url, topic="orders/updated", payload=payload, event_id="ev-a", webhook_id="wh-7")
    # when
    response = deliver(
        live_server.url, topic="orders/updated", payload=payload, event_id="ev-b", webhook_id="wh-7"
    )
    # then
    assert response.status_code == 200
    assert list(WebhookLog.objects.values_list("event_id", flat=True)) == ["ev-a"]


def test_the_same_ids_from_another_shop_are_not_duplicates(live_server, acme):
    # given
    ShopFactory(domain="other.myshopify.com")
    deliver(
        live_server.url, topic="orders/updated", payload=order_payload(7), event_id="ev-7", webhook_id="wh-7"
    )
    # when
    response = deliver(
        live_server.url,
        topic="orders/updated",
        payload=order_payload(7),
        event_id="ev-7",
        webhook_id="wh-7",
        shop_domain="other.myshopify.com",
    )
    # then
    assert response.status_code == 200
    assert WebhookLog.objects.count() == 2


def test_fifty_concurrent_copies_of_one_delivery_are_stored_once(live_server, acme):
    # given
    body = orjson.dumps(order_payload(99))
    headers = webhook_headers(topic="orders/create", body=body, event_id=str(uuid.uuid4()))
    # when
    statuses = post_concurrently(live_server.url + RECEIVER_PATH, body=body, headers=headers, copies=50)
    # then
    assert statuses == [200] * 50
    assert WebhookLog.objects.count() == 1


def test_an_authentic_unhandled_topic_is_answered_and_stored_as_ignored(live_server, acme):
    # when
    response = deliver(live_server.url, topic="themes/publish", payload={"id": 5})
    # then
    assert response.status_code == 200
    log = WebhookLog.objects.get()
    assert (log.topic, log.status) == ("themes/publish", WebhookLog.Status.IGNORED)
    assert log.processed_at is not None


def test_an_authentic_malformed_body_is_answered_stored_and_dead_lettered(live_server, acme):
    # given
    body = b'{"id": 5, "updated_at": '
    # when
    response = deliver(live_server.url, topic="orders/updated", payload=body)
    # then
    assert response.status_code == 200
    log = WebhookLog.objects.get()
    assert log.status == WebhookLog.Status.DEAD
    assert bytes(log.body) == body
    assert "not valid JSON" in log.last_error
    item = FailedSyncItem.objects.get()
    assert (item.entity_type, item.source, item.source_ref) == ("webhook", "webhook", str(log.id))
    assert item.payload == {"topic": "orders/updated", "raw": body.decode()}


def test_an_authentic_delivery_without_topic_is_a_bad_request(live_server, acme):
    # given
    body = orjson.dumps(order_payload(1))
    headers = webhook_headers(topic="orders/create", body=body)
    del headers["X-Shopify-Topic"]
    # when
    response = requests.post(live_server.url + RECEIVER_PATH, data=body, headers=headers, timeout=10)
    # then
    assert response.status_code == 400
    assert WebhookLog.objects.count() == 0


def _triggered(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


@pytest.mark.parametrize(
    ("delta", "reason"),
    [
        (timedelta(days=3650), "is more than 0:05:00 after its receipt"),
        (timedelta(minutes=6), "is more than 0:05:00 after its receipt"),
        (-timedelta(hours=49), "is more than 2 days, 0:00:00 before its receipt"),
    ],
)
def test_a_delivery_with_an_implausible_trigger_time_is_kept_in_quarantine_and_never_queued(
    live_server, acme, delta, reason
):
    # given: a signed body replayed with fresh ids and a trigger time the signature does not cover
    payload = {"id": 954889, "myshopify_domain": acme.domain}
    # when
    response = deliver(
        live_server.url, topic="app/uninstalled", payload=payload, triggered_at=_triggered(delta)
    )
    # then
    assert response.status_code == 200
    log = WebhookLog.objects.get()
    assert (log.status, log.queued_at, log.processed_at) == (WebhookLog.Status.QUARANTINED, None, None)
    assert reason in log.last_error
    assert log.last_error.startswith("X-Shopify-Triggered-At ")
    assert bytes(log.body) == orjson.dumps(payload)
    acme.refresh_from_db()
    assert acme.status == Shop.Status.INSTALLED


@pytest.mark.parametrize("delta", [timedelta(minutes=4), -timedelta(hours=47), None])
def test_a_delivery_triggered_within_clock_skew_and_the_retry_window_is_stored_for_processing(
    live_server, acme, delta
):
    # given
    body = orjson.dumps(order_payload(5))
    headers = webhook_headers(topic="orders/create", body=body)
    if delta is None:
        del headers["X-Shopify-Triggered-At"]
    else:
        headers["X-Shopify-Triggered-At"] = _triggered(delta)
    # when
    response = requests.post(live_server.url + RECEIVER_PATH, data=body, headers=headers, timeout=10)
    # then
    assert response.status_code == 200
    log = WebhookLog.objects.get()
    assert (log.status, log.last_error) == (WebhookLog.Status.RECEIVED, "")
