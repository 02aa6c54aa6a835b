"""The outbox relay: claims stored, unpublished deliveries and publishes them in batches."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta

import pytest
import redis
from django.db import connection, connections
from django.utils import timezone

from tests.processes import celery_app_broker
from tests.webhooks.conftest import DEAD_BROKER_URL, redis_url, wait_until
from tests.webhooks.factories import WebhookLogFactory
from webhooks.models import WebhookLog
from webhooks.services.relaying import webhook_logs_relay, webhook_relay_run


@pytest.fixture(autouse=True)
def empty_queue():
    client = redis.Redis.from_url(redis_url())
    client.delete("webhooks")
    yield
    client.delete("webhooks")


def _published_batches() -> list[list[int]]:
    """The id lists of the `webhook_logs_process_task` messages in the queue, oldest first."""
    client = redis.Redis.from_url(redis_url())
    batches = []
    for raw in reversed(client.lrange("webhooks", 0, -1)):  # kombu LPUSHes, workers BRPOP
        message = json.loads(raw)
        assert message["headers"]["task"] == "webhooks.tasks.webhook_logs_process_task"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        batches.append(args[0])
    return batches


def test_relay_publishes_stored_deliveries_oldest_first_many_per_message(shop):
    # given
    ids = [WebhookLogFactory(shop=shop).pk for _ in range(45)]
    # when
    result = webhook_logs_relay(batch_size=500, ids_per_task=20)
    # then: three messages carry the 45 deliveries
    assert (result.claimed, result.published_ids, result.publish_failures) == (45, tuple(ids), 0)
    assert _published_batches() == [ids[:20], ids[20:40], ids[40:]]
    assert not WebhookLog.objects.filter(queued_at__isnull=True).exists()


def test_relay_claims_at_most_one_batch_and_the_next_pass_takes_the_rest(shop):
    # given
    ids = [WebhookLogFactory(shop=shop).pk for _ in range(7)]
    # when
    first = webhook_logs_relay(batch_size=5, ids_per_task=5)
    second = webhook_logs_relay(batch_size=5, ids_per_task=5)
    third = webhook_logs_relay(batch_size=5, ids_per_task=5)
    # then
    assert (first.published_ids, second.published_ids, third.claimed) == (tuple(ids[:5]), tuple(ids[5:]), 0)
    assert _published_batches() == [ids[:5], ids[5:]]


def test_relay_leaves_published_and_finished_deliveries_alone(shop):
    # given
    waiting = WebhookLogFactory(shop=shop).pk
    WebhookLogFactory(shop=shop, queued_at=timezone.now())
    for status in (
        WebhookLog.Status.PROCESSING,
        WebhookLog.Status.PROCESSED,
        WebhookLog.Status.FAILED,
        WebhookLog.Status.IGNORED,
        WebhookLog.Status.DEAD,
    ):
        WebhookLogFactory(shop=shop, status=status)
    # when
    result = webhook_logs_relay()
    # then
    assert result.published_ids == (waiting,)
    assert _published_batches() == [[waiting]]


def test_relay_with_the_broker_down_releases_its_claim_for_the_next_pass(shop):
    # given
    ids = [WebhookLogFactory(shop=shop).pk for _ in range(3)]
    # when
    with celery_app_broker(DEAD_BROKER_URL):
        failed = webhook_logs_relay(ids_per_task=2)
    # then: nothing published, nothing lost, all claimable again
    assert (failed.claimed, failed.published_ids, failed.publish_failures) == (3, (), 3)
    assert WebhookLog.objects.filter(pk__in=ids, queued_at__isnull=True).count() == 3
    # when: the broker is back
    retried = webhook_logs_relay(ids_per_task=2)
    # then
    assert retried.published_ids == tuple(ids)
    assert _published_batches() == [ids[:2], ids[2:]]


def test_relay_skips_rows_another_relay_holds_instead_of_waiting(transactional_db, shop):
    # given: another relay's claim transaction holds the oldest row
    held, free = WebhookLogFactory(shop=shop).pk, WebhookLogFactory(shop=shop).pk
    locked, release = threading.Event(), threading.Event()

    def other_relay():
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("SELECT id FROM webhooks_webhooklog WHERE id = %s FOR UPDATE", [held])
                locked.set()
                release.wait(10)
                cursor.execute("ROLLBACK")
        finally:
            other.close()

    thread = threading.Thread(target=other_relay)
    thread.start()
    assert locked.wait(10)
    try:
        # when
        result = webhook_logs_relay()
    finally:
        release.set()
        thread.join()
    # then
    assert result.published_ids == (free,)
    assert WebhookLog.objects.get(pk=held).queued_at is None


def test_relay_loop_publishes_new_deliveries_within_its_poll_interval_until_stopped(transactional_db, shop):
    # given
    stop = threading.Event()

    def run():
        try:
            webhook_relay_run(stop=stop, poll_seconds=0.05)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        # when
        log = WebhookLogFactory(shop=shop)
        stored_at = timezone.now()
        # then
        assert wait_until(lambda: WebhookLog.objects.get(pk=log.pk).queued_at is not None, timeout=5)
        assert WebhookLog.objects.get(pk=log.pk).queued_at - stored_at < timedelta(seconds=1)
        assert _published_batches() == [[log.pk]]
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
