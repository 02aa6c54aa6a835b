"""Committing one batch: the rows, the dead letters of its invalid records, the ids seen (full mode),
the job's counters and its checkpoint, all in one short transaction (no Shopify I/O inside, R11).

The transaction ends with the fenced heartbeat, so a worker that lost its session (cleared,
cancelled, resumed elsewhere, shop uninstalled) rolls back instead of committing. At the end, not the
start: the fence's UPDATE locks the session's row until the commit, and held through a long write it
would keep the worker's pulse (which skips a locked row) from beating and stamp a heartbeat as old as
the write, so a big batch could be taken for a dead worker.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from shopsync.models import FailedSyncItem, Shop, SyncJob, SyncSeenRecord, SyncSession
from shopsync.models.sync import SyncKind
from shopsync.payloads.records import AnyRecord
from shopsync.resources import Resource
from shopsync.services.dead_letters import dead_letter_record
from shopsync.services.sync.config import sync_config
from shopsync.services.sync.database import database_connection_lost
from shopsync.services.sync.errors import SyncStopped
from shopsync.services.sync.record_codec import batch_to_json
from shopsync.services.sync.sessions import session_heartbeat
from shopsync.services.sync.units import InvalidRecord
from shopsync.services.upsert import EncodedBatch, UpsertMode, UpsertResult, record_ids, records_upsert

logger = logging.getLogger(__name__)

MAX_FAILURES_KEPT = 200
# The write path runs its statements on the raw driver cursor, so driver errors arrive unwrapped.
WRITE_ERRORS: tuple[type[Exception], ...] = (DatabaseError, psycopg.Error, sqlite3.Error)


@dataclass(slots=True)
class Batch:
    resource: Resource
    records: list[AnyRecord] | EncodedBatch  # encoded: parsed in the bulk child process
    where: dict  # {"page": n} or {"lines": [first, last]}
    checkpoint: dict  # SyncJob fields that move with this batch (bulk_line, page_cursor, watermark...)
    fetched: int  # root records read from Shopify in this batch (valid or not)
    invalid: list[InvalidRecord] = field(default_factory=list)
    pages: int = 0
    lines: int = 0
    # Run inside the batch's transaction after the write (e.g. move the shop's watermark with the data).
    in_transaction: Callable[[], None] | None = None


@dataclass(slots=True)
class JobContext:
    """What a running job needs to write: who it is, for which shop, under which fencing token."""

    session: SyncSession
    job: SyncJob
    token: int
    shop: Shop

    @property
    def resource(self) -> Resource:
        return Resource(self.job.resource)

    @property
    def upsert_mode(self) -> UpsertMode:
        return UpsertMode.POPULATE if self.job.mode == SyncKind.POPULATE else UpsertMode.LATEST_WINS

    @property
    def tracks_seen(self) -> bool:
        return self.job.mode == SyncKind.FULL


def batch_commit(*, ctx: JobContext, batch: Batch, api_calls: int = 0) -> UpsertResult | None:
    """Write the batch with its checkpoint. A write that keeps failing (after `SYNC_WRITE_ATTEMPTS`)
    stores the batch as a failed batch instead, and the checkpoint still moves on: the batch is not
    lost, it waits in the dead letters for `retry_failed_batches`. Returns None in that case."""
    attempts = sync_config().write_attempts
    error: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                result = records_upsert(
                    shop=ctx.shop, resource=ctx.resource, records=batch.records, mode=ctx.upsert_mode
                )
                _batch_bookkeeping(ctx=ctx, batch=batch, result=result, api_calls=api_calls)
                if batch.in_transaction is not None:
                    batch.in_transaction()
                _fence(ctx)
            return result
        except SyncStopped:
            raise
        except WRITE_ERRORS as exc:
            error = exc
            logger.warning("sync batch write failed (attempt %s/%s) job=%s %s: %s", attempt, attempts, ctx.job.pk,
                           batch.where, exc)  # fmt: skip
            if attempt == attempts and database_connection_lost(exc):
                # Not the batch's fault, and nowhere to store it: the runner reconnects and
                # resumes from the checkpoint, which this batch never moved.
                raise
            if attempt < attempts:
                time.sleep(min(0.2 * 2**attempt, 5))
    with transaction.atomic():
        _failed_batch_store(ctx=ctx, batch=batch, error=error)
        _batch_bookkeeping(ctx=ctx, batch=batch, result=None, api_calls=api_calls, write_error=error)
        _fence(ctx)
    return None


def _fence(ctx: JobContext) -> None:
    session_heartbeat(session=ctx.session, token=ctx.token)


def _batch_bookkeeping(
    *, ctx: JobContext, batch: Batch, result: UpsertResult | None, api_calls: int,
    write_error: BaseException | None = None,
) -> None:  # fmt: skip
    for invalid in batch.invalid:
        dead_letter_record(
            shop=ctx.shop, entity_type=ctx.resource.singular, shopify_id=invalid.shopify_id, payload=invalid.raw,
            error=invalid.error, source_ref=f"sync-job:{ctx.job.pk}",
        )  # fmt: skip
    if ctx.tracks_seen:
        ids = record_ids(batch.records) + [i.shopify_id for i in batch.invalid if i.shopify_id]
        seen_ids_add(job_id=ctx.job.pk, shopify_ids=ids)
    failures = [{**i.where, "shopify_id": i.shopify_id, "reason": i.error[:300]} for i in batch.invalid]
    if write_error is not None:
        failures.append(
            {**batch.where, "shopify_id": None, "reason": f"write failed: {str(write_error)[:280]}"}
        )
    counts = {
        "synced": F("synced") + batch.fetched,
        "failed": F("failed") + len(batch.invalid) + (len(batch.records) if result is None else 0),
        "pages_done": F("pages_done") + batch.pages,
        "lines_done": F("lines_done") + batch.lines,
        "api_calls": F("api_calls") + api_calls,
    }
    if result is not None:
        counts |= {
            "created": F("created") + result.created,
            "updated": F("updated") + result.updated,
            "skipped": F("skipped") + result.skipped_stale + result.unchanged + result.skipped_existing,
            "unchanged": F("unchanged") + result.unchanged,
        }
    now = timezone.now()
    updates = {**counts, **batch.checkpoint, "checkpoint_at": now, "updated_at": now}
    if failures:
        kept = (ctx.job.failures + failures)[-MAX_FAILURES_KEPT:]
        updates["failures"] = kept
    SyncJob.objects.filter(pk=ctx.job.pk).update(**updates)
    for name, value in batch.checkpoint.items():
        setattr(ctx.job, name, value)
    if failures:
        ctx.job.failures = updates["failures"]


def _failed_batch_store(*, ctx: JobContext, batch: Batch, error: BaseException | None) -> None:
    dead_letter_record(
        shop=ctx.shop,
        entity_type=FailedSyncItem.EntityType.BATCH,
        payload={
            "resource": ctx.resource.value,
            "mode": ctx.upsert_mode.value,
            "session_id": ctx.session.pk,
            "job_id": ctx.job.pk,
            "where": batch.where,
            **batch_to_json(batch.records),
        },
        error=error or "batch write failed",
        source_ref=f"sync-job:{ctx.job.pk}",
    )


def seen_ids_add(*, job_id: int, shopify_ids: Sequence[int]) -> None:
    """Remember ids a full sync saw. One statement per batch; a resumed batch may repeat ids."""
    if not shopify_ids:
        return
    if connection.vendor != "postgresql":
        rows = [SyncSeenRecord(job_id=job_id, shopify_id=shopify_id) for shopify_id in set(shopify_ids)]
        SyncSeenRecord.objects.bulk_create(rows, ignore_conflicts=True)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO shopsync_syncseenrecord (job_id, shopify_id) "
            "SELECT %s, unnest(%s::bigint[]) ON CONFLICT DO NOTHING",
            [job_id, list(shopify_ids)],
        )


def job_api_calls_add(*, job: SyncJob, calls: int) -> None:
    if calls:
        SyncJob.objects.filter(pk=job.pk).update(api_calls=F("api_calls") + calls)
