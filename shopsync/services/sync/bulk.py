"""The bulk engine (initial, full, populate): one bulk operation per resource, its JSONL streamed in
constant memory into the write path in large batches, each batch committed with its checkpoint.

Per job:
1. Start the bulk query (`sortKey: ID`), unless the checkpoint already names one; "operation in
   progress" is waited out. Its id is committed at once, so a resumed run re-attaches to it.
2. Wait for it (polling with back-off; the `bulk_operations/finish` webhook wakes the wait early).
3. Stream `url` (or, for FAILED/CANCELED, `partialDataUrl`) from the checkpointed line.
4. FAILED/CANCELED/EXPIRED: start a follow-up query for what is left (`id:>` the last root id
   consumed) and go to 2. A round that brings nothing new counts against a small budget.
5. Full mode: soft-delete the shop's rows of this resource that Shopify no longer has.

On API versions from 2026-01 the jobs' operations run concurrently on Shopify's side (up to the
version's limit); before that one at a time. The JSONL of each is consumed in turn.

Large deltas (incremental, update) read their window the same way, through `bulk_delta_read`: steps
1-4 with the query filtered on the window's `updated_at` (contract §2.1, §8.12), called by the paged
engine when Shopify's count of the window is above `SYNC_BULK_DELTA_THRESHOLD`.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import orjson
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from shopsync.models import SyncJob, SyncSeenRecord, SyncSession
from shopsync.models.sync import SyncKind
from shopsync.payloads.bulk_jsonl import BulkBatch, BulkLineError
from shopsync.resources import Resource, declaration_for
from shopsync.services.sync.bulk_reading import bulk_batches, parse_process_wanted
from shopsync.services.sync.config import sync_config
from shopsync.services.sync.graphql_queries import bulk_query, search_time, shop_namespaces, updated_at_search
from shopsync.services.sync.jobs import job_complete, job_fail, job_start
from shopsync.services.sync.order_children_pass import (
    NestedPartsFollower,
    nested_parts_alongside,
    nested_parts_pass,
)
from shopsync.services.sync.parse_process import ParsedBatch
from shopsync.services.sync.sessions import Heartbeat, session_heartbeat
from shopsync.services.sync.slicing import slice_used_up, slice_yield, slice_yield_while_exporting
from shopsync.services.sync.units import InvalidRecord
from shopsync.services.sync.writing import Batch, JobContext, batch_commit
from shopsync.services.upsert import record_ids, records_analyze, records_soft_delete
from shopsync.shopify import ShopifyAccessDenied, ShopifyClient, ShopifyError, ShopifyPermanentError
from shopsync.shopify.bulk import (
    BulkOperation,
    BulkOperationInProgress,
    ByteAnchor,
    DownloadAnchors,
    bulk_concurrency_limit,
    bulk_operation_wait,
    bulk_query_start,
    bulk_result_blocks,
    next_poll_interval,
)
from shopsync.shopify.queries import count_parse, count_query

logger = logging.getLogger(__name__)

# Kinds whose jobs read a window of `updated_at` (paged, or by bulk when large: `bulk_delta_read`).
DELTA_KINDS = (SyncKind.INCREMENTAL, SyncKind.UPDATE)
# Follow-up rounds after a FAILED/CANCELED operation that brought no new record, before giving up.
MAX_EMPTY_ROUNDS = 3
MAX_POLL_INTERVAL_SECONDS = 30.0
SOFT_DELETE_CHUNK = 5000
# A result download answered with one of these: the signed URL expired or is unknown.
EXPORT_GONE_STATUSES = frozenset({403, 404, 410})


def bulk_jobs_run(*, contexts: list[JobContext], client: ShopifyClient) -> None:
    """Run every job, keeping up to the API version's number of bulk operations in flight."""
    limit = bulk_concurrency_limit(client.shop.api_version)
    pending, in_flight = list(contexts), []
    while pending or in_flight:
        while pending and len(in_flight) < limit:
            ctx = pending.pop(0)
            if _guarded(ctx, lambda ctx=ctx: _job_begin(ctx, client)):
                in_flight.append(ctx)
        if in_flight:
            ctx = in_flight.pop(0)
            _guarded(ctx, lambda ctx=ctx: _job_drive(ctx, client))


def _guarded(ctx: JobContext, step) -> bool:
    """Run a job step; a permanent Shopify error fails that job only (the others go on)."""
    try:
        step()
    except ShopifyPermanentError as exc:
        job_fail(ctx=ctx, error=str(exc))
        return False
    return True


def _job_begin(ctx: JobContext, client: ShopifyClient) -> None:
    if ctx.job.status != SyncJob.Status.RUNNING or ctx.job.window_end is None:
        window_start = None
        if ctx.job.mode == SyncKind.POPULATE and ctx.job.days:
            window_start = ctx.session.started_at - timedelta(days=ctx.job.days)
        job_start(ctx=ctx, window_start=ctx.job.window_start or window_start,
                  window_end=ctx.job.window_end or ctx.session.started_at)  # fmt: skip
    if ctx.job.total is None:
        _total_estimate(ctx, client)
    _operation_ensure_started(ctx, client)


def _search(ctx: JobContext) -> str | None:
    terms = []
    if ctx.job.mode in DELTA_KINDS and declaration_for(ctx.resource).windowed:
        terms.append(updated_at_search(ctx.job.window_start, ctx.job.window_end))
    if ctx.job.mode == SyncKind.POPULATE and ctx.job.window_start is not None:
        terms.append(f"created_at:>='{search_time(ctx.job.window_start)}'")
    if ctx.job.bulk_after_id is not None:
        terms.append(f"id:>{ctx.job.bulk_after_id}")
    return " ".join(term for term in terms if term) or None


def _total_estimate(ctx: JobContext, client: ShopifyClient) -> None:
    """`ordersCount` etc. for the progress bar ("1,234 / 5,000"); best effort."""
    declaration = declaration_for(ctx.resource)
    connection = declaration.connection
    request = count_query(connection, query_filter=_search(ctx), uncapped=declaration.count_uncapped)
    before = client.graphql_calls
    try:
        total = count_parse(client.graphql(request.query, request.variables), connection)
    except ShopifyError as exc:
        logger.info("no %s count for %s: %s", connection, ctx.shop, exc)
        return
    finally:
        _api_calls(ctx, client.graphql_calls - before)
    SyncJob.objects.filter(pk=ctx.job.pk, total__isnull=True).update(total=total)
    ctx.job.total = total


def _operation_ensure_started(ctx: JobContext, client: ShopifyClient, *, wait_for_slot: bool = True) -> None:
    """Start the job's bulk query unless its checkpoint names one. The shop's bulk slot taken is
    waited out, or (`wait_for_slot` False) raises `BulkOperationInProgress`."""
    if ctx.job.bulk_operation_id:
        return  # resuming: re-attach to the operation the checkpoint names
    query = bulk_query(ctx.resource, _search(ctx), namespaces=shop_namespaces(ctx.shop))
    heartbeat = Heartbeat(ctx.session, ctx.token)
    config = sync_config()
    waiting_since = time.monotonic()
    deadline = waiting_since + config.bulk_timeout_seconds
    before = client.graphql_calls
    while True:
        try:
            operation = bulk_query_start(client, query)
            break
        except BulkOperationInProgress as exc:
            # The shop's bulk slot is taken (an operation of ours a dead worker left, or one started
            # by hand): wait it out.
            if not wait_for_slot or time.monotonic() > deadline:
                raise
            heartbeat.beat(
                message=f"Waiting for a running bulk operation to finish ({exc.running_id or 'busy'})."
            )
            interval = next_poll_interval(
                time.monotonic() - waiting_since,
                poll_interval=float(config.bulk_poll_interval_seconds),
                max_poll_interval=MAX_POLL_INTERVAL_SECONDS,
            )
            _sleep_with_heartbeat(interval, heartbeat)
    with transaction.atomic():
        session_heartbeat(session=ctx.session, token=ctx.token, stage=SyncSession.Stage.BULK_RUNNING)
        SyncJob.objects.filter(pk=ctx.job.pk).update(
            bulk_operation_id=operation.id, bulk_status=operation.status, bulk_url="", bulk_line=0, bulk_byte_line=0, bulk_byte_offset=0,
            bulk_finished_at=None, bulk_rounds=F("bulk_rounds") + 1, api_calls=F("api_calls") + client.graphql_calls - before,
            checkpoint_at=timezone.now(), updated_at=timezone.now(),
        )  # fmt: skip
    ctx.job.refresh_from_db()
    logger.info("sync job %s: bulk operation %s started (%s)", ctx.job.pk, operation.id, ctx.resource)


def _sleep_with_heartbeat(seconds: float, heartbeat: Heartbeat) -> None:
    until = time.monotonic() + seconds
    while (left := until - time.monotonic()) > 0:
        time.sleep(min(1.0, left))
        heartbeat.beat()


def _job_drive(ctx: JobContext, client: ShopifyClient) -> None:
    _export_with_parts_read(ctx, client)
    if ctx.job.mode == SyncKind.FULL:
        _soft_delete_unseen(ctx)
    backfill = ctx.job.mode in (SyncKind.INITIAL, SyncKind.FULL)
    # A backfill holds everything Shopify had when its export was taken (the job's window end, which
    # an inherited checkpoint carries over from an older run): incremental runs go on from there.
    as_of = ctx.job.window_end or ctx.session.started_at
    job_complete(ctx=ctx, watermark=(as_of, 0) if backfill else None)


def bulk_delta_read(*, ctx: JobContext, client: ShopifyClient) -> bool:
    """Read a large delta (an incremental or update job, its window and count set by the paged
    engine) with a bulk query filtered on the window's `updated_at` instead of pages: started,
    checkpointed, streamed and resumed exactly like a backfill's export (a resumed job re-attaches to
    the operation its checkpoint names, or continues after `bulk_after_id`). The job is not completed
    here: the caller reads the deletion events and completes it.

    False, with nothing done, when the shop's bulk slot is taken before this job started an
    operation (a backfill's export on a version allowing one at a time): the caller pages instead,
    rather than hold a worker waiting for the slot."""
    started = bool(ctx.job.bulk_operation_id or ctx.job.bulk_rounds)
    try:
        _operation_ensure_started(ctx, client, wait_for_slot=started)
    except BulkOperationInProgress as exc:
        logger.info("sync job %s: bulk slot taken (%s); paging the delta instead", ctx.job.pk, exc)
        return False
    _export_with_parts_read(ctx, client)
    return True


def _export_with_parts_read(ctx: JobContext, client: ShopifyClient) -> None:
    """The export, and the parts it cannot carry (refunds' and fulfillments' line items): read beside
    the write by a thread that follows the commits, then in the run for whatever it did not reach."""
    with nested_parts_alongside(ctx=ctx) as follower:
        _export_read(ctx, client, follower)
    after = follower.after if follower is not None else 0
    nested_parts_pass(ctx=ctx, client=client, after=after)


def _export_read(ctx: JobContext, client: ShopifyClient, follower: NestedPartsFollower | None = None) -> None:
    """Wait for the job's operation and stream its export; after a FAILED/CANCELED/EXPIRED one, a
    follow-up for what is left, until one COMPLETED export has been read to its end."""
    empty_rounds = 0
    while True:
        synced_before = ctx.job.synced
        try:
            operation = _operation_wait(ctx, client)
            url = operation.url if operation.status == "COMPLETED" else operation.partial_data_url
            if url:
                _consume(ctx, url, object_count=operation.object_count, follower=follower)
        except ShopifyPermanentError as exc:
            if not _export_gone(exc):
                raise
            empty_rounds = 0 if ctx.job.synced > synced_before else empty_rounds + 1
            if empty_rounds >= MAX_EMPTY_ROUNDS:
                raise
            _export_lost(ctx, exc)
            _operation_ensure_started(ctx, client)
            continue
        if operation.status == "COMPLETED":
            break
        if operation.error_code == "ACCESS_DENIED":
            raise ShopifyAccessDenied(
                f"bulk operation {operation.id} failed: ACCESS_DENIED", code="ACCESS_DENIED"
            )
        empty_rounds = 0 if ctx.job.synced > synced_before else empty_rounds + 1
        if empty_rounds >= MAX_EMPTY_ROUNDS:
            raise ShopifyPermanentError(
                f"bulk operation {operation.id} ended {operation.status} ({operation.error_code}) "
                f"{empty_rounds} times without new data"
            )
        _round_note(ctx, operation)
        _operation_ensure_started(ctx, client)


def _export_gone(exc: ShopifyPermanentError) -> bool:
    """The checkpoint's operation is unknown to Shopify (expired, or a simulator restarted), or its
    result URL no longer opens (signed URLs expire after a week)."""
    return exc.code == "NOT_FOUND" or exc.status in EXPORT_GONE_STATUSES


def _export_lost(ctx: JobContext, exc: ShopifyPermanentError) -> None:
    """Forget the lost operation but keep `bulk_after_id`: a new export continues after it."""
    logger.warning("sync job %s: bulk operation %s is gone (%s); starting a new export after id %s",
                   ctx.job.pk, ctx.job.bulk_operation_id, exc, ctx.job.bulk_after_id)  # fmt: skip
    failure = {"operation": ctx.job.bulk_operation_id, "shopify_id": None,
               "reason": f"bulk operation gone ({str(exc)[:200]}); resumed with a new export"}  # fmt: skip
    with transaction.atomic():
        session_heartbeat(session=ctx.session, token=ctx.token)
        SyncJob.objects.filter(pk=ctx.job.pk).update(
            bulk_operation_id="", bulk_status="", bulk_url="", bulk_line=0, bulk_byte_line=0, bulk_byte_offset=0, bulk_finished_at=None,
            failures=[*ctx.job.failures, failure][-200:], updated_at=timezone.now(),
        )  # fmt: skip
    ctx.job.refresh_from_db()


def _round_note(ctx: JobContext, operation: BulkOperation) -> None:
    """Record the interrupted operation and clear it from the checkpoint: the next one continues
    after `bulk_after_id`."""
    logger.warning("sync job %s: bulk operation %s ended %s (%s); continuing after id %s", ctx.job.pk,
                   operation.id, operation.status, operation.error_code, ctx.job.bulk_after_id)  # fmt: skip
    failure = {"operation": operation.id, "shopify_id": None,
               "reason": f"bulk operation {operation.status.lower()} ({operation.error_code}); resumed"}  # fmt: skip
    with transaction.atomic():
        session_heartbeat(session=ctx.session, token=ctx.token)
        SyncJob.objects.filter(pk=ctx.job.pk).update(
            bulk_operation_id="", bulk_url="", bulk_line=0, bulk_byte_line=0, bulk_byte_offset=0, bulk_finished_at=None,
            failures=[*ctx.job.failures, failure][-200:], updated_at=timezone.now(),
        )  # fmt: skip
    ctx.job.refresh_from_db()


def _export_progress(ctx: JobContext, operation: BulkOperation) -> None:
    """The export's own count while Shopify prepares it, for the pages (one UPDATE, only when it moved)."""
    if (operation.status, operation.root_object_count) == (ctx.job.bulk_status, ctx.job.bulk_exported):
        return
    SyncJob.objects.filter(pk=ctx.job.pk).update(
        bulk_status=operation.status, bulk_exported=operation.root_object_count
    )
    ctx.job.bulk_status, ctx.job.bulk_exported = operation.status, operation.root_object_count


def _operation_wait(ctx: JobContext, client: ShopifyClient) -> BulkOperation:
    heartbeat = Heartbeat(ctx.session, ctx.token)
    woken = False

    def wake() -> bool:
        nonlocal woken
        heartbeat.beat()
        if not woken and SyncJob.objects.filter(pk=ctx.job.pk, bulk_finished_at__isnull=False).exists():
            woken = True  # once: after that, keep the normal polling rhythm
            return True
        return False

    def on_poll(operation: BulkOperation) -> None:
        heartbeat.beat(
            stage=SyncSession.Stage.BULK_RUNNING,
            message=f"Shopify is preparing the {ctx.resource.value} export ({operation.object_count:,} objects so far).",
        )
        _export_progress(ctx, operation)
        # Fair turns: no process sleeps through a long export; the next slice polls the same operation.
        slice_yield_while_exporting(operation_id=operation.id, created_at=operation.created_at,
                                    poll_interval=config.bulk_poll_interval_seconds,
                                    max_poll_interval=MAX_POLL_INTERVAL_SECONDS)  # fmt: skip

    config = sync_config()
    before = client.graphql_calls
    try:
        operation = bulk_operation_wait(
            client, ctx.job.bulk_operation_id, poll_interval=config.bulk_poll_interval_seconds,
            max_poll_interval=MAX_POLL_INTERVAL_SECONDS, timeout=config.bulk_timeout_seconds, wake=wake,
            on_poll=on_poll,
        )  # fmt: skip
    finally:
        _api_calls(ctx, client.graphql_calls - before)
    # The first export holds every root; a follow-up holds what is left after the roots synced so far.
    if ctx.job.bulk_rounds <= 1:
        total = operation.root_object_count
    else:
        total = max(ctx.job.total or 0, ctx.job.synced + operation.root_object_count)
    SyncJob.objects.filter(pk=ctx.job.pk).update(
        bulk_status=operation.status, bulk_url=operation.url or operation.partial_data_url or "", total=total,
        updated_at=timezone.now(),
    )  # fmt: skip
    ctx.job.total = total
    session_heartbeat(session=ctx.session, token=ctx.token, stage=SyncSession.Stage.WRITING,
                      message=f"Writing {ctx.resource.value}.")  # fmt: skip
    return operation


def _consume(ctx: JobContext, url: str, *, object_count: int, follower: NestedPartsFollower | None) -> None:
    consumed = ctx.job.bulk_line
    # A resumed read asks for the bytes after the checkpoint's anchor instead of the whole export.
    start = _start_anchor(ctx.job)
    anchors = DownloadAnchors(start or ByteAnchor(lines=0, offset=0))
    blocks = bulk_result_blocks(url, start_line=consumed, start_anchor=start, anchors=anchors)
    # Download and parse the next batches while this one is written (in a child process when large).
    batches = bulk_batches(
        blocks, resource=ctx.resource, batch_size=sync_config().bulk_batch_size, start_line=consumed + 1,
        in_child=parse_process_wanted(expected_lines=object_count - consumed),
    )  # fmt: skip
    statistics = _StatisticsRefresh(ctx.resource)
    for bulk_batch in batches:
        resume_line = bulk_batch.resume_line - 1
        root_errors = [e for e in bulk_batch.errors if not e.is_child]
        anchor = anchors.at_or_before(resume_line)
        batch = Batch(
            resource=ctx.resource,
            records=bulk_batch.records,
            where={"lines": [consumed + 1, resume_line], "operation": ctx.job.bulk_operation_id},
            checkpoint={
                "bulk_line": resume_line,
                "bulk_after_id": _after_id(ctx, bulk_batch),
                "bulk_byte_line": anchor.lines,
                "bulk_byte_offset": anchor.offset,
            },
            fetched=len(bulk_batch.records) + len(root_errors),
            invalid=_invalid_records(bulk_batch.errors),
            pages=1,
            lines=resume_line - consumed,
        )
        result = batch_commit(ctx=ctx, batch=batch)
        if follower is not None:
            follower.advance(ctx.job.bulk_after_id)
        ctx.job.synced += batch.fetched
        consumed = resume_line
        statistics.written(result.written if result else 0)
        if slice_used_up():  # fair turns: yield at a batch boundary, its checkpoint committed
            batches.close()  # the parsing thread or child process ends now, not when collected
            slice_yield(where=f"line {consumed} of bulk operation {ctx.job.bulk_operation_id}")


def _start_anchor(job: SyncJob) -> ByteAnchor | None:
    """The checkpoint's byte anchor, if it belongs to the read being resumed (at or before its line)."""
    if 0 < job.bulk_byte_line <= job.bulk_line:
        return ByteAnchor(lines=job.bulk_byte_line, offset=job.bulk_byte_offset)
    return None


class _StatisticsRefresh:
    """ANALYZE the resource's tables after the first `analyze_after_rows` rows this job wrote, then
    each time that count doubles (see `records_analyze`)."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.rows = 0
        self.next_at = sync_config().analyze_after_rows

    def written(self, rows: int) -> None:
        self.rows += rows
        if self.next_at > 0 and self.rows >= self.next_at:
            records_analyze(resource=self.resource)
            self.next_at = 2 * self.rows


def _after_id(ctx: JobContext, bulk_batch: BulkBatch | ParsedBatch) -> int | None:
    """Where a follow-up export starts (`id:>`): the largest root id this batch read, valid or not.
    Child errors never count: their `child_id` is a line item's or variant's id (far larger than any
    root's), and the export's roots are in id order while a child may name any parent."""
    ids = record_ids(bulk_batch.records) + [
        e.shopify_id for e in bulk_batch.errors if not e.is_child and e.shopify_id is not None
    ]
    return max([*ids, ctx.job.bulk_after_id or 0]) or None


def _invalid_records(errors: list[BulkLineError]) -> list[InvalidRecord]:
    """Dead letters for a batch's errors: one per broken root line, and one per parent whose child
    lines failed (a request to refetch that parent, keyed by the parent's id, with the raw lines)."""
    invalid: list[InvalidRecord] = []
    children: dict[int | None, list[BulkLineError]] = {}
    for error in errors:
        if error.is_child:
            children.setdefault(error.shopify_id, []).append(error)
        else:
            invalid.append(
                InvalidRecord(shopify_id=error.shopify_id, raw=_raw(error), error=error.message,
                              where={"line": error.line_number})
            )  # fmt: skip
    for parent_id, group in children.items():
        child_ids = [e.child_id for e in group if e.child_id is not None]
        invalid.append(
            InvalidRecord(
                shopify_id=parent_id,
                raw={"lines": [_raw(e) for e in group], "child_ids": child_ids},
                error="; ".join(e.message for e in group),
                where={"line": group[0].line_number, "child_ids": child_ids},
            )
        )
    return sorted(invalid, key=lambda i: i.where["line"])


def _raw(error: BulkLineError) -> object:
    try:
        return orjson.loads(error.raw_line)
    except orjson.JSONDecodeError:
        return {"raw_line": error.raw_line.decode(errors="replace")}


def _soft_delete_unseen(ctx: JobContext) -> None:
    """Soft-delete the shop's rows this full run did not see in Shopify. Rows our write path touched
    after the job's window end (webhooks) are left alone: the export cannot know about them. The
    window end, not this session's start: a job that inherited a failed run's checkpoint reads that
    run's export, taken back then (rows written since were soft-deleted for good)."""
    session_heartbeat(session=ctx.session, token=ctx.token, stage=SyncSession.Stage.DELETING,
                      message=f"Marking {ctx.resource.value} deleted in Shopify.")  # fmt: skip
    model = declaration_for(ctx.resource).model
    as_of = ctx.job.window_end or ctx.session.started_at
    seen = SyncSeenRecord.objects.filter(job_id=ctx.job.pk, shopify_id=OuterRef("shopify_id"))
    unseen = (
        model.objects.filter(shop=ctx.shop, deleted_at__isnull=True, synced_at__lt=as_of)
        .exclude(Exists(seen))
        .order_by("shopify_id")
        .values_list("shopify_id", flat=True)
    )
    last_id = -1
    while ids := list(unseen.filter(shopify_id__gt=last_id)[:SOFT_DELETE_CHUNK]):
        with transaction.atomic():
            session_heartbeat(session=ctx.session, token=ctx.token)
            deleted = records_soft_delete(
                shop=ctx.shop, resource=ctx.resource, shopify_ids=ids, deleted_at=timezone.now()
            )
            SyncJob.objects.filter(pk=ctx.job.pk).update(
                deleted=F("deleted") + deleted, updated_at=timezone.now()
            )
        last_id = ids[-1]
    ctx.job.refresh_from_db()


def _api_calls(ctx: JobContext, calls: int) -> None:
    if calls:
        SyncJob.objects.filter(pk=ctx.job.pk).update(api_calls=F("api_calls") + calls)
