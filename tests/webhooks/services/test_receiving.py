"""`webhook_event_record` and friends, called directly (no HTTP)."""

from __future__ import annotations

import orjson
import pytest
from django.db import connection

from shopsync.models import FailedSyncItem
from tests.processes import celery_app_broker
from tests.webhooks.conftest import DEAD_BROKER_URL, sign, webhooks_queue_length
from tests.webhooks.factories import order_payload
from webhooks.models import WebhookLog
from webhooks.services.receiving import (
    RecordOutcome,
    WebhookDelivery,
    WebhookHeaderError,
    resource_id_from_payload,
    webhook_event_record,
    webhook_signature_is_valid,
)


def _delivery(**overrides) -> WebhookDelivery:
    values = {
        "topic": "orders/updated",
        "shop_domain": "acme.myshopify.com",
        "event_id": "ev-1",
        "webhook_id": "wh-1",
        "api_version": "2026-01",
        "triggered_at": None,
        "resource_id_header": None,
        "body": orjson.dumps(order_payload(42)),
    }
    return WebhookDelivery(**{**values, **overrides})


def test_signature_is_valid_for_the_base64_hmac_of_the_raw_body():
    # given
    body = b'{"id": 1}'
    # when / then
    assert webhook_signature_is_valid(body=body, signature=sign(body)) is True
    assert webhook_signature_is_valid(body=body + b" ", signature=sign(body)) is False
    assert webhook_signature_is_valid(body=body, signature="") is False
    assert webhook_signature_is_valid(body=body, signature=None) is False
    assert webhook_signature_is_valid(body=body, signature="ünïcode") is False


def test_delivery_from_headers_reads_every_shopify_header():
    # given
    from django.http.request import HttpHeaders

    headers = HttpHeaders(
        {
            "HTTP_X_SHOPIFY_TOPIC": "orders/create",
            "HTTP_X_SHOPIFY_SHOP_DOMAIN": "Acme.myshopify.com",
            "HTTP_X_SHOPIFY_EVENT_ID": "98880550-7158-44d4-b7cd-2c97c8a091b5",
            "HTTP_X_SHOPIFY_WEBHOOK_ID": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            "HTTP_X_SHOPIFY_API_VERSION": "2026-01",
            "HTTP_X_SHOPIFY_TRIGGERED_AT": "2023-03-29T18:00:27.877041743Z",
            "HTTP_X_SHOPIFY_ORDER_ID": "820982911946154508",
        }
    )
    # when
    delivery = WebhookDelivery.from_headers(headers=headers, body=b"{}")
    # then
    assert delivery.topic == "orders/create"
    assert delivery.shop_domain == "acme.myshopify.com"
    assert delivery.event_id == "98880550-7158-44d4-b7cd-2c97c8a091b5"
    assert delivery.webhook_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert delivery.triggered_at.isoformat() == "2023-03-29T18:00:27.877041+00:00"
    assert delivery.resource_id_header == "820982911946154508"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_SHOPIFY_TOPIC": "orders create"},
        {"HTTP_X_SHOPIFY_TOPIC": "x" * 101},
        {"HTTP_X_SHOPIFY_TOPIC": "orders/create", "HTTP_X_SHOPIFY_EVENT_ID": "a" * 256},
        {"HTTP_X_SHOPIFY_TOPIC": "orders/create", "HTTP_X_SHOPIFY_WEBHOOK_ID": "id\x00nul"},
    ],
)
def test_delivery_from_headers_refuses_headers_it_cannot_store(headers):
    # given
    from django.http.request import HttpHeaders

    # when / then
    with pytest.raises(WebhookHeaderError):
        WebhookDelivery.from_headers(headers=HttpHeaders(headers), body=b"{}")


def test_record_stores_the_delivery_for_the_relay_and_publishes_nothing(
    shop, django_capture_on_commit_callbacks
):
    # given
    delivery = _delivery()
    queue_before = webhooks_queue_length()
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outcome = webhook_event_record(delivery=delivery)
    # then: the row is the outbox entry (received, not yet published); no broker work in the request
    assert outcome == RecordOutcome.STORED
    log = WebhookLog.objects.get()
    assert (log.status, log.shopify_id, bytes(log.body)) == (WebhookLog.Status.RECEIVED, 42, delivery.body)
    assert log.queued_at is None
    assert callbacks == []
    assert webhooks_queue_length() == queue_before


def test_record_of_a_duplicate_does_nothing(shop, django_capture_on_commit_callbacks):
    # given
    webhook_event_record(delivery=_delivery())
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outcome = webhook_event_record(delivery=_delivery(body=b'{"id": 43}'))
    # then
    assert outcome == RecordOutcome.DUPLICATE
    assert callbacks == []
    assert bytes(WebhookLog.objects.get().body) == _delivery().body


def test_record_without_any_id_header_stores_every_copy(shop):
    # given: no dedupe key at all; storing twice is better than losing one
    delivery = _delivery(event_id=None, webhook_id=None)
    # when
    webhook_event_record(delivery=delivery)
    webhook_event_record(delivery=delivery)
    # then
    assert WebhookLog.objects.count() == 2


def test_the_same_event_id_on_two_topics_is_two_deliveries(shop):
    # given
    webhook_event_record(delivery=_delivery(topic="orders/create", webhook_id="a"))
    # when
    outcome = webhook_event_record(delivery=_delivery(topic="orders/updated", webhook_id="b"))
    # then
    assert outcome == RecordOutcome.STORED
    assert WebhookLog.objects.count() == 2


def test_the_database_refuses_a_second_row_with_the_same_event_id(db):
    # given / when / then: the constraint itself, not just our insert, guards the invariant
    from django.db import IntegrityError, transaction

    from tests.webhooks.factories import WebhookLogFactory

    log = WebhookLogFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookLogFactory(shop=log.shop, topic=log.topic, event_id=log.event_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookLogFactory(shop=log.shop, webhook_id=log.webhook_id)


def test_record_of_a_body_that_is_not_json_dead_letters_it_without_queueing(
    shop, django_capture_on_commit_callbacks
):
    # given
    delivery = _delivery(body=b"\x00not json", resource_id_header="77")
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outcome = webhook_event_record(delivery=delivery)
    # then
    assert outcome == RecordOutcome.MALFORMED
    assert callbacks == []
    log = WebhookLog.objects.get()
    assert (log.status, log.shopify_id) == (WebhookLog.Status.DEAD, 77)
    item = FailedSyncItem.objects.get()
    assert (item.shopify_id, item.source_ref, item.payload["raw"]) == (77, str(log.id), "\ufffdnot json")


def test_record_with_the_broker_down_keeps_the_delivery(shop):
    # given
    with celery_app_broker(DEAD_BROKER_URL):
        # when: the request never talks to the broker
        outcome = webhook_event_record(delivery=_delivery())
    # then
    assert outcome == RecordOutcome.STORED
    assert WebhookLog.objects.get().status == WebhookLog.Status.RECEIVED


@pytest.mark.parametrize(
    ("topic", "payload", "expected"),
    [
        ("orders/create", {"id": 820982911946154508}, 820982911946154508),
        ("customers/redact", {"shop_id": 1, "customer": {"id": 191167}}, 191167),
        ("customers/data_request", {"customer": {"id": "191167"}}, 191167),
        ("shop/redact", {"shop_id": 954889, "shop_domain": "x"}, 954889),
        ("bulk_operations/finish", {"admin_graphql_api_id": "gid://shopify/BulkOperation/720918"}, 720918),
        ("orders/create", {"id": True}, None),
        ("orders/create", {"id": 2**64}, None),
        ("orders/create", [1, 2], None),
    ],
)
def test_resource_id_from_payload(topic, payload, expected):
    # when / then
    assert resource_id_from_payload(topic=topic, payload=payload) == expected


def test_insert_is_a_single_statement(shop, django_assert_num_queries):
    # given: one INSERT ... ON CONFLICT DO NOTHING RETURNING, inside a savepoint-free transaction
    delivery = _delivery()
    # when / then
    with django_assert_num_queries(1, connection=connection):
        webhook_event_record(delivery=delivery)


def test_record_for_an_unknown_shop_stores_nothing(shop, django_capture_on_commit_callbacks):
    # given
    for domain in ("stranger.myshopify.com", "not a domain", "evil\x00.myshopify.com"):
        # when
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            outcome = webhook_event_record(delivery=_delivery(shop_domain=domain))
        # then
        assert outcome == RecordOutcome.UNKNOWN_SHOP
        assert callbacks == []
    assert WebhookLog.objects.count() == 0


def test_record_of_a_malformed_body_for_an_unknown_shop_stores_nothing(shop):
    # when
    outcome = webhook_event_record(delivery=_delivery(shop_domain="stranger.myshopify.com", body=b"{"))
    # then
    assert outcome == RecordOutcome.UNKNOWN_SHOP
    assert (WebhookLog.objects.count(), FailedSyncItem.objects.count()) == (0, 0)


def test_record_on_a_connection_the_database_dropped_reconnects_and_stores_once(transactional_db):
    # given: a reused connection whose server side is gone (a database restart, a network cut)
    from django.db import connections

    from tests.factories import ShopFactory

    ShopFactory(domain="acme.myshopify.com")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    connection.health_check_done = False  # what every new request starts with
    # when
    outcome = webhook_event_record(delivery=_delivery())
    # then
    assert outcome == RecordOutcome.STORED
    assert WebhookLog.objects.count() == 1


def test_record_of_a_duplicate_on_the_prepared_statement_path_does_nothing(transactional_db):
    # given: queries not logged, so the insert runs as a server-side prepared statement
    from tests.factories import ShopFactory

    ShopFactory(domain="acme.myshopify.com")
    outcomes = [
        webhook_event_record(delivery=_delivery(event_id=f"ev-{n % 3}", webhook_id=None)) for n in range(9)
    ]
    # then
    assert outcomes == [RecordOutcome.STORED] * 3 + [RecordOutcome.DUPLICATE] * 6
    assert sorted(WebhookLog.objects.values_list("event_id", flat=True)) == ["ev-0", "ev-1", "ev-2"]


def test_an_overlong_value_is_refused_by_the_database_not_cut_to_fit(transactional_db):
    # given: an event id longer than its column (the header check refuses it before; this is the
    # statement's own guard: an explicit CAST to varchar(255) would silently keep 255 characters)
    from django.db import DataError

    from tests.factories import ShopFactory

    ShopFactory(domain="acme.myshopify.com")
    # when / then
    with pytest.raises(DataError):
        webhook_event_record(delivery=_delivery(event_id="x" * 300))
    assert WebhookLog.objects.count() == 0
