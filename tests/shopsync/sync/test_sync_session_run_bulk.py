from __future__ import annotations

import json

import pytest
from django.db import connection
from django.dispatch import receiver

from shopsync.models import (
    Collection,
    CollectionProduct,
    Customer,
    FailedSyncItem,
    LineItem,
    Order,
    Product,
    ProductVariant,
    SyncCursor,
    SyncSession,
)
from shopsync.services.sync import ensure_sync, failed_batch_retry, retry_failed_batches, sync_session_run
from shopsync.signals import shop_data_changed

# The tests whose outcome depends on where the export is parsed run with it parsed in a thread and in
# the bulk child process (`in_both_parsings`): what the parser yields (records, errors, resume
# lines), what the writer receives (records or COPY text) and what a failed batch keeps. The others
# test the engine around the export (when operations start, the watermark, a vanished operation,
# messages, polling) and run once, parsed in a thread (the default under 40,000 lines): each child
# process costs a Python start-up with Django (about 1.5 CPU s), so the second run bought nothing.
in_both_parsings = pytest.mark.usefixtures("bulk_parsing")


def _run(fake, kind="initial", resources=None, **options):
    session = ensure_sync(
        shop=fake.shop, kind=kind, resources=resources, triggered_by="cli", **options
    ).session
    sync_session_run(session_id=session.pk, task_id="test")
    session.refresh_from_db()
    return session


@in_both_parsings
def test_initial_sync_writes_every_record_with_its_children_and_completes(fake_shopify):
    # given
    order_ids = [fake_shopify.add("orders", children=3) for _ in range(5)]
    [fake_shopify.add("customers") for _ in range(4)]
    [fake_shopify.add("products", children=2) for _ in range(3)]
    [fake_shopify.add("collections", children=3) for _ in range(2)]  # three members each
    signals = []

    @receiver(shop_data_changed)
    def collect(sender, **kwargs):
        signals.append(kwargs)

    # when (the fake serves no locations)
    session = _run(fake_shopify, resources=["orders", "customers", "products", "collections"])
    # then
    shop_data_changed.disconnect(collect)
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert (
        sorted(Order.objects.filter(shop=fake_shopify.shop).values_list("shopify_id", flat=True)) == order_ids
    )
    assert LineItem.objects.filter(shop=fake_shopify.shop).count() == 15
    assert Customer.objects.filter(shop=fake_shopify.shop).count() == 4
    assert (Product.objects.count(), ProductVariant.objects.count()) == (3, 6)
    assert (Collection.objects.count(), CollectionProduct.objects.count()) == (2, 6)
    jobs = {job.resource: job for job in session.jobs.all()}
    assert {r: (j.status, j.synced, j.total, j.created) for r, j in jobs.items()} == {
        "collections": ("completed", 2, 2, 2),
        "orders": ("completed", 5, 5, 5),
        "customers": ("completed", 4, 4, 4),
        "products": ("completed", 3, 3, 3),
    }
    fake_shopify.shop.refresh_from_db()
    assert fake_shopify.shop.cutover_at == session.started_at
    assert set(SyncCursor.objects.values_list("resource", "updated_at", "shopify_id")) == {
        (r, session.started_at, 0) for r in ("orders", "customers", "products", "collections")
    }
    assert session.message == (
        "Sync complete: collections 2 (2 new, 0 updated), customers 4 (4 new, 0 updated), orders 5 (5 new, "
        "0 updated), products 3 (3 new, 0 updated)."
    )
    assert [(s["session_id"], sorted(s["resources"])) for s in signals] == [
        (session.pk, ["collections", "customers", "orders", "products"])
    ]


@pytest.mark.parametrize(
    ("min_lines", "in_child"), [(6, True), (7, False)], ids=["over-threshold-child", "under-threshold-thread"]
)
def test_an_export_is_parsed_in_the_child_process_from_the_threshold_on(
    fake_shopify, settings, caplog, min_lines, in_child
):
    # given: an export of 2 orders with 2 line items each, 6 lines
    [fake_shopify.add("orders", children=2) for _ in range(2)]
    settings.SYNC_BULK_PARSE_PROCESS_MIN_LINES = min_lines
    # when
    with caplog.at_level("INFO", logger="shopsync.services.sync.parse_process"):
        session = _run(fake_shopify, resources=["orders"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    if in_child:
        assert "parsing the orders export from line 1 in child process" in caplog.text
    else:
        assert "child process" not in caplog.text
    assert LineItem.objects.count() == 4


def _planner_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


@in_both_parsings
def test_a_bulk_job_refreshes_the_planner_statistics_of_the_tables_it_grew(fake_shopify, settings):
    # given: statistics taken while the tables were empty; refreshed after 2 rows written (then 4, 8...)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shopsync_order; ANALYZE shopsync_lineitem")
    assert (_planner_rows("shopsync_order"), _planner_rows("shopsync_lineitem")) == (0, 0)
    [fake_shopify.add("orders", children=2) for _ in range(3)]
    settings.SYNC_ANALYZE_AFTER_ROWS = 2
    # when
    session = _run(fake_shopify, resources=["orders"])
    # then: ANALYZE ran on the orders and their line items
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert (_planner_rows("shopsync_order"), _planner_rows("shopsync_lineitem")) == (3, 6)


def test_bulk_operations_start_together_from_2026_01_and_one_at_a_time_before(fake_shopify):
    # given
    fake_shopify.add("orders")
    fake_shopify.add("customers")
    # when
    _run(fake_shopify, resources=["orders", "customers"])
    new_order = [
        ("start" if "bulkOperationRunQuery" in r["query"] else "poll")
        for r in fake_shopify.graphql_requests
        if "BulkOperation" in r["query"] or "bulkOperationRunQuery" in r["query"]
    ]
    fake_shopify.graphql_requests.clear()
    fake_shopify.shop.api_version = "2025-10"
    fake_shopify.shop.save()
    fake_shopify.server.handle("/admin/api/2025-10/graphql.json", fake_shopify._graphql)
    _run(fake_shopify, kind="full", resources=["orders", "customers"])
    old_order = [
        ("start" if "bulkOperationRunQuery" in r["query"] else "poll")
        for r in fake_shopify.graphql_requests
        if "BulkOperation" in r["query"] or "bulkOperationRunQuery" in r["query"]
    ]
    # then
    assert new_order == ["start", "start", "poll", "poll"]
    assert old_order == ["start", "poll", "start", "poll"]


@in_both_parsings
def test_a_malformed_record_goes_to_the_dead_letters_and_the_rest_syncs(fake_shopify):
    # given
    good = [fake_shopify.add("customers") for _ in range(3)]
    bad = fake_shopify.add("customers")
    fake_shopify.bad_lines[bad] = b'{"id": "gid://shopify/Customer/%d", "updatedAt": "not a date"}' % bad
    # when
    session = _run(fake_shopify, resources=["customers"])
    # then
    assert session.status == SyncSession.Status.COMPLETED
    assert sorted(Customer.objects.values_list("shopify_id", flat=True)) == good
    letter = FailedSyncItem.objects.get()
    assert (letter.entity_type, letter.shopify_id, letter.payload["updatedAt"]) == (
        "customer",
        bad,
        "not a date",
    )
    job = session.jobs.get()
    assert (job.synced, job.created, job.failed) == (4, 3, 1)
    assert job.failures[0]["shopify_id"] == bad and job.failures[0]["line"] == 4


@in_both_parsings
def test_a_failed_bulk_operation_is_resumed_from_its_partial_data_then_a_follow_up_query(fake_shopify):
    # given
    ids = [fake_shopify.add("orders", children=2) for _ in range(6)]
    fake_shopify.fail_next_bulk_after = [4]
    # when
    session = _run(fake_shopify, resources=["orders"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert sorted(Order.objects.values_list("shopify_id", flat=True)) == ids
    assert LineItem.objects.count() == 12
    starts = [
        r["variables"]["query"]
        for r in fake_shopify.graphql_requests
        if "bulkOperationRunQuery" in r["query"]
    ]
    assert len(starts) == 2
    assert f"id:>{ids[3]}" in starts[1]
    job = session.jobs.get()
    assert (job.synced, job.created, job.bulk_rounds) == (6, 6, 2)
    assert "failed (INTERNAL_SERVER_ERROR); resumed" in job.failures[0]["reason"]


@in_both_parsings
def test_a_child_error_naming_a_large_id_does_not_move_the_resume_point_past_the_remaining_roots(
    fake_shopify,
):
    # given: the partial data holds an orphan line-item line naming an id far above every order's
    ids = [fake_shopify.add("orders", children=1) for _ in range(6)]
    root = json.dumps(fake_shopify.records["orders"][ids[1]]["node"]).encode()
    orphan = b'{"id": "gid://shopify/LineItem/99999999999", "quantity": 1, "__parentId": "gid://shopify/Order/88888888888"}'
    fake_shopify.bad_lines[ids[1]] = root + b"\n" + orphan
    fake_shopify.fail_next_bulk_after = [4]
    # when
    session = _run(fake_shopify, resources=["orders"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert sorted(Order.objects.values_list("shopify_id", flat=True)) == ids
    starts = [
        r["variables"]["query"]
        for r in fake_shopify.graphql_requests
        if "bulkOperationRunQuery" in r["query"]
    ]
    assert f"id:>{ids[3]}" in starts[1]
    letter = FailedSyncItem.objects.get()
    assert (letter.entity_type, letter.shopify_id) == ("order", 88888888888)
    assert session.jobs.get().synced == 6


@in_both_parsings
def test_a_bad_child_line_dead_letters_its_parent_for_a_refetch_with_the_raw_lines(fake_shopify):
    # given
    ids = [fake_shopify.add("orders", children=2) for _ in range(3)]
    kid = fake_shopify.records["orders"][ids[2]]["children"][0]["id"]
    kid_id = int(kid.rsplit("/", 1)[1])
    fake_shopify.bad_lines[kid_id] = (
        b'{"id": "%s", "quantity": "lots", "__parentId": "gid://shopify/Order/%d"}'
        % (
            kid.encode(),
            ids[2],
        )
    )
    # when
    session = _run(fake_shopify, resources=["orders"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert sorted(Order.objects.values_list("shopify_id", flat=True)) == ids[:2]
    letter = FailedSyncItem.objects.get()
    assert (letter.entity_type, letter.shopify_id) == ("order", ids[2])
    assert [line["quantity"] for line in letter.payload["lines"]] == ["lots"]
    assert letter.payload["child_ids"] == [kid_id]
    job = session.jobs.get()
    assert (job.synced, job.created, job.failed) == (2, 2, 1)
    assert (job.failures[0]["shopify_id"], job.failures[0]["child_ids"]) == (ids[2], [kid_id])


@in_both_parsings
def test_a_resumed_job_reattaches_to_its_operation_and_reads_on_from_the_checkpoint(fake_shopify):
    # given
    ids = [fake_shopify.add("customers") for _ in range(5)]
    first = _run(fake_shopify, resources=["customers"])
    Customer.objects.all().delete()
    operation_id = first.jobs.get().bulk_operation_id
    session = ensure_sync(
        shop=fake_shopify.shop, kind="full", resources=["customers"], triggered_by="cli"
    ).session
    session.jobs.update(bulk_operation_id=operation_id, bulk_line=3, bulk_rounds=1, synced=3)
    starts_before = fake_shopify.bulk_starts()
    # when
    sync_session_run(session_id=session.pk)
    # then
    session.refresh_from_db()
    assert session.status == SyncSession.Status.COMPLETED
    assert fake_shopify.bulk_starts() == starts_before  # no new export
    assert (
        sorted(Customer.objects.filter(deleted_at__isnull=True).values_list("shopify_id", flat=True))
        == ids[3:]
    )
    assert session.jobs.get().synced == 5


def test_a_checkpoint_naming_an_operation_shopify_no_longer_has_starts_a_new_export_after_its_last_id(
    fake_shopify,
):
    # given: a failed initial run whose operation is gone (expired, or the simulator restarted)
    ids = [fake_shopify.add("orders") for _ in range(5)]
    failed = ensure_sync(
        shop=fake_shopify.shop, kind="initial", resources=["orders"], triggered_by="cli"
    ).session
    failed.jobs.update(status="failed", started_at=failed.created_at, window_end=failed.created_at,
                       bulk_operation_id="gid://shopify/BulkOperation/404", bulk_line=2, bulk_rounds=1,
                       bulk_after_id=ids[1], synced=2)  # fmt: skip
    SyncSession.objects.filter(pk=failed.pk).update(status="failed", finished_at=failed.created_at)
    # when: the next initial run inherits that checkpoint
    session = _run(fake_shopify, resources=["orders"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert sorted(Order.objects.values_list("shopify_id", flat=True)) == ids[2:]
    starts = [
        r["variables"]["query"]
        for r in fake_shopify.graphql_requests
        if "bulkOperationRunQuery" in r["query"]
    ]
    assert len(starts) == 1 and f"id:>{ids[1]}" in starts[0]
    job = session.jobs.get()
    assert (job.synced, job.bulk_operation_id) == (5, "gid://shopify/BulkOperation/1")
    assert "bulk operation gone" in job.failures[0]["reason"]


@in_both_parsings
def test_a_full_sync_soft_deletes_what_shopify_deleted(fake_shopify):
    # given
    ids = [fake_shopify.add("products", children=1) for _ in range(4)]
    _run(fake_shopify, resources=["products"])
    fake_shopify.delete("products", ids[1])
    # when
    session = _run(fake_shopify, kind="full", resources=["products"])
    # then
    assert session.status == SyncSession.Status.COMPLETED
    deleted = Product.objects.filter(deleted_at__isnull=False).values_list("shopify_id", flat=True)
    assert list(deleted) == [ids[1]]
    assert session.jobs.get().deleted == 1
    assert Product.objects.filter(deleted_at__isnull=True).count() == 3


@in_both_parsings
def test_a_full_sync_resuming_an_older_export_keeps_rows_written_since_that_export(fake_shopify):
    # given: a full run that failed after its export of 4 products (window end = its start) ...
    ids = [fake_shopify.add("products", children=1) for _ in range(4)]
    operation_id = _run(fake_shopify, resources=["products"]).jobs.get().bulk_operation_id
    failed = ensure_sync(
        shop=fake_shopify.shop, kind="full", resources=["products"], triggered_by="cli"
    ).session
    failed.jobs.update(status="failed", started_at=failed.created_at, window_end=failed.created_at,
                       bulk_operation_id=operation_id, bulk_line=0, bulk_rounds=1)  # fmt: skip
    SyncSession.objects.filter(pk=failed.pk).update(status="failed", finished_at=failed.created_at)
    # ... and a product created since, already written here (as its webhook would)
    new_id = fake_shopify.add("products", children=1)
    _run(fake_shopify, resources=["products"])
    # when: the next full run inherits the failed run's checkpoint and reads its older export
    session = _run(fake_shopify, kind="full", resources=["products"])
    # then: the product the older export could not know is not taken for deleted
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert sorted(
        Product.objects.filter(deleted_at__isnull=True).values_list("shopify_id", flat=True)
    ) == sorted([*ids, new_id])
    assert session.jobs.get().deleted == 0


def test_an_initial_sync_resuming_an_older_export_sets_the_watermark_to_that_export(fake_shopify):
    # given: an export Shopify still has, held by an initial run that failed after taking it (window
    # end = its start), and no watermark yet (the shop never completed a sync)
    [fake_shopify.add("products", children=1) for _ in range(2)]
    operation_id = _run(fake_shopify, resources=["products"]).jobs.get().bulk_operation_id
    SyncCursor.objects.all().delete()
    failed = ensure_sync(
        shop=fake_shopify.shop, kind="initial", resources=["products"], triggered_by="cli"
    ).session
    exported_at = failed.created_at
    failed.jobs.update(status="failed", started_at=exported_at, window_end=exported_at,
                       bulk_operation_id=operation_id, bulk_line=0, bulk_rounds=1)  # fmt: skip
    SyncSession.objects.filter(pk=failed.pk).update(status="failed", finished_at=exported_at)
    # when: the next initial run inherits that checkpoint
    session = _run(fake_shopify, resources=["products"])
    # then: incremental runs go on from when the export was taken, not from this run's start, so a
    # change made in between (with no webhook) is still fetched
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert session.started_at > exported_at
    assert SyncCursor.objects.get(resource="products").updated_at == exported_at


def test_a_batch_whose_write_keeps_failing_is_stored_and_can_be_retried(fake_shopify, bulk_parsing):
    # given
    [fake_shopify.add("orders", name=f"#{n}") for n in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE shopsync_order ADD CONSTRAINT test_refuse_1 CHECK (name <> '#1')")
    # when
    session = _run(fake_shopify, resources=["orders"])
    # then
    assert session.status == SyncSession.Status.COMPLETED
    assert Order.objects.count() == 0
    batch = FailedSyncItem.objects.get(entity_type="batch")
    # stored as parsed: records, or the COPY text the child process encoded
    kept = batch.payload["records"] if bulk_parsing == "thread" else batch.payload["shopify_ids"]
    assert (batch.payload["resource"], batch.payload["format"], len(kept)) == (
        "orders",
        "records" if bulk_parsing == "thread" else "encoded",
        3,
    )
    job = session.jobs.get()
    assert job.failed == 3 and "write failed" in job.failures[0]["reason"]
    # and when the cause is gone
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE shopsync_order DROP CONSTRAINT test_refuse_1")
    result = retry_failed_batches(shop=fake_shopify.shop)
    batch.refresh_from_db()
    assert (result.retried_count, result.still_failed_count) == (1, 0)
    assert Order.objects.count() == 3
    assert (batch.resolution, batch.retry_count) == ("success", 0)  # retry_count counts failed retries


@in_both_parsings
def test_a_failed_batch_that_fails_again_stays_open(fake_shopify):
    # given
    fake_shopify.add("orders", name="#1")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE shopsync_order ADD CONSTRAINT test_refuse_1 CHECK (name <> '#1')")
    _run(fake_shopify, resources=["orders"])
    # when
    result = retry_failed_batches(shop=fake_shopify.shop)
    # then
    batch = FailedSyncItem.objects.get(entity_type="batch")
    assert (result.retried_count, result.still_failed_count) == (0, 1)
    assert (batch.resolved_at, batch.retry_count) == (None, 1)


def test_without_read_all_orders_the_run_says_only_60_days_are_visible(fake_shopify):
    # given
    fake_shopify.shop.scopes = "read_orders,read_customers"
    fake_shopify.shop.save()
    fake_shopify.add("orders")
    # when
    session = _run(fake_shopify, resources=["orders"])
    # then
    assert session.status == SyncSession.Status.COMPLETED
    assert "only the last 60 days of orders" in session.message


@in_both_parsings
def test_retrying_one_failed_batch_leaves_the_shops_other_batches_alone(fake_shopify):
    # given: two failed batches (two runs)
    fake_shopify.add("orders", name="#1")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE shopsync_order ADD CONSTRAINT test_refuse_1 CHECK (name <> '#1')")
    _run(fake_shopify, resources=["orders"])
    _run(fake_shopify, kind="full", resources=["orders"])
    first, second = FailedSyncItem.objects.filter(entity_type="batch").order_by("pk")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE shopsync_order DROP CONSTRAINT test_refuse_1")
    # when
    written = failed_batch_retry(item=second)
    # then
    first.refresh_from_db()
    assert written is True
    assert (second.resolution, second.retry_count) == ("success", 0)
    assert (first.resolved_at, first.retry_count) == (None, 0)
    assert Order.objects.count() == 1


def test_the_export_s_own_count_is_kept_on_the_job_while_shopify_prepares_it(fake_shopify):
    # given
    [fake_shopify.add("customers") for _ in range(5)]
    fake_shopify.next_bulk_running_polls = [2, 4]
    # when
    session = _run(fake_shopify, resources=["customers"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    job = session.jobs.get()
    assert (job.bulk_exported, job.bulk_status, job.synced, job.total) == (4, "COMPLETED", 5, 5)
