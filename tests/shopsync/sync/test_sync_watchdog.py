from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from shopsync.models import SyncSeenRecord, SyncSession
from shopsync.models.sync import SyncKind
from shopsync.services.sync import sync_sessions_resume_orphaned, sync_watchdog
from tests.factories import SyncJobFactory, SyncSessionFactory

Status = SyncSession.Status


def test_watchdog_requeues_and_enqueues_a_running_session_without_heartbeat(
    shop, settings, django_capture_on_commit_callbacks
):
    # given
    settings.SYNC_HEARTBEAT_TIMEOUT_SECONDS = 30
    dead = SyncSessionFactory(
        shop=shop, status=Status.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(seconds=31)
    )
    alive = SyncSessionFactory(
        shop=shop,
        kind=SyncKind.INCREMENTAL,
        status=Status.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now() - timedelta(seconds=5),
    )
    job = SyncJobFactory(session=dead, bulk_operation_id="gid://shopify/BulkOperation/3", bulk_line=500)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = sync_watchdog()
    # then
    dead.refresh_from_db()
    alive.refresh_from_db()
    job.refresh_from_db()
    assert report.resumed == [dead.pk]
    assert (dead.status, alive.status) == (Status.QUEUED, Status.RUNNING)
    assert (job.bulk_operation_id, job.bulk_line) == ("gid://shopify/BulkOperation/3", 500)
    assert len(callbacks) == 1


def test_watchdog_enqueues_sessions_waiting_for_a_slot_once(shop, django_capture_on_commit_callbacks):
    # given
    waiting = SyncSessionFactory(shop=shop, waiting_for_slot=True)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sync_watchdog()
        sync_watchdog()
    # then
    waiting.refresh_from_db()
    assert waiting.waiting_for_slot is False
    assert len(callbacks) == 1


def test_watchdog_enqueues_a_queued_session_whose_message_was_lost(
    shop, settings, django_capture_on_commit_callbacks
):
    # given
    settings.SYNC_REDISPATCH_AFTER_SECONDS = 600
    lost = SyncSessionFactory(shop=shop, enqueued_at=timezone.now() - timedelta(minutes=11))
    SyncSessionFactory(kind=SyncKind.INCREMENTAL, enqueued_at=timezone.now())
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = sync_watchdog()
    # then
    assert report.redispatched == [lost.pk]
    assert len(callbacks) == 1


def test_watchdog_drops_checkpoints_of_runs_abandoned_over_seven_days_ago(shop):
    # given
    old = SyncSessionFactory(shop=shop, status=Status.FAILED)
    old_job = SyncJobFactory(session=old, bulk_operation_id="gid://shopify/BulkOperation/1", bulk_line=9)
    SyncSeenRecord.objects.create(job=old_job, shopify_id=1)
    recent = SyncSessionFactory(shop=shop, kind=SyncKind.FULL, status=Status.FAILED)
    recent_job = SyncJobFactory(
        session=recent, bulk_operation_id="gid://shopify/BulkOperation/2", bulk_line=9
    )
    type(old_job).objects.filter(pk=old_job.pk).update(updated_at=timezone.now() - timedelta(days=8))
    # when
    report = sync_watchdog()
    # then
    old_job.refresh_from_db()
    recent_job.refresh_from_db()
    assert report.expired_checkpoints == 1
    assert (old_job.bulk_operation_id, old_job.bulk_line) == ("", 0)
    assert recent_job.bulk_operation_id == "gid://shopify/BulkOperation/2"
    assert not SyncSeenRecord.objects.filter(job=old_job).exists()


def test_sessions_orphaned_by_a_stopped_process_are_resumed_at_once(shop, django_capture_on_commit_callbacks):
    # given: this process started a minute ago; heartbeats are far younger than the watchdog timeout
    started = timezone.now() - timedelta(minutes=1)
    orphan = SyncSessionFactory(shop=shop, status=Status.RUNNING, attempts=1,
                                heartbeat_at=started - timedelta(seconds=5))  # fmt: skip
    lost = SyncSessionFactory(shop=shop, kind=SyncKind.INCREMENTAL, status=Status.QUEUED,
                              enqueued_at=started - timedelta(seconds=5))  # fmt: skip
    alive = SyncSessionFactory(shop=shop, kind=SyncKind.UPDATE, status=Status.RUNNING, attempts=1,
                               heartbeat_at=timezone.now())  # fmt: skip
    job = SyncJobFactory(session=orphan, bulk_operation_id="gid://shopify/BulkOperation/3", bulk_line=500)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = sync_sessions_resume_orphaned(before=started)
    # then
    for session in (orphan, lost, alive, job):
        session.refresh_from_db()
    assert (report.resumed, report.redispatched) == ([orphan.pk], [lost.pk])
    assert (orphan.status, lost.status, alive.status) == (Status.QUEUED, Status.QUEUED, Status.RUNNING)
    assert (job.bulk_operation_id, job.bulk_line) == ("gid://shopify/BulkOperation/3", 500)
    assert len(callbacks) == 2
