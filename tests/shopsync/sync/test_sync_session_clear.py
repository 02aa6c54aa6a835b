from __future__ import annotations

import pytest

from shopsync.models import SyncJob, SyncSession
from shopsync.services.sync import ensure_sync, sync_session_clear
from tests.factories import SyncJobFactory, SyncSessionFactory

Status = SyncSession.Status


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.FAILED])
def test_clearing_a_stuck_run_ends_it_and_drops_its_checkpoints(shop, status):
    # given
    stuck = SyncSessionFactory(shop=shop, status=Status.RUNNING, attempts=1)
    job = SyncJobFactory(
        session=stuck,
        status=SyncJob.Status.RUNNING,
        bulk_operation_id="gid://shopify/BulkOperation/7",
        bulk_line=1234,
        page_cursor="abc",
    )
    # when
    cleared = sync_session_clear(session=stuck, status=status, reason="worker gone")
    # then
    stuck.refresh_from_db()
    job.refresh_from_db()
    assert cleared is True
    assert stuck.status == status
    assert stuck.finished_at is not None
    assert (job.status, job.bulk_operation_id, job.bulk_line, job.page_cursor) == ("cancelled", "", 0, "")
    assert stuck.events.filter(to_status=status, note="worker gone").exists()


def test_after_clearing_a_new_trigger_starts_a_clean_run(shop, django_capture_on_commit_callbacks):
    # given
    stuck = SyncSessionFactory(shop=shop, status=Status.RUNNING, attempts=1)
    SyncJobFactory(session=stuck, bulk_operation_id="gid://shopify/BulkOperation/7", bulk_line=99)
    sync_session_clear(session=stuck, status=Status.FAILED)
    # when
    result = ensure_sync(shop=shop, kind="initial", resources=["orders"], triggered_by="button")
    # then
    assert result.created is True
    job = result.session.jobs.get()
    assert (job.bulk_operation_id, job.bulk_line) == ("", 0)


def test_clearing_a_finished_session_does_nothing(shop):
    # given
    done = SyncSessionFactory(shop=shop, status=Status.COMPLETED)
    # when
    cleared = sync_session_clear(session=done)
    # then
    done.refresh_from_db()
    assert (cleared, done.status) == (False, Status.COMPLETED)
