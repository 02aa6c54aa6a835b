"""A run that must wait long for the shop's API budget gives its worker back: re-queued with a countdown."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone

from shopsync.models import SyncSession
from shopsync.services.sync import ensure_sync, sync_session_run
from shopsync.shopify.budget import COST_HINTS_KEY, budget_redis, shopify_budget_for
from shopsync.shopify.pacing import GRAPHQL, BucketStatus


@pytest.fixture(autouse=True)
def _query_costs_unknown() -> None:
    """These runs' first query has no known cost, as on a fleet that never ran it: the requested costs
    other tests' runs taught the fleet (kept in Redis across tests) would add to the waits asserted."""
    budget_redis(django_settings.SHOPIFY_BUDGET_REDIS_URL).delete(COST_HINTS_KEY)


def _queued_messages() -> list[dict]:
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    keys = [key for key in client.keys(b"sync*") if client.type(key) == b"list"]
    return [json.loads(raw) for key in keys for raw in client.lrange(key, 0, -1)]


def test_a_long_wait_for_the_budget_requeues_the_run_with_a_countdown(
    fake_shopify, settings, sync_queue, django_capture_on_commit_callbacks
):
    # given: other runs left the shop's budget 500 points in debt (5 s at 100/s); runs wait 1 s at most
    settings.SHOPIFY_BUDGET_DEFER_AFTER_SECONDS = 1.0
    shop = fake_shopify.shop
    budget = shopify_budget_for(f"{shop.domain}@{shop.base_url}", api=GRAPHQL)
    in_debt_from = timezone.now()
    budget.settle(reserved=0.0, charged=0.0, status=BucketStatus(2000.0, 0.0, 100.0), at=0.0)
    budget.settle(reserved=0.0, charged=500.0, status=None, at=0.0)
    session = ensure_sync(shop=shop, kind="incremental", resources=["customers"], triggered_by="beat").session
    sync_queue.purge()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        sync_session_run(session_id=session.pk, task_id="test")
    ran_by = timezone.now()
    # then: nothing was sent, the run is queued again with its wait shown, and its task is due when
    # the debt is paid: 5 s after it was run up (between `in_debt_from` and `ran_by`, however slow
    # the machine)
    session.refresh_from_db()
    assert fake_shopify.graphql_requests == []
    assert session.status == SyncSession.Status.QUEUED
    assert session.waiting_reason == SyncSession.WaitReason.THROTTLED
    debt_paid = (in_debt_from + timedelta(seconds=4.5), ran_by + timedelta(seconds=5.5))
    assert debt_paid[0] <= session.waiting_until <= debt_paid[1]
    [message] = _queued_messages()
    assert message["headers"]["task"] == "shopsync.tasks.sync_session_run_task"
    assert message["headers"]["argsrepr"] == f"[{session.pk}]"  # published by name (shopsync.enqueue)
    assert debt_paid[0] <= datetime.fromisoformat(message["headers"]["eta"]) <= debt_paid[1]
    assert session.attempts_log.get().outcome == "requeued"


def test_a_short_wait_for_the_budget_is_slept_in_the_run(fake_shopify, settings, sync_queue):
    # given: half a second of debt, under the 1 s limit
    settings.SHOPIFY_BUDGET_DEFER_AFTER_SECONDS = 1.0
    shop = fake_shopify.shop
    budget = shopify_budget_for(f"{shop.domain}@{shop.base_url}", api=GRAPHQL)
    budget.settle(reserved=0.0, charged=0.0, status=BucketStatus(2000.0, 0.0, 100.0), at=0.0)
    budget.settle(reserved=0.0, charged=50.0, status=None, at=0.0)
    fake_shopify.add("customers")
    session = ensure_sync(shop=shop, kind="incremental", resources=["customers"], triggered_by="beat").session
    sync_queue.purge()
    # when
    sync_session_run(session_id=session.pk, task_id="test")
    # then
    session.refresh_from_db()
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert sync_queue.length() == 0
