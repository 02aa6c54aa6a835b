"""Fair turns (shopsync/services/sync/slicing.py): a run in a worker yields after its slice and queues
again; it resumes from its checkpoints, a bulk run re-attaching to the same bulk operation. Against
the simulator over HTTP, real PostgreSQL and Redis, and (for the interleaving) a real worker."""

from __future__ import annotations

import time

import pytest

from shopsync.models import Customer, Order, SyncEvent, SyncSession
from shopsync.resources import Resource
from shopsync.services.sync import ensure_sync, sync_session_run
from shopsync.services.sync.slicing import SyncSliceEnded, run_slice, slice_yield
from tests.shopsync.sync.test_sync_e2e import assert_db_equals_truth

pytestmark = pytest.mark.e2e

Status = SyncSession.Status


def _run_in_turns(session: SyncSession, *, limit: int = 200) -> int:
    """Run the session as a worker would, a slice per task, until it ends; returns the tasks used."""
    tasks = 0
    while session.status in (Status.QUEUED, Status.RUNNING) and tasks < limit:
        sync_session_run(session_id=session.pk, task_id=f"turn-{tasks}", sliced=True)
        tasks += 1
        session.refresh_from_db()
    return tasks


def _turn_notes(session: SyncSession) -> list[str]:
    return list(
        SyncEvent.objects.filter(session=session, note__startswith="turn:")
        .order_by("pk")
        .values_list("note", flat=True)
    )


def test_nothing_yields_outside_a_slice_and_everything_after_it():
    # given
    # when
    slice_yield(where="page 1")
    with run_slice(seconds=0.01):
        slice_yield(where="page 1")
        time.sleep(0.02)
        with pytest.raises(SyncSliceEnded) as ended:
            slice_yield(where="page 2")
    # then
    assert str(ended.value) == "slice used up; continuing after page 2"
    assert ended.value.countdown == 0.0


def test_a_backfill_yields_at_batch_boundaries_and_resumes_the_same_export_to_the_truth(
    simulator, sim_shop, sync_queue, settings
):
    # given: a slice shorter than any batch, so the run yields after every one
    settings.SYNC_BACKFILL_SLICE_SECONDS = 0.001
    settings.SYNC_BULK_BATCH_SIZE = 100
    shop = sim_shop(orders=650, customers=20, products=5)
    session = ensure_sync(shop=shop, kind="initial", resources=["orders"], triggered_by="install").session
    # when
    tasks = _run_in_turns(session)
    # then
    assert session.status == Status.COMPLETED, session.error
    job = session.jobs.get()
    assert (job.synced, job.bulk_rounds) == (650, 1)  # one bulk operation: no slice restarted it
    batch_turns = [note for note in _turn_notes(session) if "continuing after line" in note]
    lines = [int(note.split("after line ")[1].split()[0]) for note in batch_turns]
    # A yield after each of the 7 batches of 100 orders (JSONL lines count their line items too), each
    # slice going on from the line where the last one stopped, the last at the export's end.
    assert len(lines) == 7
    assert lines == sorted(set(lines))
    assert lines[-1] == job.bulk_line
    assert tasks == len(_turn_notes(session)) + 1 == session.attempts
    assert Order.objects.filter(shop=shop).count() == 650
    assert_db_equals_truth(simulator, shop, [Resource.ORDERS])


def test_an_incremental_run_yields_at_page_boundaries_and_resumes_from_its_cursor(
    simulator, sim_shop, sync_queue, settings
):
    # given
    settings.SYNC_DELTA_SLICE_SECONDS = 0.001
    settings.SYNC_PAGE_SIZE = 10
    shop = sim_shop(orders=5, customers=45, products=5)
    session = ensure_sync(shop=shop, kind="incremental", resources=["customers"], triggered_by="api").session
    # when
    tasks = _run_in_turns(session)
    # then
    assert session.status == Status.COMPLETED, session.error
    job = session.jobs.get()
    assert (job.synced, job.pages_done) == (45, 5)
    assert _turn_notes(session) == [
        f"turn: slice used up; continuing after page {page}" for page in (1, 2, 3, 4)
    ]
    assert tasks == 5
    assert Customer.objects.filter(shop=shop).count() == 45
    assert_db_equals_truth(simulator, shop, [Resource.CUSTOMERS])


def test_a_large_incremental_delta_takes_the_bulk_path_in_turns_and_ends_equal_to_the_truth(
    simulator, sim_shop, sync_queue, settings
):
    # given: 24 of 60 synced orders changed and one deleted in Shopify, above a threshold of 20;
    # slices shorter than a batch of 8 orders
    settings.SYNC_BULK_DELTA_THRESHOLD = 20
    settings.SYNC_DELTA_SLICE_SECONDS = 0.001
    settings.SYNC_BULK_BATCH_SIZE = 8
    settings.SYNC_BULK_POLL_INTERVAL_SECONDS = 0.1
    shop = sim_shop(orders=60, customers=10, products=3)
    initial = ensure_sync(shop=shop, kind="initial", resources=["orders"], triggered_by="install").session
    sync_session_run(session_id=initial.pk, task_id="initial")
    order_ids = list(
        Order.objects.filter(shop=shop).order_by("shopify_id").values_list("shopify_id", flat=True)
    )
    for shopify_id in order_ids[:24]:
        simulator.control.update("orders", shopify_id, shop=shop.sim_domain, note=f"changed {shopify_id}")
    simulator.control.delete("orders", order_ids[-1], shop=shop.sim_domain)
    session = ensure_sync(shop=shop, kind="incremental", resources=["orders"], triggered_by="beat").session
    # when
    tasks = _run_in_turns(session)
    # then
    assert session.status == Status.COMPLETED, session.error
    job = session.jobs.get()
    assert (job.total, job.synced, job.updated, job.deleted, job.bulk_rounds) == (24, 24, 24, 1, 1)
    assert job.page_cursor == ""  # no page was read
    # the export was read in turns (a yield after each batch of 8), re-attaching to the one operation
    batch_turns = [note for note in _turn_notes(session) if "continuing after line" in note]
    assert len(batch_turns) >= 3
    assert tasks == len(_turn_notes(session)) + 1
    assert_db_equals_truth(simulator, shop, [Resource.ORDERS])


def test_an_inline_run_is_not_sliced(simulator, sim_shop, sync_queue, settings):
    # given
    settings.SYNC_DELTA_SLICE_SECONDS = 0.001
    settings.SYNC_PAGE_SIZE = 10
    shop = sim_shop(orders=5, customers=25, products=5)
    session = ensure_sync(shop=shop, kind="incremental", resources=["customers"], triggered_by="cli").session
    # when
    sync_session_run(session_id=session.pk, task_id="inline")
    # then
    session.refresh_from_db()
    assert (session.status, session.attempts, _turn_notes(session)) == (Status.COMPLETED, 1, [])
    assert sync_queue.length() == 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_with_one_worker_process_another_shops_incremental_runs_between_the_slices_of_a_long_backfill(
    simulator, sim_shop, sync_queue, tmp_path
):
    # given: one process (solo pool) consuming both sync queues, backfills in 1 s slices
    from django.conf import settings as django_settings

    from tests.processes import celery_worker, database_url

    worker = celery_worker(
        log_path=tmp_path / "worker.log", queues=("sync", "sync_backfill", "maintenance"),
        database_url=database_url(), broker_url=django_settings.CELERY_BROKER_URL,
        settings_module="tests.shopsync.sync.worker_settings", pool="solo", concurrency=1, name="turns",
        env={"SYNC_BACKFILL_SLICE_SECONDS": "1", "SYNC_WORKER_CONCURRENCY": "1"},
    )  # fmt: skip
    big, small = sim_shop(orders=4000, customers=10, products=5), sim_shop(orders=5, customers=30, products=5)
    worker.start()
    try:
        backfill = ensure_sync(shop=big, kind="initial", resources=["orders"], triggered_by="install").session
        job = backfill.jobs.get()
        deadline = time.monotonic() + 120
        while job.bulk_line == 0 and time.monotonic() < deadline:  # the backfill is writing
            time.sleep(0.05)
            job.refresh_from_db()
        # when
        incremental = ensure_sync(
            shop=small, kind="incremental", resources=["customers"], triggered_by="beat"
        ).session
        while incremental.status in (Status.QUEUED, Status.RUNNING) and time.monotonic() < deadline:
            time.sleep(0.1)
            incremental.refresh_from_db()
        backfill.refresh_from_db()
        backfill_when_incremental_done = backfill.status
        while backfill.status in (Status.QUEUED, Status.RUNNING) and time.monotonic() < deadline + 180:
            time.sleep(0.2)
            backfill.refresh_from_db()
    finally:
        worker.stop()
    # then: the incremental ran in a turn of its own, between two slices of the backfill
    assert incremental.status == Status.COMPLETED, incremental.error
    assert backfill_when_incremental_done in (Status.QUEUED, Status.RUNNING)
    assert backfill.status == Status.COMPLETED, backfill.error
    assert incremental.finished_at < backfill.finished_at
    slices_after = backfill.attempts_log.filter(started_at__gt=incremental.finished_at).count()
    assert slices_after >= 1
    assert incremental.attempts == 1
    job.refresh_from_db()
    assert (job.synced, job.bulk_rounds) == (4000, 1)
    assert_db_equals_truth(simulator, big, [Resource.ORDERS])
    assert_db_equals_truth(simulator, small, [Resource.CUSTOMERS])
