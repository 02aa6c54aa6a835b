"""The liveness heartbeat (`session_pulse`, `SessionPulse`): a thread of the worker process stamps a
running session's heartbeat whatever the run is doing, and only while the session is its own."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from shopsync.models import SyncSession
from shopsync.services.sync import ensure_sync, sync_session_run, writing
from shopsync.services.sync.sessions import SessionPulse, session_pulse
from tests.factories import ShopFactory, SyncSessionFactory

pytestmark = pytest.mark.django_db(transaction=True)

Status = SyncSession.Status


def _long_ago() -> timezone.datetime:
    return timezone.now() - timedelta(minutes=5)


def test_the_pulse_stamps_the_heartbeat_of_a_session_running_under_its_token():
    # given
    session = SyncSessionFactory(
        shop=ShopFactory(), status=Status.RUNNING, attempts=2, heartbeat_at=_long_ago()
    )
    # when
    stamped = session_pulse(session_id=session.pk, token=2)
    # then
    session.refresh_from_db()
    assert stamped is True
    assert session.heartbeat_at > timezone.now() - timedelta(seconds=5)


@pytest.mark.parametrize(
    ("status", "attempts"), [(Status.RUNNING, 3), (Status.QUEUED, 2), (Status.CANCELLED, 2)]
)
def test_the_pulse_leaves_a_session_another_attempt_owns_or_that_stopped_running(status, attempts):
    # given: resumed elsewhere (attempt 3), given back, or cleared
    before = _long_ago()
    session = SyncSessionFactory(shop=ShopFactory(), status=status, attempts=attempts, heartbeat_at=before)
    # when
    stamped = session_pulse(session_id=session.pk, token=2)
    # then
    session.refresh_from_db()
    assert (stamped, session.heartbeat_at) == (False, before)


def test_the_pulse_skips_a_row_the_runs_own_transaction_holds_instead_of_waiting():
    # given: another connection (the run's batch transaction) holds the session's row
    before = _long_ago()
    session = SyncSessionFactory(shop=ShopFactory(), status=Status.RUNNING, attempts=1, heartbeat_at=before)
    locked, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        with transaction.atomic():
            SyncSession.objects.select_for_update().get(pk=session.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    locked.wait(10)
    # when
    started = time.monotonic()
    stamped = session_pulse(session_id=session.pk, token=1)
    elapsed = time.monotonic() - started
    release.set()
    holder.join()
    # then
    session.refresh_from_db()
    assert (stamped, session.heartbeat_at) == (False, before)
    assert elapsed < 1


def test_the_pulse_thread_beats_while_the_run_is_busy_and_stops_with_it(settings):
    # given: a run that blocks for 3 s without any heartbeat of its own
    settings.SYNC_HEARTBEAT_INTERVAL_SECONDS = 1
    session = SyncSessionFactory(
        shop=ShopFactory(), status=Status.RUNNING, attempts=1, heartbeat_at=_long_ago()
    )
    stamps = []
    # when
    with SessionPulse(session.pk, 1):
        for _ in range(3):
            time.sleep(1.05)
            session.refresh_from_db()
            stamps.append(session.heartbeat_at)
    time.sleep(1.5)
    session.refresh_from_db()
    # then
    assert stamps[0] > timezone.now() - timedelta(seconds=5)
    assert stamps[0] < stamps[1] < stamps[2]
    assert session.heartbeat_at < timezone.now() - timedelta(seconds=1)  # no beat once the run ended


def test_a_long_batch_write_keeps_the_committed_heartbeat_moving(fake_shopify_live, settings, monkeypatch):
    # given: a batch write that takes 4 s, and a watcher reading the heartbeat others see (committed)
    fake, shop = fake_shopify_live
    [fake.add("customers") for _ in range(5)]
    settings.SYNC_HEARTBEAT_INTERVAL_SECONDS = 1
    real_upsert, writing_now = writing.records_upsert, threading.Event()

    def slow_upsert(**kwargs):
        writing_now.set()
        time.sleep(4)
        return real_upsert(**kwargs)

    monkeypatch.setattr(writing, "records_upsert", slow_upsert)
    session = ensure_sync(shop=shop, kind="initial", resources=["customers"], triggered_by="cli",
                          enqueue=False).session  # fmt: skip
    seen: set = set()
    done = threading.Event()

    def watch() -> None:
        writing_now.wait(30)
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            seen.add(SyncSession.objects.values_list("heartbeat_at", flat=True).get(pk=session.pk))
            time.sleep(0.2)
        connection.close()
        done.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    # when
    sync_session_run(session_id=session.pk, task_id="test")
    watcher.join()
    # then: during the write the pulse stamped the row at least twice (not frozen until the commit)
    session.refresh_from_db()
    assert session.status == Status.COMPLETED
    assert done.is_set() and len(seen) >= 3, seen
