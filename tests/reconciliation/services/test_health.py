from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from reconciliation.models import AlertIncident, SyncHealthMetric
from reconciliation.services.health import (
    health_metrics_prune,
    health_sample,
    health_status,
    measure_dead_letters,
    measure_error_rate,
    measure_webhook_latency,
)
from reconciliation.tasks import alert_incident_notify_task
from shopsync.models import FailedSyncItem, SyncJob, SyncSession
from tests.factories import FailedSyncItemFactory, OrderFactory
from webhooks.models import WebhookLog

Kind = SyncHealthMetric.Kind


@pytest.fixture
def shopify_counts(shop, http_receiver):
    """The shop's Admin API is the local receiver: every count.json answers `http_receiver.body`."""
    shop.api_base_url = http_receiver.url
    shop.save()
    http_receiver.body = {"count": 0}
    return http_receiver


def _job(shop, *, synced: int, failed: int) -> SyncJob:
    session = SyncSession.objects.create(
        shop=shop, kind="incremental", triggered_by="beat", status="completed"
    )
    return SyncJob.objects.create(
        session=session, shop=shop, resource="orders", mode="incremental", status="completed",
        synced=synced, failed=failed,
    )  # fmt: skip


def _delivery(shop, *, received_ago: float, latency: float | None, status: str = "processed", n: int = 0):
    now = timezone.now()
    received = now - timedelta(seconds=received_ago)
    return WebhookLog.objects.create(
        shop=shop, topic="orders/updated", webhook_id=f"w-{received_ago}-{latency}-{n}", body=b"{}",
        received_at=received, processed_at=received + timedelta(seconds=latency) if latency is not None else None,
        status=status,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "value", "status"),
    [
        (Kind.ORDER_LAG, 50, "ok"),
        (Kind.ORDER_LAG, 51, "warning"),
        (Kind.ORDER_LAG, 200, "warning"),
        (Kind.ORDER_LAG, 201, "critical"),
        (Kind.ORDER_LAG, -201, "critical"),
        (Kind.ERROR_RATE, 5, "ok"),
        (Kind.ERROR_RATE, 5.01, "warning"),
        (Kind.ERROR_RATE, 15.5, "critical"),
        (Kind.WEBHOOK_LATENCY, 5.5, "warning"),
        (Kind.WEBHOOK_LATENCY, 30.1, "critical"),
        (Kind.DEAD_LETTERS, 20, "ok"),
        (Kind.DEAD_LETTERS, 21, "warning"),
        (Kind.DEAD_LETTERS, 101, "critical"),
        (Kind.ORDER_LAG, None, "unknown"),
    ],
)
def test_status_is_judged_by_the_default_thresholds(kind, value, status):
    # given / when
    judged = health_status(kind=kind, value=value)
    # then
    assert judged == status


def test_thresholds_come_from_settings_when_set(settings):
    # given
    settings.HEALTH_THRESHOLDS = {"dead_letters": (1, 2)}
    # when
    judged = health_status(kind=Kind.DEAD_LETTERS, value=3)
    # then
    assert judged == "critical"


def test_sample_measures_all_four_and_stores_them_with_their_thresholds(shop, shopify_counts):
    # given: Shopify has 260 orders, we have 3; 30 open dead letters
    shopify_counts.body = {"count": 260}
    OrderFactory.create_batch(3, shop=shop)
    FailedSyncItemFactory.create_batch(30, shop=shop)
    # when
    metrics = {metric.kind: metric for metric in health_sample(shop=shop)}
    # then
    assert metrics[Kind.ORDER_LAG].value == 257
    assert metrics[Kind.ORDER_LAG].status == "critical"
    assert (metrics[Kind.ORDER_LAG].warning_threshold, metrics[Kind.ORDER_LAG].critical_threshold) == (
        50,
        200,
    )
    assert metrics[Kind.ORDER_LAG].details == {"shopify": 260, "local": 3}
    assert (metrics[Kind.DEAD_LETTERS].value, metrics[Kind.DEAD_LETTERS].status) == (30, "warning")
    assert (metrics[Kind.ERROR_RATE].value, metrics[Kind.ERROR_RATE].status) == (0, "ok")
    assert (metrics[Kind.WEBHOOK_LATENCY].value, metrics[Kind.WEBHOOK_LATENCY].status) == (0, "ok")
    assert SyncHealthMetric.objects.filter(shop=shop).count() == 4
    count_request = shopify_counts.requests[0]
    assert count_request["path"].startswith("/admin/api/2026-01/orders/count.json")
    assert "status=any" in count_request["path"]


def test_order_lag_is_unknown_when_shopify_cannot_be_asked(shop, shopify_counts):
    # given
    shopify_counts.status = 403
    shopify_counts.body = {"errors": "forbidden"}
    # when
    metrics = {metric.kind: metric for metric in health_sample(shop=shop)}
    # then
    assert metrics[Kind.ORDER_LAG].value is None
    assert metrics[Kind.ORDER_LAG].status == "unknown"
    assert "error" in metrics[Kind.ORDER_LAG].details


def test_critical_order_lag_alerts_once_until_it_recovers(
    shop, shopify_counts, alert_channels, django_capture_on_commit_callbacks
):
    # given: 300 orders missing, for three samples in a row
    shopify_counts.body = {"count": 300}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for _ in range(3):
            health_sample(shop=shop)
    incident = AlertIncident.objects.get(shop=shop, kind="metric:order_lag")
    alert_incident_notify_task(incident.pk)
    # when: the orders arrive, Shopify and we agree again
    shopify_counts.body = {"count": 0}
    health_sample(shop=shop)
    # then
    incident.refresh_from_db()
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    assert "Order lag (Shopify count minus ours): 300 (critical" in mail.outbox[0].subject
    assert len([p for p in shopify_counts.requests if p["method"] == "POST"]) == 1
    assert incident.resolved_at is not None


def test_error_rate_is_the_failed_share_of_sync_records_and_webhook_deliveries(shop):
    # given: 100 synced (8 failed) and 4 deliveries (2 dead) in the window, and an old failing job
    _job(shop, synced=100, failed=8)
    for n in range(2):
        _delivery(shop, received_ago=60, latency=1, n=n)
        _delivery(shop, received_ago=60, latency=None, status="dead", n=n)
    old = _job(shop, synced=10, failed=10)
    SyncJob.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    # when
    measurement = measure_error_rate(shop=shop, since=timezone.now() - timedelta(hours=1))
    # then
    assert measurement.value == round(100 * 10 / 104, 2)
    assert measurement.details["handled"] == 104
    assert measurement.details["failed"] == 10


def test_error_rate_below_the_minimum_sample_is_not_judged(shop):
    # given
    _job(shop, synced=4, failed=2)
    # when
    measurement = measure_error_rate(shop=shop, since=timezone.now() - timedelta(hours=1))
    # then
    assert measurement.value == 0
    assert measurement.details["observed_rate"] == 50.0


def test_webhook_latency_counts_waiting_deliveries_with_their_age(shop):
    # given: 19 processed in 1 s, one still waiting after 600 s, one dead, one outside the window
    for n in range(19):
        _delivery(shop, received_ago=900, latency=1, n=n)
    _delivery(shop, received_ago=600, latency=None, status="received")
    _delivery(shop, received_ago=300, latency=None, status="dead")
    _delivery(shop, received_ago=7200, latency=500)
    now = timezone.now()
    # when
    measurement = measure_webhook_latency(shop=shop, since=now - timedelta(hours=1), now=now)
    # then
    assert measurement.details["count"] == 20
    assert measurement.details["avg"] == pytest.approx((19 + 600) / 20, abs=0.1)
    # percentile_cont interpolates between the 19th (1 s) and the 20th (600 s) value
    assert measurement.value == pytest.approx(1 + 0.05 * 599, abs=0.5)


def test_dead_letter_size_counts_open_items_only(shop):
    # given
    FailedSyncItemFactory.create_batch(2, shop=shop)
    FailedSyncItemFactory(shop=shop, resolved_at=timezone.now(), resolution=FailedSyncItem.Resolution.MANUAL)
    # when
    measurement = measure_dead_letters(shop=shop)
    # then
    assert measurement.value == 2
    assert measurement.details == {"open": 2, "exhausted": 0}


def test_prune_drops_samples_past_retention_only(shop):
    # given
    now = timezone.now()
    for days in (40, 31, 29):
        SyncHealthMetric.objects.create(
            shop=shop, kind=Kind.DEAD_LETTERS, value=0, warning_threshold=20, critical_threshold=100,
            status="ok", measured_at=now - timedelta(days=days),
        )  # fmt: skip
    # when
    deleted = health_metrics_prune(now=now)
    # then
    assert deleted == 2
    assert SyncHealthMetric.objects.count() == 1
