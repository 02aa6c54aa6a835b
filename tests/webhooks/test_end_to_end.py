"""Deliveries over real HTTP (live_server), published by the relay and processed by a real
`celery worker -Q webhooks` (which runs the relay)."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import requests

from shopsync.models import FailedSyncItem, LineItem, Order
from shopsync.payloads import parse_order_rest
from shopsync.services.upsert import records_upsert
from tests.factories import ShopFactory
from tests.webhooks.conftest import (
    RECEIVER_PATH,
    deliver,
    post_concurrently,
    wait_until,
    webhook_headers,
)
from tests.webhooks.factories import BASE_TIME, order_payload
from webhooks.models import WebhookLog

pytestmark = pytest.mark.e2e


@pytest.fixture
def acme(celery_worker):
    return ShopFactory(domain="acme.myshopify.com")


def _all_processed(expected: int) -> bool:
    return WebhookLog.objects.filter(status=WebhookLog.Status.PROCESSED).count() == expected


def test_fifty_concurrent_copies_are_stored_once_and_applied_once(live_server, acme):
    # given
    body = orjson.dumps(order_payload(4242, version=3))
    headers = webhook_headers(topic="orders/create", body=body, event_id=str(uuid.uuid4()))
    # when
    statuses = post_concurrently(live_server.url + RECEIVER_PATH, body=body, headers=headers, copies=50)
    # then
    assert statuses == [200] * 50
    assert wait_until(lambda: _all_processed(1))
    log = WebhookLog.objects.get()
    assert log.attempts == 1
    order = Order.objects.get(shop=acme, shopify_id=4242)
    assert (order.note, order.shopify_updated_at) == ("version 3", BASE_TIME + timedelta(minutes=3))


def test_shuffled_deliveries_of_one_order_end_at_the_newest_version(live_server, acme):
    # given
    versions = list(range(1, 31))
    random.Random(5).shuffle(versions)
    # when
    with requests.Session() as session:
        for version in versions:
            topic = "orders/create" if version == 1 else "orders/updated"
            response = deliver(
                live_server.url, topic=topic, payload=order_payload(77, version=version), session=session
            )
            assert response.status_code == 200
    # then
    assert wait_until(lambda: _all_processed(30))
    order = Order.objects.get(shop=acme, shopify_id=77)
    assert (order.note, order.shopify_updated_at) == ("version 30", BASE_TIME + timedelta(minutes=30))
    assert LineItem.objects.get(order=order).quantity == 31


def test_a_delete_followed_by_a_late_update_does_not_revive_the_order(live_server, acme):
    # given
    deliver(live_server.url, topic="orders/create", payload=order_payload(78, version=1))
    assert wait_until(lambda: _all_processed(1))
    # when: deleted now (its trigger time); an update made before the delete arrives after it
    deleted_at = datetime.now(UTC).replace(microsecond=0)
    deliver(
        live_server.url,
        topic="orders/delete",
        payload={"id": 78},
        triggered_at=deleted_at.strftime("%Y-%m-%dT%H:%M:%S.000000000Z"),
    )
    assert wait_until(lambda: _all_processed(2))
    deliver(live_server.url, topic="orders/updated", payload=order_payload(78, version=5))
    assert wait_until(lambda: _all_processed(3))
    # then
    order = Order.objects.get(shop=acme, shopify_id=78)
    assert order.deleted_at == deleted_at
    assert order.note == "version 1"


def test_a_backfill_and_a_webhook_storm_on_the_same_records_converge_to_the_newest_versions(
    live_server, acme
):
    # given: 40 orders; the backfill writes versions 0-20 in batches while webhooks bring 0-25
    order_ids = list(range(9000, 9040))
    rng = random.Random(11)
    webhook_plan = [(order_id, version) for order_id in order_ids for version in rng.sample(range(26), 6)]
    rng.shuffle(webhook_plan)
    backfill_errors: list[BaseException] = []

    def backfill():
        try:
            for version in range(0, 21, 4):
                records = [
                    parse_order_rest(order_payload(order_id, version=version)) for order_id in order_ids
                ]
                for start in range(0, len(records), 10):
                    records_upsert(resource="orders", shop=acme, records=records[start : start + 10])
        except BaseException as exc:
            backfill_errors.append(exc)
        finally:
            from django.db import connection

            connection.close()

    def storm(plan):
        with requests.Session() as session:
            for order_id, version in plan:
                assert (
                    deliver(
                        live_server.url,
                        topic="orders/updated",
                        payload=order_payload(order_id, version=version),
                        session=session,
                    ).status_code
                    == 200
                )

    threads = [threading.Thread(target=backfill)] + [
        threading.Thread(target=storm, args=(webhook_plan[i::4],)) for i in range(4)
    ]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert backfill_errors == []
    assert wait_until(lambda: _all_processed(len(webhook_plan)), timeout=60)
    newest = {order_id: max([20] + [v for o, v in webhook_plan if o == order_id]) for order_id in order_ids}
    stored = dict(Order.objects.filter(shop=acme).values_list("shopify_id", "note"))
    assert stored == {order_id: f"version {version}" for order_id, version in newest.items()}
    assert FailedSyncItem.objects.count() == 0
    assert set(WebhookLog.objects.values_list("attempts", "last_error")) == {(1, "")}
