"""The outbox relay end to end: deliveries over real HTTP (live_server), a real Celery worker, real
PostgreSQL and Redis, the relay in the worker or as `manage.py webhook_relay`, killed or not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.utils import timezone

from shopsync.models import Order
from tests.factories import ShopFactory
from tests.processes import ROOT, celery_app_broker
from tests.webhooks.conftest import (
    DEAD_BROKER_URL,
    deliver,
    redis_url,
    start_celery_worker,
    stop_process,
    wait_until,
    webhooks_queue_length,
)
from tests.webhooks.factories import order_payload
from webhooks.models import WebhookLog
from webhooks.services.relaying import _claim_unqueued, webhook_logs_publish, webhook_logs_relay
from webhooks.services.sweeping import WAITING_AFTER, webhook_logs_sweep

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def celery_worker_process(django_db_setup):
    """This module's worker consumes but does not relay: each test decides who publishes."""
    import redis

    redis.Redis.from_url(redis_url()).delete("webhooks")
    worker = start_celery_worker(extra_env={"WEBHOOK_RELAY_IN_WORKER": "false"})
    yield worker
    stop_process(worker)


def _deliver_orders(url: str, shopify_ids: range) -> None:
    with requests.Session() as session:
        for shopify_id in shopify_ids:
            response = deliver(
                url, topic="orders/updated", payload=order_payload(shopify_id, version=1), session=session
            )
            assert response.status_code == 200


def _processed() -> int:
    return WebhookLog.objects.filter(status=WebhookLog.Status.PROCESSED).count()


def _standalone_relay(**settings: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": redis_url(),
        **settings,
    }
    return subprocess.Popen([sys.executable, "manage.py", "webhook_relay"], cwd=ROOT, env=env)


# Runs first, before anything in this module starts the module's worker.
def test_deliveries_stored_while_no_worker_runs_are_processed_once_a_worker_starts(
    live_server, transactional_db
):
    # given: no worker, no relay; the receiver stores and answers
    shop = ShopFactory(domain="acme.myshopify.com")
    queue_before = webhooks_queue_length()
    _deliver_orders(live_server.url, range(100, 130))
    assert WebhookLog.objects.filter(status=WebhookLog.Status.RECEIVED, queued_at__isnull=True).count() == 30
    assert webhooks_queue_length() == queue_before
    # when: a worker starts (its relay publishes the backlog)
    worker = start_celery_worker()
    try:
        # then
        assert wait_until(lambda: _processed() == 30, timeout=60)
    finally:
        stop_process(worker)
    assert Order.objects.filter(shop=shop).count() == 30
    assert set(WebhookLog.objects.values_list("attempts", flat=True)) == {1}


def test_a_new_delivery_is_processed_well_under_a_second_after_it_is_stored(live_server, transactional_db):
    # given: a worker with its relay, idle
    ShopFactory(domain="acme.myshopify.com")
    worker = start_celery_worker()
    try:
        _deliver_orders(live_server.url, range(1, 2))  # warm up: connections, first task
        assert wait_until(lambda: _processed() == 1, timeout=30)
        # when
        _deliver_orders(live_server.url, range(2, 12))
        # then
        assert wait_until(lambda: _processed() == 11, timeout=30)
    finally:
        stop_process(worker)
    latencies = sorted(
        (log.processed_at - log.received_at).total_seconds()
        for log in WebhookLog.objects.exclude(shopify_id=1)
    )
    assert latencies[len(latencies) // 2] < 0.5
    assert latencies[-1] < 1.0


@pytest.mark.slow
def test_a_relay_killed_mid_batch_loses_nothing_and_the_double_publish_is_harmless(
    live_server, celery_worker
):
    # given: 300 stored deliveries; a standalone relay publishing one id per message
    shop = ShopFactory(domain="acme.myshopify.com")
    _deliver_orders(live_server.url, range(1000, 1300))
    relay = _standalone_relay(WEBHOOK_RELAY_IDS_PER_TASK="1", WEBHOOK_RELAY_BATCH_SIZE="300")
    # when: it is killed (no clean-up) once the first deliveries are being processed
    assert wait_until(lambda: _processed() >= 1, timeout=30, interval=0.01)
    relay.send_signal(signal.SIGKILL)
    relay.wait()
    # then: whatever it claimed but did not publish is still stored, and the sweeper publishes it
    assert WebhookLog.objects.filter(status=WebhookLog.Status.RECEIVED, queued_at__isnull=True).count() == 0
    result = webhook_logs_sweep(now=timezone.now() + WAITING_AFTER + timedelta(seconds=1))
    # and publishing everything again on top is harmless
    webhook_logs_publish(webhook_log_ids=list(WebhookLog.objects.values_list("pk", flat=True)))
    assert wait_until(lambda: _processed() == 300, timeout=120)
    assert Order.objects.filter(shop=shop).count() == 300
    assert set(WebhookLog.objects.values_list("attempts", flat=True)) == {1}
    assert result.enqueue_failures == 0


def test_a_claim_whose_publish_never_happened_is_swept_and_processed_once(live_server, celery_worker):
    # given: a relay claimed 20 deliveries, published half, and died
    shop = ShopFactory(domain="acme.myshopify.com")
    _deliver_orders(live_server.url, range(2000, 2020))
    claimed = _claim_unqueued(limit=20, now=timezone.now())
    webhook_logs_publish(webhook_log_ids=claimed[:10])
    assert wait_until(lambda: _processed() == 10, timeout=30)
    # when: another relay pass runs (it must not touch the claimed ones), then the sweeper
    assert webhook_logs_relay().claimed == 0
    result = webhook_logs_sweep(now=timezone.now() + WAITING_AFTER + timedelta(seconds=1))
    # then
    assert result.queued_ids == tuple(claimed[10:])
    assert wait_until(lambda: _processed() == 20, timeout=30)
    assert Order.objects.filter(shop=shop).count() == 20
    assert set(WebhookLog.objects.values_list("attempts", flat=True)) == {1}


def test_with_the_broker_down_deliveries_are_answered_stored_and_processed_once_it_is_back(
    live_server, celery_worker
):
    # given
    shop = ShopFactory(domain="acme.myshopify.com")
    # when: deliveries arrive and the relay cannot reach the broker
    _deliver_orders(live_server.url, range(500, 505))
    with celery_app_broker(DEAD_BROKER_URL):
        down = webhook_logs_relay()
    # then: answered and stored, nothing published or processed, all waiting for the next pass
    assert (down.claimed, down.publish_failures) == (5, 5)
    assert WebhookLog.objects.filter(status=WebhookLog.Status.RECEIVED, queued_at__isnull=True).count() == 5
    assert not wait_until(
        lambda: WebhookLog.objects.exclude(status=WebhookLog.Status.RECEIVED).exists(), timeout=1
    )
    # when: the broker is back
    back = webhook_logs_relay()
    # then
    assert back.published_ids == down.published_ids + tuple(
        sorted(WebhookLog.objects.values_list("pk", flat=True))
    )
    assert wait_until(lambda: _processed() == 5, timeout=30)
    assert Order.objects.filter(shop=shop).count() == 5
