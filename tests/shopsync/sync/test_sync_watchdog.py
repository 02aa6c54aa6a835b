from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from shopsync.models import SyncAttempt, SyncSeenRecord, SyncSession
from shopsync.models.sync import WORKER_STOPPED_MESSAGE, SyncKind
from shopsync.queues import sync_queue_for_kind
from shopsync.services.sync import sync_sessions_resume_orphaned, sync_watchdog, sync_worker_started
from shopsync.services.sync.database import lock_wait_timed_out, lock_waits_limited
from shopsync.services.sync.maintenance import WATCHDOG_LOCK_TIMEOUT_SECONDS
from shopsync.services.sync.sessions import session_requeue_stale, sessions_stale
from shopsync.tasks import sync_session_run_task
from tests.factories import ShopFactory, SyncJobFactory, SyncSessionFactory
from tests.processes import database_url

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
    shop, settings, sync_queue, django_capture_on_commit_callbacks
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


def test_the_default_heartbeat_timeout_takes_a_worker_silent_for_30_seconds_for_dead(shop):
    # given: the settings' defaults (a pulse every 5 s)
    dead = SyncSessionFactory(shop=shop, status=Status.RUNNING, attempts=1,
                              heartbeat_at=timezone.now() - timedelta(seconds=31))  # fmt: skip
    SyncSessionFactory(shop=shop, kind=SyncKind.INCREMENTAL, status=Status.RUNNING, attempts=1,
                       heartbeat_at=timezone.now() - timedelta(seconds=20))  # fmt: skip
    # when
    stale = sessions_stale()
    # then
    assert [session.pk for session in stale] == [dead.pk]


def test_a_stale_session_that_beat_since_the_watchdog_looked_is_not_requeued(shop, settings):
    # given: the watchdog read the session stale, then its worker's pulse stamped it
    settings.SYNC_HEARTBEAT_TIMEOUT_SECONDS = 30
    session = SyncSessionFactory(shop=shop, status=Status.RUNNING, attempts=1,
                                 heartbeat_at=timezone.now() - timedelta(seconds=40))  # fmt: skip
    [seen] = sessions_stale()
    SyncSession.objects.filter(pk=session.pk).update(heartbeat_at=timezone.now())
    # when
    moved = session_requeue_stale(session=seen, note="watchdog")
    # then
    session.refresh_from_db()
    assert (moved, session.status, session.attempts) == (False, Status.RUNNING, 1)


def test_of_two_watchdogs_requeueing_the_same_dead_session_one_wins(shop, django_capture_on_commit_callbacks):
    # given
    session = SyncSessionFactory(shop=shop, status=Status.RUNNING, attempts=1, heartbeat_at=None)
    first, second = sessions_stale(), sessions_stale()
    # when
    outcomes = [
        session_requeue_stale(session=first[0], note="a"),
        session_requeue_stale(session=second[0], note="b"),
    ]
    # then
    session.refresh_from_db()
    assert outcomes == [True, False]
    assert (session.status, session.message) == (Status.QUEUED, WORKER_STOPPED_MESSAGE)
    assert list(session.events.values_list("to_status", flat=True)) == ["queued"]


def test_a_starting_worker_resumes_the_sessions_its_previous_process_ran_at_once(
    shop, django_capture_on_commit_callbacks
):
    # given: a session this node claimed 2 s ago (fresh heartbeat), and one another node runs
    orphan = SyncSessionFactory(shop=shop, status=Status.RUNNING, attempts=1, heartbeat_at=timezone.now())
    SyncAttempt.objects.create(session=orphan, task_id="t1", worker="sync@host-a")
    other = SyncSessionFactory(shop=shop, kind=SyncKind.INCREMENTAL, status=Status.RUNNING, attempts=1,
                               heartbeat_at=timezone.now())  # fmt: skip
    SyncAttempt.objects.create(session=other, task_id="t2", worker="sync@host-b")
    job = SyncJobFactory(session=orphan, bulk_operation_id="gid://shopify/BulkOperation/3", bulk_line=500,
                         bulk_byte_line=480, bulk_byte_offset=91_000)  # fmt: skip
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = sync_worker_started(worker="sync@host-a")
    # then
    for row in (orphan, other, job):
        row.refresh_from_db()
    assert (report.resumed, report.redispatched) == ([orphan.pk], [])
    assert (orphan.status, orphan.message, other.status) == (
        Status.QUEUED,
        WORKER_STOPPED_MESSAGE,
        Status.RUNNING,
    )
    assert (job.bulk_line, job.bulk_byte_line, job.bulk_byte_offset) == (500, 480, 91_000)
    assert len(callbacks) == 1


def test_a_starting_worker_leaves_a_session_its_node_claimed_before_a_later_attempt_elsewhere(shop):
    # given: claimed by this node, then resumed by another node (the current attempt)
    session = SyncSessionFactory(shop=shop, status=Status.RUNNING, attempts=2, heartbeat_at=timezone.now())
    SyncAttempt.objects.create(session=session, task_id="t1", worker="sync@host-a")
    SyncAttempt.objects.create(session=session, task_id="t2", worker="sync@host-b")
    # when
    report = sync_worker_started(worker="sync@host-a")
    # then
    session.refresh_from_db()
    assert (report.resumed, session.status, session.attempts) == ([], Status.RUNNING, 2)


def test_a_lost_session_is_not_dispatched_again_while_the_sync_queue_has_a_backlog(
    shop, settings, sync_queue, django_capture_on_commit_callbacks
):
    # given: a queued session older than the redispatch delay, behind a message waiting in its queue
    settings.SYNC_REDISPATCH_AFTER_SECONDS = 60
    waiting = SyncSessionFactory(shop=shop, enqueued_at=timezone.now() - timedelta(minutes=5))
    sync_session_run_task.apply_async((waiting.pk,), queue=sync_queue_for_kind(waiting.kind))
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = sync_watchdog()
    # then
    waiting.refresh_from_db()
    assert (report.redispatched, len(callbacks), sync_queue.length()) == ([], 0, 1)
    assert waiting.enqueued_at < timezone.now() - timedelta(minutes=4)


def test_a_backlog_on_the_other_sync_queue_does_not_hide_a_lost_session(
    shop, settings, sync_queue, django_capture_on_commit_callbacks
):
    # given: a lost incremental's message; backfill slices wait in the backfill queue
    settings.SYNC_REDISPATCH_AFTER_SECONDS = 60
    lost = SyncSessionFactory(
        shop=shop, kind=SyncKind.INCREMENTAL, enqueued_at=timezone.now() - timedelta(minutes=5)
    )
    sync_session_run_task.apply_async((0,), queue="sync_backfill")
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = sync_watchdog()
    # then
    assert report.redispatched == [lost.pk]
    assert [(message.args, message.options) for message in callbacks] == [((lost.pk,), {"queue": "sync"})]


def test_a_session_waiting_for_its_retry_countdown_is_not_taken_for_lost(
    shop, settings, sync_queue, django_capture_on_commit_callbacks
):
    # given: given back after a retryable Shopify error; its retried task is due in 8 minutes
    settings.SYNC_REDISPATCH_AFTER_SECONDS = 60
    SyncSessionFactory(shop=shop, enqueued_at=timezone.now() + timedelta(minutes=8))
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = sync_watchdog()
    # then
    assert (report.redispatched, len(callbacks)) == ([], 0)


def test_a_session_lost_a_minute_ago_is_dispatched_again_when_the_sync_queue_is_empty(
    shop, sync_queue, django_capture_on_commit_callbacks
):
    # given: the default redispatch delay (60 s)
    lost = SyncSessionFactory(shop=shop, enqueued_at=timezone.now() - timedelta(seconds=61))
    SyncSessionFactory(
        shop=shop, kind=SyncKind.INCREMENTAL, enqueued_at=timezone.now() - timedelta(seconds=30)
    )
    # when
    with django_capture_on_commit_callbacks(execute=True):
        report = sync_watchdog()
    # then
    assert report.redispatched == [lost.pk]
    assert sync_queue.length() == 1


@contextmanager
def _row_held_by_a_cut_off_writer(session: SyncSession) -> Iterator[psycopg.Connection]:
    """Another connection inside a batch's transaction: its heartbeat UPDATE holds the session's row
    lock, uncommitted (a worker on a host cut off mid-batch). Rolled back on leaving (PostgreSQL
    ends the vanished peer's session)."""
    with psycopg.connect(database_url()) as writer:
        writer.execute(
            f"UPDATE {SyncSession._meta.db_table} SET heartbeat_at = now() WHERE id = %s", [session.pk]
        )
        yield writer
        writer.rollback()


@pytest.mark.django_db(transaction=True)
def test_the_watchdog_skips_a_stale_session_a_cut_off_writer_holds_locked_and_resumes_it_once_released(
    settings, sync_queue
):
    # given
    settings.SYNC_HEARTBEAT_TIMEOUT_SECONDS = 30
    other = ShopFactory()
    locked = SyncSessionFactory(
        status=Status.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(seconds=40)
    )
    free = SyncSessionFactory(
        shop=other, status=Status.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(seconds=40)
    )
    with _row_held_by_a_cut_off_writer(locked):
        # when
        started = time.monotonic()
        report = sync_watchdog()
        waited = time.monotonic() - started
        # then: no wait behind the lock; the other stale session is resumed all the same
        assert waited < WATCHDOG_LOCK_TIMEOUT_SECONDS
        assert report.resumed == [free.pk]
        locked.refresh_from_db()
        assert locked.status == Status.RUNNING
    # and once PostgreSQL has ended the cut-off writer's session, the next round resumes it
    assert sync_watchdog().resumed == [locked.pk]
    locked.refresh_from_db()
    assert locked.status == Status.QUEUED


@pytest.mark.django_db(transaction=True)
def test_a_statement_under_a_lock_wait_limit_gives_up_after_it_and_the_limit_ends_with_the_block():
    # given
    session = SyncSessionFactory(status=Status.RUNNING, attempts=1)
    with _row_held_by_a_cut_off_writer(session):
        # when
        started = time.monotonic()
        with pytest.raises(OperationalError) as raised, lock_waits_limited(seconds=0.2):
            SyncSession.objects.filter(pk=session.pk).update(message="taken over")
        waited = time.monotonic() - started
    # then
    assert lock_wait_timed_out(raised.value)
    assert 0.2 <= waited < 1.5
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone() == ("0",)
