from __future__ import annotations

import itertools
import time
from datetime import timedelta

from django.utils import timezone

from shopsync.models import Customer, LineItem, Order, SyncCursor, SyncSession
from shopsync.services.sync import ensure_sync, sessions, sync_session_run
from shopsync.services.sync.query_cost import page_size
from tests.shopsync.shopify.scripted_http import Reply
from tests.shopsync.sync.fake_shopify import BASE


def _run(fake, kind, resources, **options):
    session = ensure_sync(
        shop=fake.shop, kind=kind, resources=resources, triggered_by="beat", **options
    ).session
    sync_session_run(session_id=session.pk, task_id="test")
    session.refresh_from_db()
    return session


def test_an_incremental_run_after_k_changes_fetches_about_k_records(fake_shopify, settings):
    # given
    settings.SYNC_INCREMENTAL_OVERLAP_SECONDS = 60
    ids = [fake_shopify.add("customers") for _ in range(40)]
    initial = _run(fake_shopify, "initial", ["customers"])
    now = initial.started_at + timedelta(seconds=3)
    for n, shopify_id in enumerate(ids[:3]):
        fake_shopify.touch("customers", shopify_id, now - timedelta(seconds=3 - n), firstName=f"Changed {n}")
    time.sleep(max(0, 3 - (timezone.now() - initial.started_at).total_seconds()))  # the changes are past
    fake_shopify.graphql_requests.clear()
    # when
    session = _run(fake_shopify, "incremental", ["customers"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    job = session.jobs.get()
    assert (job.synced, job.updated, job.created) == (3, 3, 0)
    assert len(fake_shopify.page_requests()) == 1
    assert (
        sorted(Customer.objects.filter(first_name__startswith="Changed").values_list("shopify_id", flat=True))
        == ids[:3]
    )
    search = fake_shopify.page_requests()[0]["variables"]["query"]
    assert search.startswith("updated_at:>='") and "updated_at:<='" in search
    cursor = SyncCursor.objects.get(resource="customers")
    assert (cursor.updated_at, cursor.shopify_id) == (
        now.replace(microsecond=0) - timedelta(seconds=1),
        ids[2],
    )


def test_many_records_sharing_one_updated_at_are_all_synced_across_pages(fake_shopify, settings):
    # given
    settings.SYNC_PAGE_SIZE = 7
    same = BASE + timedelta(days=3)
    ids = [fake_shopify.add("customers", updated_at=same) for _ in range(30)]
    # when
    session = _run(fake_shopify, "incremental", ["customers"])
    # then
    assert session.status == SyncSession.Status.COMPLETED
    assert sorted(Customer.objects.values_list("shopify_id", flat=True)) == ids
    job = session.jobs.get()
    assert (job.pages_done, job.synced) == (5, 30)
    cursor = SyncCursor.objects.get(resource="customers")
    assert (cursor.updated_at, cursor.shopify_id) == (same, ids[-1])


def test_an_order_with_hundreds_of_line_items_arrives_complete(fake_shopify):
    # given
    big = fake_shopify.add("orders", children=260)
    small = fake_shopify.add("orders", children=2)
    # when
    session = _run(fake_shopify, "update", ["orders"], stale_after_mins=10_000_000)
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert LineItem.objects.filter(order__shopify_id=big).count() == 260
    assert LineItem.objects.filter(order__shopify_id=small).count() == 2
    children_queries = [r for r in fake_shopify.graphql_requests if "SyncChildren" in r["query"]]
    assert len(children_queries) == 6  # 5 with the page, then 50 x 5 + 5
    assert [
        (r["variables"]["first"], r["variables"]["childFirst"]) for r in fake_shopify.page_requests()
    ] == [(page_size("orders"), 5)]  # roots per page: as many as fit in 1000 points (test_query_cost.py)


def test_a_page_sent_is_finished_even_when_its_follow_ups_must_wait_past_the_deferral_limit(
    fake_shopify, settings
):
    # given: an order whose line items need follow-up reads, a page answer that leaves the bucket
    # empty (each follow-up then waits ~0.1 s for its 10 points) and runs that defer any wait over 10 ms
    settings.SHOPIFY_BUDGET_DEFER_AFTER_SECONDS = 0.01
    big = fake_shopify.add("orders", children=60)
    fake_shopify.available_after_page = 0.0
    # when
    session = _run(fake_shopify, "update", ["orders"], stale_after_mins=10_000_000)
    # then: the page was finished (waiting in the run) rather than thrown away by a deferral, which
    # would send the same page, drain the bucket and defer again on every try
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert LineItem.objects.filter(order__shopify_id=big).count() == 60
    assert session.jobs.get().pages_done == 1


def test_populate_and_update_follow_the_seed_table(fake_shopify):
    # given
    unchanged = fake_shopify.add("orders", name="#1")
    changed = fake_shopify.add("orders", name="#2")
    _run(fake_shopify, "initial", ["orders"])
    fake_shopify.touch("orders", changed, timezone.now() - timedelta(minutes=5), name="#2 edited")
    new = fake_shopify.add("orders", name="#3", updated_at=timezone.now() - timedelta(minutes=4))
    # when
    populate = _run(fake_shopify, "populate", ["orders"])
    after_populate = dict(Order.objects.values_list("shopify_id", "name"))
    Order.objects.filter(shopify_id=new).delete()
    update = _run(fake_shopify, "update", ["orders"], stale_after_mins=30)
    after_update = dict(Order.objects.values_list("shopify_id", "name"))
    # then
    assert after_populate == {unchanged: "#1", changed: "#2", new: "#3"}  # skips existing, creates new
    pj = populate.jobs.get()
    assert (pj.created, pj.updated, pj.skipped) == (1, 0, 2)
    assert after_update == {unchanged: "#1", changed: "#2 edited", new: "#3"}  # updates changed, creates new
    uj = update.jobs.get()
    assert (uj.synced, uj.created, uj.updated) == (2, 1, 1)  # the unchanged one is not even fetched


def test_populate_with_days_asks_only_for_recently_created_records(fake_shopify):
    # given
    fake_shopify.add("customers")
    # when
    session = _run(fake_shopify, "populate", ["customers"], days=30)
    # then
    start = next(
        r["variables"]["query"]
        for r in fake_shopify.graphql_requests
        if "bulkOperationRunQuery" in r["query"]
    )
    expected = (session.started_at - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"created_at:>='{expected}'" in start
    assert Customer.objects.count() == 0  # created in 2025: outside the window


def test_a_run_waiting_out_a_429_keeps_its_heartbeat_going(fake_shopify, settings, monkeypatch):
    # given: Shopify answers the first call 429 with a 3 s Retry-After
    settings.SYNC_HEARTBEAT_INTERVAL_SECONDS = 1
    fake_shopify.add("customers")
    fake_shopify.replies_next = [
        Reply(status=429, headers={"Retry-After": "3"}, json={"errors": "Throttled"})
    ]
    beats = []
    real_heartbeat = sessions.session_heartbeat

    def heartbeat(**kwargs):
        beats.append(time.monotonic())
        real_heartbeat(**kwargs)

    monkeypatch.setattr(sessions, "session_heartbeat", heartbeat)
    # when
    session = _run(fake_shopify, "incremental", ["customers"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert len(beats) >= 3
    assert max(b - a for a, b in itertools.pairwise(beats)) < 1.5
