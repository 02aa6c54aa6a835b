from __future__ import annotations

import psycopg
import pytest

from shopsync.models import SyncSession
from shopsync.tasks import sync_incremental_all_shops_task, sync_session_run_task, sync_watchdog_task
from tests.factories import ShopFactory, SyncSessionFactory


def test_the_run_task_of_a_missing_session_does_nothing(db):
    # given
    # when
    sync_session_run_task(123456)
    # then
    assert SyncSession.objects.count() == 0


def test_the_run_task_of_a_finished_session_leaves_it_alone(shop):
    # given
    done = SyncSessionFactory(shop=shop, status="completed")
    # when
    sync_session_run_task(done.pk)
    # then
    done.refresh_from_db()
    assert (done.status, done.attempts) == ("completed", 0)


def test_beat_ensures_an_incremental_sync_for_installed_synced_shops_only(
    db, django_capture_on_commit_callbacks
):
    # given
    synced = ShopFactory()
    SyncSessionFactory(shop=synced, kind="initial", status="completed")
    never_synced = ShopFactory()
    uninstalled = ShopFactory(status="uninstalled")
    SyncSessionFactory(shop=uninstalled, kind="initial", status="completed")
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sync_incremental_all_shops_task()
        sync_incremental_all_shops_task()
    # then
    incremental = SyncSession.objects.filter(kind="incremental")
    assert list(incremental.values_list("shop_id", "triggered_by", "status")) == [
        (synced.pk, "beat", "queued")
    ]
    assert not SyncSession.objects.filter(shop=never_synced).exists()
    assert len(callbacks) == 1


def test_the_watchdog_task_runs_the_watchdog(shop, settings, django_capture_on_commit_callbacks):
    # given
    settings.SYNC_HEARTBEAT_TIMEOUT_SECONDS = 1
    dead = SyncSessionFactory(shop=shop, status="running", attempts=1, heartbeat_at=None)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sync_watchdog_task()
    # then
    dead.refresh_from_db()
    assert dead.status == "queued"
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_a_run_stops_and_is_cancelled_when_the_shop_uninstalls_mid_run(fake_shopify_live):
    # given
    fake, shop = fake_shopify_live
    [fake.add("orders") for _ in range(3)]
    original = fake._graphql

    def uninstall_on_poll(seen):
        if "ShopsyncBulkOperation" in seen.json()["query"]:
            type(shop).objects.filter(pk=shop.pk).update(status="uninstalled")
        return original(seen)

    fake.server.handle(f"/admin/api/{fake.api_version}/graphql.json", uninstall_on_poll)
    from shopsync.services.sync import ensure_sync

    session = ensure_sync(
        shop=shop, kind="initial", resources=["orders"], triggered_by="install", enqueue=False
    ).session
    # when
    sync_session_run_task(session.pk)
    # then
    session.refresh_from_db()
    assert session.status == "cancelled"
    assert "uninstalled" in session.message
    from shopsync.models import Order

    assert Order.objects.count() == 0


def test_a_run_task_that_lost_its_database_connection_leaves_the_session_to_the_watchdog(shop):
    # given
    running = SyncSessionFactory(shop=shop, status="running", attempts=1)
    lost = psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")
    # when
    sync_session_run_task.on_failure(lost, "task-1", (running.pk,), {}, None)
    # then
    running.refresh_from_db()
    assert (running.status, running.error) == ("running", "")


def test_a_run_task_that_failed_otherwise_fails_its_session(shop):
    # given
    running = SyncSessionFactory(shop=shop, status="running", attempts=1)
    # when
    sync_session_run_task.on_failure(RuntimeError("boom"), "task-1", (running.pk,), {}, None)
    # then
    running.refresh_from_db()
    assert (running.status, running.error) == ("failed", "RuntimeError: boom")
