from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from shopsync.models import SyncAttempt, SyncJob, SyncSession
from shopsync.models.sync import SyncKind
from shopsync.services.sync.errors import SyncStopped
from shopsync.services.sync.sessions import session_claim, session_finish, session_heartbeat
from tests.factories import ShopFactory, SyncJobFactory, SyncSessionFactory

Status = SyncSession.Status


def test_claim_moves_a_queued_session_to_running_with_an_attempt_row(shop):
    # given
    session = SyncSessionFactory(shop=shop)
    # when
    claimed = session_claim(session_id=session.pk, task_id="task-1")
    # then
    assert claimed is not None
    _, token = claimed
    session.refresh_from_db()
    assert (session.status, session.attempts, token) == (Status.RUNNING, 1, 1)
    assert session.started_at is not None and session.heartbeat_at is not None
    assert list(SyncAttempt.objects.filter(session=session).values_list("task_id", flat=True)) == ["task-1"]
    assert list(session.events.values_list("from_status", "to_status")) == [("queued", "running")]


def test_a_second_claim_of_the_same_session_gets_nothing(shop):
    # given
    session = SyncSessionFactory(shop=shop)
    session_claim(session_id=session.pk, task_id="task-1")
    # when
    second = session_claim(session_id=session.pk, task_id="task-2")
    # then
    assert second is None
    assert SyncAttempt.objects.filter(session=session).count() == 1


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.FAILED, Status.CANCELLED])
def test_a_finished_session_is_not_claimed(shop, status):
    # given
    session = SyncSessionFactory(shop=shop, status=status)
    # when
    claimed = session_claim(session_id=session.pk)
    # then
    session.refresh_from_db()
    assert (claimed, session.status, session.attempts) == (None, status, 0)


def test_a_delta_session_queued_beside_a_running_backfill_is_cancelled_as_superseded(shop):
    # given
    SyncSessionFactory(shop=shop, kind=SyncKind.INITIAL, status=Status.RUNNING)
    delta = SyncSessionFactory(shop=shop, kind=SyncKind.INCREMENTAL)
    # when
    claimed = session_claim(session_id=delta.pk)
    # then
    delta.refresh_from_db()
    assert claimed is None
    assert delta.status == Status.CANCELLED
    assert "covers it" in delta.message


def test_a_backfill_waits_while_a_delta_run_of_the_shop_is_running(shop):
    # given
    SyncSessionFactory(shop=shop, kind=SyncKind.INCREMENTAL, status=Status.RUNNING)
    backfill = SyncSessionFactory(shop=shop, kind=SyncKind.FULL)
    # when
    claimed = session_claim(session_id=backfill.pk)
    # then
    backfill.refresh_from_db()
    assert claimed is None
    assert (backfill.status, backfill.waiting_for_slot) == (Status.QUEUED, True)


def test_claims_beyond_the_per_shop_cap_stay_queued(shop, settings):
    # given
    settings.SYNC_MAX_RUNNING_PER_SHOP = 1
    SyncSessionFactory(shop=shop, kind=SyncKind.INCREMENTAL, status=Status.RUNNING)
    update = SyncSessionFactory(shop=shop, kind=SyncKind.UPDATE, stale_after_mins=10)
    # when
    claimed = session_claim(session_id=update.pk)
    # then
    update.refresh_from_db()
    assert claimed is None
    assert (update.status, update.waiting_for_slot, update.stage) == (Status.QUEUED, True, "waiting")


def test_claims_beyond_the_overall_cap_stay_queued(db, settings):
    # given
    settings.SYNC_MAX_RUNNING_TOTAL = 2
    for _ in range(2):
        SyncSessionFactory(shop=ShopFactory(), status=Status.RUNNING)
    waiting = SyncSessionFactory(shop=ShopFactory())
    # when
    claimed = session_claim(session_id=waiting.pk)
    # then
    waiting.refresh_from_db()
    assert claimed is None
    assert (waiting.status, waiting.waiting_for_slot) == (Status.QUEUED, True)


def test_a_session_of_an_uninstalled_shop_is_cancelled_at_claim(shop):
    # given
    session = SyncSessionFactory(shop=shop)
    shop.status = shop.Status.UNINSTALLED
    shop.save()
    # when
    claimed = session_claim(session_id=session.pk)
    # then
    session.refresh_from_db()
    assert (claimed, session.status) == (None, Status.CANCELLED)


def test_heartbeat_with_a_stale_fencing_token_stops_the_worker(shop):
    # given
    session = SyncSessionFactory(
        shop=shop, status=Status.RUNNING, attempts=2, heartbeat_at=timezone.now() - timedelta(minutes=1)
    )
    before = session.heartbeat_at
    # when
    with pytest.raises(SyncStopped):
        session_heartbeat(session=session, token=1)
    # then
    session.refresh_from_db()
    assert session.heartbeat_at == before


def test_heartbeat_stops_the_run_when_the_shop_uninstalled(shop):
    # given
    session = SyncSessionFactory(shop=shop, status=Status.RUNNING, attempts=1)
    shop.status = shop.Status.UNINSTALLED
    shop.save()
    # when
    with pytest.raises(SyncStopped, match="uninstalled"):
        session_heartbeat(session=session, token=1)
    # then
    session.refresh_from_db()
    assert session.status == Status.RUNNING  # the runner ends it as cancelled


def test_a_redelivered_task_resumes_a_running_session_whose_worker_died(shop, settings):
    # given
    settings.SYNC_HEARTBEAT_TIMEOUT_SECONDS = 60
    session = SyncSessionFactory(
        shop=shop, status=Status.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(minutes=2)
    )
    # when
    claimed = session_claim(session_id=session.pk, task_id="redelivered")
    # then
    session.refresh_from_db()
    assert claimed is not None and claimed[1] == 2
    assert (session.status, session.attempts) == (Status.RUNNING, 2)
    assert list(session.events.values_list("to_status", flat=True)) == ["queued", "running"]


def test_a_redelivered_task_leaves_a_healthy_running_session_alone(shop):
    # given
    session = SyncSessionFactory(shop=shop, status=Status.RUNNING, attempts=1, heartbeat_at=timezone.now())
    # when
    claimed = session_claim(session_id=session.pk, task_id="duplicate")
    # then
    session.refresh_from_db()
    assert (claimed, session.status, session.attempts) == (None, Status.RUNNING, 1)


def test_a_failed_sessions_error_is_a_short_summary_and_the_jobs_keep_their_full_errors(shop):
    # given
    session = SyncSessionFactory(shop=shop, status=Status.RUNNING, attempts=1, heartbeat_at=timezone.now())
    long_error = "ShopifyPermanentError: " + "bad things happened " * 200
    for resource in ("orders", "customers", "products"):
        SyncJobFactory(session=session, resource=resource, status=SyncJob.Status.FAILED, error=long_error)
    # when
    session_finish(session=session, token=1)
    # then
    session.refresh_from_db()
    assert session.status == Status.FAILED
    assert session.error.startswith("customers: ShopifyPermanentError: bad things happened")
    assert session.error.endswith("… (and 2 more failed jobs)")
    assert len(session.error) < 250
    assert set(session.jobs.values_list("error", flat=True)) == {long_error}


def test_with_two_processes_a_second_backfill_waits_while_an_incremental_is_claimed(db, settings):
    # given: the default caps of a two-process fleet (backfills: one at a time, so a process stays free)
    settings.SYNC_WORKER_CONCURRENCY = 2
    SyncSessionFactory(shop=ShopFactory(), kind=SyncKind.INITIAL, status=Status.RUNNING)
    backfill = SyncSessionFactory(shop=ShopFactory(), kind=SyncKind.FULL)
    incremental = SyncSessionFactory(shop=ShopFactory(), kind=SyncKind.INCREMENTAL)
    # when
    backfill_claimed = session_claim(session_id=backfill.pk)
    incremental_claimed = session_claim(session_id=incremental.pk)
    # then
    backfill.refresh_from_db()
    incremental.refresh_from_db()
    assert backfill_claimed is None
    assert (backfill.status, backfill.waiting_for_slot) == (Status.QUEUED, True)
    assert incremental_claimed is not None
    assert incremental.status == Status.RUNNING


def test_with_two_processes_one_shop_runs_one_session_at_a_time(shop, settings):
    # given
    settings.SYNC_WORKER_CONCURRENCY = 2
    SyncSessionFactory(shop=shop, kind=SyncKind.INCREMENTAL, status=Status.RUNNING)
    update = SyncSessionFactory(shop=shop, kind=SyncKind.UPDATE, stale_after_mins=10)
    other_shop = SyncSessionFactory(shop=ShopFactory(), kind=SyncKind.INCREMENTAL)
    # when
    update_claimed = session_claim(session_id=update.pk)
    other_claimed = session_claim(session_id=other_shop.pk)
    # then
    update.refresh_from_db()
    assert (update_claimed, update.status, update.waiting_for_slot) == (None, Status.QUEUED, True)
    assert other_claimed is not None
