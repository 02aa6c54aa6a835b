"""Large deltas by bulk (paged.py `_by_bulk`, bulk.py `bulk_delta_read`): an incremental or update
job whose window holds at least SYNC_BULK_DELTA_THRESHOLD records reads it with one bulk query
filtered on the window's `updated_at`, instead of pages."""

from __future__ import annotations

import re
from datetime import timedelta

from shopsync.models import LineItem, Order, SyncCursor, SyncSession
from shopsync.services.sync import ensure_sync, sync_session_run
from tests.shopsync.sync.test_deletion_events import _event


def _run(fake, kind, resources, **options):
    session = ensure_sync(
        shop=fake.shop, kind=kind, resources=resources, triggered_by="beat", **options
    ).session
    sync_session_run(session_id=session.pk, task_id="test")
    session.refresh_from_db()
    return session


def _bulk_searches(fake) -> list[str]:
    """The search (`query:` argument) of each bulk query started."""
    queries = [
        r["variables"]["query"] for r in fake.graphql_requests if "bulkOperationRunQuery" in r["query"]
    ]
    return [re.search(r'query: "(.*?)"\)', query).group(1) for query in queries]


def _changed_after_initial(fake, *, orders: int, changed: int):
    ids = [fake.add("orders", children=2) for _ in range(orders)]
    initial = _run(fake, "initial", ["orders"])
    assert initial.status == SyncSession.Status.COMPLETED, initial.error
    for shopify_id in ids[:changed]:
        fake.touch(
            "orders", shopify_id, initial.started_at - timedelta(seconds=1), note=f"changed {shopify_id}"
        )
    fake.graphql_requests.clear()
    return ids


def test_an_incremental_delta_at_the_threshold_is_read_by_one_bulk_query_over_its_window(
    fake_shopify, settings
):
    # given: 8 of 20 synced orders changed, one deleted in Shopify; the threshold is 8
    settings.SYNC_BULK_DELTA_THRESHOLD = 8
    ids = _changed_after_initial(fake_shopify, orders=20, changed=8)
    fake_shopify.events = [_event(ids[15], fake_shopify_now := SyncCursor.objects.get().updated_at)]
    fake_shopify.delete("orders", ids[15])
    # when
    session = _run(fake_shopify, "incremental", ["orders"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    job = session.jobs.get()
    assert fake_shopify.page_requests() == []
    searches = _bulk_searches(fake_shopify)
    assert len(searches) == 1
    assert searches[0].startswith("updated_at:>='") and "updated_at:<='" in searches[0]
    assert (job.total, job.synced, job.updated, job.created, job.bulk_rounds) == (8, 8, 8, 0, 1)
    changed = Order.objects.filter(note__startswith="changed").values_list("shopify_id", flat=True)
    assert sorted(changed) == ids[:8]
    assert LineItem.objects.filter(order__shopify_id__in=ids[:8]).count() == 16
    # the deletion events are read after the export all the same
    assert len(fake_shopify.events_requests()) == 1
    assert job.deleted == 1
    assert Order.objects.get(shopify_id=ids[15]).deleted_at == fake_shopify_now
    # the watermark moves to the window's end, where the next run's window starts (less the overlap)
    cursor = SyncCursor.objects.get()
    assert (cursor.updated_at, cursor.shopify_id) == (job.window_end, 0)


def test_a_delta_under_the_threshold_is_paged(fake_shopify, settings):
    # given
    settings.SYNC_BULK_DELTA_THRESHOLD = 6
    ids = _changed_after_initial(fake_shopify, orders=20, changed=5)  # one page: orders pages hold 7
    # when
    session = _run(fake_shopify, "incremental", ["orders"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    job = session.jobs.get()
    assert _bulk_searches(fake_shopify) == []
    assert len(fake_shopify.page_requests()) == 1
    assert (job.synced, job.bulk_rounds) == (5, 0)
    assert (
        sorted(Order.objects.filter(note__startswith="changed").values_list("shopify_id", flat=True))
        == ids[:5]
    )


def test_a_large_update_run_whose_bulk_slot_is_taken_pages_instead_of_waiting(fake_shopify, settings):
    # given: another bulk operation holds the shop's slot
    settings.SYNC_BULK_DELTA_THRESHOLD = 3
    ids = [fake_shopify.add("orders", children=1) for _ in range(5)]
    fake_shopify.bulk_slot_taken = True
    # when
    session = _run(fake_shopify, "update", ["orders"], stale_after_mins=10_000_000)
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    job = session.jobs.get()
    assert len(_bulk_searches(fake_shopify)) == 1  # asked once, then paged
    assert len(fake_shopify.page_requests()) == 1
    assert (job.synced, job.created, job.bulk_operation_id, job.bulk_rounds) == (5, 5, "", 0)
    assert sorted(Order.objects.values_list("shopify_id", flat=True)) == ids
    assert SyncCursor.objects.count() == 0  # an update run never moves the watermark


def test_a_failed_delta_export_continues_with_a_follow_up_over_the_same_window(fake_shopify, settings):
    # given
    settings.SYNC_BULK_DELTA_THRESHOLD = 5
    ids = _changed_after_initial(fake_shopify, orders=12, changed=6)
    fake_shopify.fail_next_bulk_after = [4]
    # when
    session = _run(fake_shopify, "incremental", ["orders"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    searches = _bulk_searches(fake_shopify)
    assert len(searches) == 2
    assert searches[1] == f"{searches[0]} id:>{ids[3]}"
    job = session.jobs.get()
    assert (job.synced, job.updated, job.bulk_rounds) == (6, 6, 2)
    assert (
        sorted(Order.objects.filter(note__startswith="changed").values_list("shopify_id", flat=True))
        == ids[:6]
    )
