from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from shopsync.models import SyncEvent, SyncJob, SyncSession
from shopsync.models.sync import SyncKind
from shopsync.services.sync import SyncInputError, ensure_sync
from tests.factories import ShopFactory, SyncJobFactory, SyncSessionFactory

Status = SyncSession.Status
Trigger = SyncSession.Trigger


def test_ensure_sync_creates_a_queued_session_with_one_job_per_resource_and_enqueues_once(
    shop, django_capture_on_commit_callbacks
):
    # given
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = ensure_sync(shop=shop, kind=SyncKind.INITIAL, triggered_by=Trigger.INSTALL)
    # then
    assert result.created is True
    session = result.session
    assert (session.status, session.kind, session.triggered_by) == (Status.QUEUED, "initial", "install")
    assert sorted(session.jobs.values_list("resource", "mode", "status")) == [
        ("collections", "initial", "pending"),
        ("customers", "initial", "pending"),
        ("locations", "initial", "pending"),
        ("orders", "initial", "pending"),
        ("products", "initial", "pending"),
    ]
    assert list(session.events.values_list("from_status", "to_status")) == [("", "queued")]
    assert len(callbacks) == 1


def test_ensure_sync_returns_the_active_session_and_enqueues_nothing(
    shop, django_capture_on_commit_callbacks
):
    # given
    first = ensure_sync(shop=shop, kind=SyncKind.INITIAL, triggered_by=Trigger.INSTALL).session
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = ensure_sync(shop=shop, kind=SyncKind.INITIAL, triggered_by=Trigger.BUTTON)
    # then
    assert (again.session.pk, again.created) == (first.pk, False)
    assert callbacks == []
    assert SyncSession.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_triggers_get_one_session_and_one_queued_task(sync_queue):
    # given
    shop = ShopFactory()
    triggers = [Trigger.INSTALL, Trigger.RECONNECT, Trigger.BUTTON, Trigger.API, Trigger.CLI] * 2
    barrier = threading.Barrier(len(triggers))
    results, errors = [], []

    def trigger(triggered_by: str) -> None:
        try:
            barrier.wait()
            results.append(ensure_sync(shop=shop, kind=SyncKind.INITIAL, triggered_by=triggered_by))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=trigger, args=(t,)) for t in triggers]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert errors == []
    assert len({result.session.pk for result in results}) == 1
    assert sum(result.created for result in results) == 1
    assert SyncSession.objects.filter(shop=shop).count() == 1
    assert sync_queue.length() == 1


def test_a_delta_run_asked_for_during_a_backfill_is_answered_with_the_backfill(shop):
    # given
    initial = ensure_sync(shop=shop, kind=SyncKind.INITIAL, triggered_by=Trigger.INSTALL).session
    # when
    results = [
        ensure_sync(shop=shop, kind=SyncKind.INCREMENTAL, triggered_by=Trigger.BEAT),
        ensure_sync(shop=shop, kind=SyncKind.POPULATE, triggered_by=Trigger.API),
        ensure_sync(shop=shop, kind=SyncKind.UPDATE, stale_after_mins=60, triggered_by=Trigger.API),
        ensure_sync(shop=shop, kind=SyncKind.FULL, triggered_by=Trigger.API),
    ]
    # then
    assert [(r.session.pk, r.created) for r in results] == [(initial.pk, False)] * 4
    assert SyncSession.objects.count() == 1


def test_different_delta_kinds_may_be_active_together(shop):
    # given
    incremental = ensure_sync(shop=shop, kind=SyncKind.INCREMENTAL, triggered_by=Trigger.BEAT)
    # when
    update = ensure_sync(shop=shop, kind=SyncKind.UPDATE, stale_after_mins=30, triggered_by=Trigger.API)
    # then
    assert incremental.created and update.created
    assert incremental.session.pk != update.session.pk


def test_the_database_refuses_a_second_active_backfill_for_a_shop(shop):
    # given
    SyncSessionFactory(shop=shop, kind=SyncKind.INITIAL, status=Status.RUNNING)
    # when
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        SyncSessionFactory(shop=shop, kind=SyncKind.FULL, status=Status.QUEUED)
    # then
    assert SyncSession.objects.filter(shop=shop).count() == 1


def test_a_failed_initial_sync_can_be_started_again_and_resumes_its_checkpoint(shop):
    # given
    failed = SyncSessionFactory(
        shop=shop, kind=SyncKind.INITIAL, status=Status.FAILED, finished_at=timezone.now()
    )
    SyncJobFactory(
        session=failed,
        resource="orders",
        status=SyncJob.Status.FAILED,
        bulk_operation_id="gid://shopify/BulkOperation/9",
        bulk_line=4000,
        synced=2000,
        created=2000,
    )
    SyncJobFactory(
        session=failed, resource="customers", status=SyncJob.Status.COMPLETED, synced=80, created=80
    )
    # when
    result = ensure_sync(
        shop=shop, kind=SyncKind.INITIAL, resources=["orders", "customers"], triggered_by=Trigger.RECONNECT
    )
    # then
    assert result.created is True
    orders = result.session.jobs.get(resource="orders")
    customers = result.session.jobs.get(resource="customers")
    assert (orders.status, orders.bulk_operation_id, orders.bulk_line, orders.synced) == (
        "pending",
        "gid://shopify/BulkOperation/9",
        4000,
        2000,
    )
    assert (customers.status, customers.synced) == ("completed", 80)
    old_orders = failed.jobs.get(resource="orders")
    assert (old_orders.bulk_operation_id, old_orders.bulk_line) == ("", 0)


def test_a_cleared_or_old_failure_gives_no_checkpoint(shop):
    # given
    old = SyncSessionFactory(
        shop=shop, kind=SyncKind.INITIAL, status=Status.FAILED, finished_at=timezone.now() - timedelta(days=8)
    )
    SyncJobFactory(
        session=old, resource="orders", bulk_operation_id="gid://shopify/BulkOperation/1", bulk_line=10
    )
    # when
    result = ensure_sync(shop=shop, kind=SyncKind.INITIAL, resources=["orders"], triggered_by=Trigger.BUTTON)
    # then
    job = result.session.jobs.get()
    assert (job.bulk_operation_id, job.bulk_line, job.synced) == ("", 0, 0)


def test_triggering_a_running_session_whose_worker_died_requeues_and_enqueues_it(
    shop, settings, django_capture_on_commit_callbacks
):
    # given
    settings.SYNC_HEARTBEAT_TIMEOUT_SECONDS = 60
    stuck = SyncSessionFactory(
        shop=shop,
        kind=SyncKind.INITIAL,
        status=Status.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = ensure_sync(shop=shop, kind=SyncKind.INITIAL, triggered_by=Trigger.BUTTON)
    # then
    stuck.refresh_from_db()
    assert (result.session.pk, result.created) == (stuck.pk, False)
    assert stuck.status == Status.QUEUED
    assert len(callbacks) == 1
    assert SyncEvent.objects.filter(
        session=stuck, to_status="queued", note="resumed by a new trigger"
    ).exists()


def test_triggering_a_healthy_running_session_changes_nothing(shop, django_capture_on_commit_callbacks):
    # given
    running = SyncSessionFactory(
        shop=shop, kind=SyncKind.INITIAL, status=Status.RUNNING, attempts=1, heartbeat_at=timezone.now()
    )
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = ensure_sync(shop=shop, kind=SyncKind.INITIAL, triggered_by=Trigger.BUTTON)
    # then
    running.refresh_from_db()
    assert (result.session.pk, running.status, callbacks) == (running.pk, Status.RUNNING, [])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kind": "sideways"}, "Unknown sync mode 'sideways'"),
        ({"kind": "incremental", "resources": ["orders", "refunds"]}, "Unknown resource refunds"),
        ({"kind": "incremental", "resources": []}, "Choose at least one resource"),
        ({"kind": "update"}, "Update mode needs staleAfterMins greater than 0"),
        ({"kind": "update", "stale_after_mins": 0}, "Update mode needs staleAfterMins greater than 0"),
        ({"kind": "incremental", "stale_after_mins": 5}, "staleAfterMins applies to update mode only"),
        ({"kind": "populate", "days": 0}, "days must be greater than 0"),
        ({"kind": "populate", "days": 36_501}, "days must be at most 36500 (100 years)"),
        (
            {"kind": "update", "stale_after_mins": 52_560_001},
            "staleAfterMins must be at most 52560000 (100 years)",
        ),
        ({"kind": "initial", "days": 30}, "days applies to populate mode only"),
    ],
)
def test_ensure_sync_refuses_invalid_requests_and_creates_nothing(shop, options, message):
    # given
    # when
    with pytest.raises(SyncInputError) as error:
        ensure_sync(shop=shop, triggered_by=Trigger.API, **options)
    # then
    assert str(error.value).startswith(message)
    assert SyncSession.objects.count() == 0


def test_ensure_sync_refuses_an_uninstalled_shop(shop):
    # given
    shop.status = shop.Status.UNINSTALLED
    shop.save()
    # when
    with pytest.raises(SyncInputError, match="uninstalled"):
        ensure_sync(shop=shop, kind=SyncKind.INCREMENTAL, triggered_by=Trigger.BEAT)
    # then
    assert SyncSession.objects.count() == 0
