"""The sweeper queues what was stored but is not being processed, and nothing else."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

from django.utils import timezone

from tests.processes import celery_app_broker
from tests.webhooks.conftest import DEAD_BROKER_URL
from tests.webhooks.factories import WebhookLogFactory
from webhooks.models import WebhookLog
from webhooks.services.sweeping import webhook_logs_sweep


def _log(shop, status, **times):
    log = WebhookLogFactory(shop=shop, status=status)
    WebhookLog.objects.filter(pk=log.pk).update(**times)
    return log.pk


def test_sweep_queues_waiting_stuck_and_stalled_deliveries_only(shop):
    # given
    now = timezone.now()
    long_ago = now - timedelta(hours=1)
    waiting = _log(shop, WebhookLog.Status.RECEIVED, received_at=now - timedelta(seconds=30))
    _log(shop, WebhookLog.Status.RECEIVED, received_at=now - timedelta(seconds=1))
    stuck = _log(
        shop, WebhookLog.Status.PROCESSING, received_at=long_ago, claimed_at=now - timedelta(minutes=6)
    )
    _log(shop, WebhookLog.Status.PROCESSING, received_at=long_ago, claimed_at=now - timedelta(seconds=20))
    stalled = _log(
        shop, WebhookLog.Status.FAILED, received_at=long_ago, updated_at=now - timedelta(minutes=20)
    )
    _log(shop, WebhookLog.Status.FAILED, received_at=long_ago, updated_at=now - timedelta(seconds=20))
    for status in (WebhookLog.Status.PROCESSED, WebhookLog.Status.IGNORED, WebhookLog.Status.DEAD):
        _log(shop, status, received_at=long_ago)
    # when
    result = webhook_logs_sweep(now=now)
    # then
    assert sorted(result.queued_ids) == sorted([waiting, stuck, stalled])
    assert (result.unstuck, result.enqueue_failures) == (1, 0)
    assert WebhookLog.objects.get(pk=stuck).status == WebhookLog.Status.RECEIVED


def test_sweep_with_the_broker_still_down_leaves_deliveries_waiting(shop):
    # given
    now = timezone.now()
    waiting = _log(shop, WebhookLog.Status.RECEIVED, received_at=now - timedelta(minutes=1))
    # when
    with celery_app_broker(DEAD_BROKER_URL):
        result = webhook_logs_sweep(now=now)
    # then
    assert (result.queued_ids, result.enqueue_failures) == ((), 1)
    assert WebhookLog.objects.get(pk=waiting).status == WebhookLog.Status.RECEIVED


def test_sweep_queues_at_most_one_batch_oldest_first(shop):
    # given
    now = timezone.now()
    ids = [
        _log(shop, WebhookLog.Status.RECEIVED, received_at=now - timedelta(minutes=10 - i)) for i in range(5)
    ]
    # when
    result = webhook_logs_sweep(now=now, batch_size=3)
    # then
    assert result.queued_ids == tuple(ids[:3])


def test_the_sweeper_is_scheduled_every_minute_in_beat(db):
    # given: migration 0002's data, written again (idempotent), since a transactional test run earlier
    # on the same worker leaves the tables empty
    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    import_module("webhooks.migrations.0002_sweeper_schedule").schedule_sweeper(apps, None)
    # when
    task = PeriodicTask.objects.get(task="webhooks.tasks.webhook_logs_sweep_task")
    # then
    assert (task.enabled, task.interval.every, task.interval.period) == (True, 1, "minutes")


def test_sweep_republishes_deliveries_a_relay_claimed_but_never_published(shop):
    # given: a relay stamped both, then died before publishing; one was claimed just now
    now = timezone.now()
    abandoned = _log(
        shop,
        WebhookLog.Status.RECEIVED,
        received_at=now - timedelta(minutes=2),
        queued_at=now - timedelta(minutes=2),
    )
    _log(
        shop,
        WebhookLog.Status.RECEIVED,
        received_at=now - timedelta(minutes=2),
        queued_at=now - timedelta(seconds=1),
    )
    # when
    result = webhook_logs_sweep(now=now)
    # then
    assert result.queued_ids == (abandoned,)
    assert WebhookLog.objects.get(pk=abandoned).queued_at == now
