"""End to end: the sync engine against the Shopify simulator over HTTP, real PostgreSQL and Redis,
and (where a worker matters) a real `celery worker` subprocess."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from django.utils import timezone

from shopsync.models import Customer, FailedSyncItem, LineItem, Order, SyncSession
from shopsync.resources import Resource
from shopsync.services.sync import ensure_sync, sync_session_run, sync_watchdog
from tests.convergence.mirror import mirror_compare
from tests.processes import database_connections_cut

pytestmark = pytest.mark.e2e


def _run_inline(shop, kind="initial", **options):
    session = ensure_sync(shop=shop, kind=kind, triggered_by="cli", **options).session
    sync_session_run(session_id=session.pk, task_id="e2e")
    session.refresh_from_db()
    return session


def assert_db_equals_truth(simulator, shop, resources=tuple(Resource)) -> None:
    """The convergence oracle (tests/convergence/mirror.py): every declared column and child, at any
    depth, of every live and deleted record, against the simulator's truth."""
    for resource in resources:
        comparison = mirror_compare(
            simulator.control, shop=shop, resource=resource.value, shop_domain=shop.sim_domain
        )
        assert comparison.is_exact, comparison.summary()


def test_initial_sync_leaves_the_database_equal_to_the_simulators_truth(simulator, sim_shop, bulk_parsing):
    # given
    shop = sim_shop(big_orders=2, big_order_lines=300)
    # when
    session = _run_inline(shop)
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert_db_equals_truth(simulator, shop)
    assert (
        max(LineItem.objects.filter(shop=shop).values_list("order_id", flat=True).distinct().count(), 0) > 0
    )


def test_an_incremental_run_after_k_changes_fetches_about_k_records(simulator, sim_shop):
    # given
    shop = sim_shop(orders=300)
    _run_inline(shop)
    order_ids = list(
        Order.objects.filter(shop=shop).order_by("shopify_id").values_list("shopify_id", flat=True)
    )
    for shopify_id in order_ids[:5]:
        simulator.control.update("orders", shopify_id, shop=shop.sim_domain, note=f"changed {shopify_id}")
    # when
    session = _run_inline(shop, kind="incremental")
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    orders = session.jobs.get(resource="orders")
    assert (orders.synced, orders.updated) == (5, 5)
    assert orders.api_calls <= 4  # a count, a page (plus a page-size fit): not the store
    assert sum(job.synced for job in session.jobs.all()) <= 10  # the changed orders touch their customers
    assert_db_equals_truth(simulator, shop, [Resource.ORDERS])


def test_an_incremental_run_picks_up_a_new_transaction_through_its_order(simulator, sim_shop):
    # given: an authorized order, synced; then captured in Shopify (a new transaction, which moves the
    # order's updatedAt: contract §8.12, the simulator's default)
    shop = sim_shop(orders=150)
    _run_inline(shop)
    truth = simulator.control.truth("orders", full=True, shop=shop.sim_domain)["records"]
    authorized = next(row["id"] for row in truth if row["record"]["financial_status"] == "authorized")
    before = Order.objects.get(shop=shop, shopify_id=authorized).transactions.count()
    simulator.control.update("orders", authorized, shop=shop.sim_domain, capture=True)
    # when
    session = _run_inline(shop, kind="incremental")
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    order = Order.objects.get(shop=shop, shopify_id=authorized)
    assert order.transactions.count() == before + 1
    assert order.transactions.filter(kind="capture", parent_transaction_shopify_id__isnull=False).exists()
    assert_db_equals_truth(simulator, shop, [Resource.ORDERS])


def test_an_incremental_run_picks_up_address_book_and_consent_changes(simulator, sim_shop):
    # given: synced; then one customer gets more addresses than a page's first page of them (5) and a
    # new default, another unsubscribes from email marketing
    shop = sim_shop(orders=20, customers=12, products=3)
    _run_inline(shop)
    truth = simulator.control.truth("customers", full=True, shop=shop.sim_domain)["records"]
    many, consenting = truth[0]["id"], next(row["id"] for row in truth[1:] if row["record"]["email"])
    base = f"/shops/{shop.sim_domain}/customers"
    # (one edit of the address book, so one new version)
    book = [{"id": 9_900_000_000 + n, "city": f"Town {n}", "country_code": "CA"} for n in range(7)]
    simulator.control.update(
        "customers", many, shop=shop.sim_domain, addresses=book, default_address_id=book[6]["id"]
    )
    simulator.control.call(
        "POST", f"{base}/{consenting}/marketing_consent", json={"channel": "email", "state": "unsubscribed"}
    )
    # A change moves updatedAt at least a second on (strictly newer versions): the run starts after
    # the last of them, so that its window holds them all.
    records = simulator.control.truth("customers", shop=shop.sim_domain)["records"]
    newest = max(datetime.fromisoformat(row["updated_at"]).timestamp() for row in records)
    time.sleep(max(0.0, newest + 1.1 - time.time()))
    # when
    session = _run_inline(shop, kind="incremental")
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert Customer.objects.get(shop=shop, shopify_id=consenting).email_marketing_state == "unsubscribed"
    stored = Customer.objects.get(shop=shop, shopify_id=many)
    assert (stored.addresses.count(), stored.default_address_shopify_id) == (7, book[6]["id"])
    assert_db_equals_truth(simulator, shop, [Resource.CUSTOMERS])


def test_a_quiet_incremental_run_on_the_standard_plan_takes_one_cheap_page_per_resource(simulator, sim_shop):
    # given: page queries whose requested cost (not what they return) fits the bucket with room to spare
    # (and one deletion events page per resource, about 102 points)
    shop = sim_shop(plan="standard")
    assert _run_inline(shop).status == SyncSession.Status.COMPLETED
    # when
    started = time.monotonic()
    session = _run_inline(shop, kind="incremental")
    elapsed = time.monotonic() - started
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert sorted((job.resource, job.api_calls) for job in session.jobs.all()) == [
        ("collections", 2),
        ("customers", 2),
        ("locations", 1),
        ("orders", 2),
        ("products", 2),
    ]  # fmt: skip (locations: one page of every location, no event log read)
    assert elapsed < 5, f"a quiet incremental run took {elapsed:.1f}s"


def test_a_full_run_soft_deletes_what_shopify_deleted(simulator, sim_shop):
    # given
    shop = sim_shop()
    _run_inline(shop)
    gone = Order.objects.filter(shop=shop).order_by("shopify_id").values_list("shopify_id", flat=True)[3]
    simulator.control.delete("orders", gone, shop=shop.sim_domain)
    # when
    session = _run_inline(shop, kind="full")
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert list(
        Order.objects.filter(shop=shop, deleted_at__isnull=False).values_list("shopify_id", flat=True)
    ) == [gone]
    assert session.jobs.get(resource="orders").deleted == 1
    assert_db_equals_truth(simulator, shop)


def test_429s_5xx_dropped_connections_throttling_and_failed_bulk_operations_are_survived(simulator, sim_shop):
    # given
    shop = sim_shop()
    # A job gives up after three failed exports in a row without new data (by design): at a share of
    # 0.5 that is 1 in 8 per resource, so with four resources the run failed two times in five.
    simulator.control.set_faults(
        shop=shop.sim_domain, seed=3, rest_429_share=0.2, graphql_throttle_share=0.2, server_error_share=0.15,
        drop_connection_share=0.1, bulk_fail_share=0.2, retry_after_seconds=0.2,
    )  # fmt: skip
    # when
    session = _run_inline(shop)
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    counters = simulator.control.faults()["counters"]
    assert sum(counters.values()) > 0, counters
    simulator.control.clear_faults()
    assert_db_equals_truth(simulator, shop)


def test_malformed_records_land_in_the_dead_letters_while_the_rest_syncs(simulator, sim_shop):
    # given
    shop = sim_shop()
    simulator.control.set_faults(shop=shop.sim_domain, seed=5, malformed_record_share=0.05)
    # when
    session = _run_inline(shop, resources=["customers"])
    # then
    malformed = {m["id"] for m in simulator.control.faults()["malformed"] if m["shop"] == shop.sim_domain}
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert malformed
    letters = set(
        FailedSyncItem.objects.filter(shop=shop, entity_type="customer").values_list("shopify_id", flat=True)
    )
    assert letters == malformed
    truth_ids = {row["id"] for row in simulator.control.truth("customers", shop=shop.sim_domain)["records"]}
    assert (
        set(Customer.objects.filter(shop=shop).values_list("shopify_id", flat=True)) == truth_ids - malformed
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_backfill_is_resumed_by_the_watchdog_and_ends_equal_to_the_truth(
    simulator, sim_shop, sync_worker, settings, bulk_parsing
):
    # given
    shop = sim_shop(orders=2500, customers=30, products=10)
    sync_worker.start()
    session = ensure_sync(shop=shop, kind="initial", resources=["orders"], triggered_by="install").session
    job = session.jobs.get()
    deadline = time.monotonic() + 60
    while True:  # wait until some batches are committed, then pull the plug
        job.refresh_from_db()
        if job.bulk_line > 0 or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    sync_worker.kill()
    job.refresh_from_db()
    assert job.bulk_line > 0 and job.status == "running", "the worker finished before it could be killed"
    # when
    settings.SYNC_HEARTBEAT_TIMEOUT_SECONDS = 2
    time.sleep(2.5)
    report = sync_watchdog()
    sync_worker.start()
    session.refresh_from_db()
    while session.status in ("queued", "running") and time.monotonic() < deadline + 60:
        time.sleep(0.2)
        session.refresh_from_db()
    # then
    assert report.resumed == [session.pk]
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert session.attempts == 2
    job.refresh_from_db()
    assert job.synced == 2500
    assert Order.objects.filter(shop=shop).count() == 2500
    assert_db_equals_truth(simulator, shop, [Resource.ORDERS])
    assert session.finished_at <= timezone.now()


def _cut_database_connections_while_running(session, job, *, cuts: int, every: float, timeout: float) -> int:
    """Wait for the first committed batch, then cut the worker's database connections `cuts` times,
    `every` seconds apart, while the session runs. Returns how many cuts hit a live connection."""
    deadline = time.monotonic() + timeout
    while job.bulk_line == 0 and job.pages_done == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
        job.refresh_from_db()
    hits = 0
    for _ in range(cuts):
        session.refresh_from_db()
        if session.status not in ("queued", "running"):
            break
        hits += database_connections_cut() > 0
        time.sleep(every)
    return hits


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("kind", "resource"), [("initial", "orders"), ("incremental", "customers")])
def test_a_sync_whose_database_connections_are_cut_mid_run_completes_equal_to_the_truth(
    simulator, sim_shop, sync_worker, kind, resource
):
    # given: a worker running a sync that commits batch after batch
    shop = sim_shop(orders=2500, customers=900, products=10)
    sync_worker.start()
    session = ensure_sync(shop=shop, kind=kind, resources=[resource], triggered_by="cli").session
    job = session.jobs.get()
    # when: its database connections are cut, again and again, as a database restart would
    hits = _cut_database_connections_while_running(session, job, cuts=6, every=0.5, timeout=60)
    deadline = time.monotonic() + 120
    while session.status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        session.refresh_from_db()
    # then: the run survived every cut and the copy is exact. Usually in one attempt; a run that lost
    # its connection for several batches in a row (or used up its time slice on a loaded machine) is
    # handed on from its checkpoint, never failed.
    assert session.status == SyncSession.Status.COMPLETED, (session.status, session.error)
    assert hits >= 3, "the sync finished before its connections could be cut"
    outcomes = list(session.attempts_log.order_by("pk").values_list("outcome", flat=True))
    assert outcomes[-1] == "completed" and set(outcomes[:-1]) <= {"requeued"}, outcomes
    assert not FailedSyncItem.objects.filter(shop=shop).exists()
    assert_db_equals_truth(simulator, shop, [Resource(resource)])
