"""The paged engine (incremental, update): cursor-paginated GraphQL queries sorted by UPDATED_AT over
a window of `updated_at`, each page committed with its cursor and watermark.

- incremental: from the shop's watermark minus a small overlap, up to the run's start; then the
  resource's deletion events since the last run (`deletion_events.py`);
- update: the last `stale_after_mins` minutes, up to the run's start.

The watermark is `(updated_at, shopify_id)` of committed data. Within a run the page cursor carries
the position, so any number of records sharing one `updated_at` neither stall nor get skipped; if a
checkpointed cursor is no longer accepted, the run restarts from the committed watermark and skips
records at or before it (ties broken by id). Incremental runs move the shop's `SyncCursor` in each
page's transaction, never past the run's start (the query's upper bound).

A window holding at least `SYNC_BULK_DELTA_THRESHOLD` records (Shopify's count, taken first) is read
by a bulk query over the same window instead (`bulk.bulk_delta_read`); the deletion events are read
after it all the same.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from shopsync.models import SyncSession
from shopsync.models.sync import SyncKind
from shopsync.resources import declaration_for
from shopsync.services.sync.bulk import bulk_delta_read
from shopsync.services.sync.by_id import nested_parts_complete, records_fetch_by_ids
from shopsync.services.sync.config import sync_config
from shopsync.services.sync.deletion_events import deletion_events_apply
from shopsync.services.sync.graphql_queries import (
    child_first_page,
    page_query,
    query_cost_from_error,
    shop_namespaces,
    updated_at_search,
)
from shopsync.services.sync.jobs import cursor_advance, cursor_get, job_complete, job_start
from shopsync.services.sync.query_cost import page_size
from shopsync.services.sync.sessions import session_heartbeat
from shopsync.services.sync.slicing import slice_yield
from shopsync.services.sync.units import nodes_parse
from shopsync.services.sync.writing import Batch, JobContext, batch_commit
from shopsync.shopify import ShopifyClient, ShopifyPermanentError
from shopsync.shopify.queries import count_parse, count_query, gid_to_id

logger = logging.getLogger(__name__)

MAX_COST_EXCEEDED = "MAX_COST_EXCEEDED"
MAX_QUERY_COST = 1000
# Children fetched with each root come from the declarations (`first_page`); roots per page are
# computed from the query's requested cost (`query_cost.page_size`: Shopify reserves `first` x
# per-node cost, nested connections multiplied in, before running it, and the client paces on it),
# so each page stays within the 1000-point limit whatever the selection holds, even when the page
# comes back empty. Roots with more children get them from `children_query` pages.
# SYNC_PAGE_SIZE caps the roots per page.
Watermark = tuple[datetime, int]


def paged_job_run(*, ctx: JobContext, client: ShopifyClient) -> None:
    _begin(ctx, client)
    watermark = None
    if _by_bulk(ctx) and bulk_delta_read(ctx=ctx, client=client):
        # The export was taken after the window's end and holds every record updated in it (one
        # updated again since has a later `updated_at`, for the next run): the shop's watermark
        # moves to the window's end, as after a backfill.
        watermark = (ctx.job.window_end, 0) if ctx.job.mode == SyncKind.INCREMENTAL else None
    else:
        _Pager(ctx, client).run()
        if (
            ctx.job.mode == SyncKind.INCREMENTAL
            and declaration_for(ctx.resource).page_sort_key != "UPDATED_AT"
        ):
            # Every page is in: the run read everything updated up to its window's end.
            watermark = (ctx.job.window_end, 0)
    if ctx.job.mode == SyncKind.INCREMENTAL:
        deletion_events_apply(ctx=ctx, client=client)
    job_complete(ctx=ctx, watermark=watermark)


def _by_bulk(ctx: JobContext) -> bool:
    """A large delta is read by a bulk query (`bulk_delta_read`): an order page requests about 1,000
    points for 20 orders, so pages crawl at the shop's restore rate (about 3 orders/s on a standard
    plan) where a bulk export costs a few requests whatever its size. A resumed job keeps the path
    its checkpoint is on."""
    job = ctx.job
    if job.bulk_operation_id or job.bulk_rounds:
        return True
    if job.page_cursor or job.pages_done:
        return False
    threshold = sync_config().bulk_delta_threshold
    return threshold > 0 and job.total is not None and job.total >= threshold


def _begin(ctx: JobContext, client: ShopifyClient) -> None:
    if ctx.job.window_end is None:
        start, end = _window(ctx)
        job_start(ctx=ctx, window_start=start, window_end=end)
    else:
        job_start(ctx=ctx)
    session_heartbeat(session=ctx.session, token=ctx.token, stage=SyncSession.Stage.FETCHING,
                      message=f"Fetching changed {ctx.resource.value}.")  # fmt: skip
    if ctx.job.total is None:
        declaration = declaration_for(ctx.resource)
        connection = declaration.connection
        request = count_query(
            connection, query_filter=_window_search(ctx) or None, uncapped=declaration.count_uncapped
        )
        try:
            ctx.job.total = count_parse(client.graphql(request.query, request.variables), connection)
        except ShopifyPermanentError as exc:
            logger.info("no %s count for %s: %s", connection, ctx.shop, exc)
        else:
            type(ctx.job).objects.filter(pk=ctx.job.pk).update(total=ctx.job.total)


def _window_search(ctx: JobContext) -> str:
    """The run's search: its window of `updated_at`, or nothing for a resource read whole each run."""
    if not declaration_for(ctx.resource).windowed:
        return ""
    return updated_at_search(ctx.job.window_start, ctx.job.window_end)


def _window(ctx: JobContext) -> tuple[datetime | None, datetime]:
    end = ctx.session.started_at
    if ctx.job.mode == SyncKind.UPDATE:
        return end - timedelta(minutes=ctx.job.stale_after_mins or 0), end
    cursor = cursor_get(ctx=ctx)
    if cursor is None:
        return None, end  # never synced: everything (a backfill is the better tool)
    return cursor.updated_at - timedelta(seconds=sync_config().incremental_overlap_seconds), end


class _Pager:
    def __init__(self, ctx: JobContext, client: ShopifyClient) -> None:
        self.ctx = ctx
        self.client = client
        self.declaration = declaration_for(ctx.resource)
        namespaces = shop_namespaces(ctx.shop)
        # The connections this shop's pages select (metafields only in the namespaces it chose).
        self.connections = self.declaration.selected_connections(namespaces)
        self.query = page_query(ctx.resource, namespaces)
        self.first = min(page_size(ctx.resource, namespaces), sync_config().page_size)
        self.child_first = child_first_page(ctx.resource, namespaces)
        self.search = _window_search(ctx)
        # Pages not sorted by updated_at cannot checkpoint a watermark: it moves when the run completes.
        self.checkpoints_watermark = self.declaration.page_sort_key == "UPDATED_AT"
        self.skip_through: Watermark | None = None

    def run(self) -> None:
        cursor = self.ctx.job.page_cursor or None
        while True:
            before = self.client.graphql_calls
            connection = self._fetch(cursor)
            if connection is None:  # the checkpointed cursor was refused: restart from the watermark
                cursor = None
                continue
            # The page is sent: its follow-up reads (children past their first page) finish it even
            # if they must wait for the budget, or a deferral would throw the page away each try.
            with self.client.pacing_waits_in_process():
                units = [self._unit(node) for node in connection.get("nodes") or []]
            page_info = connection.get("pageInfo") or {}
            self._commit(
                units,
                page_info.get("endCursor") or cursor or "",
                api_calls=self.client.graphql_calls - before,
            )
            if not page_info.get("hasNextPage") or not page_info.get("endCursor"):
                return
            cursor = page_info["endCursor"]
            slice_yield(where=f"page {self.ctx.job.pages_done}")  # fair turns: the page is committed

    def _fetch(self, cursor: str | None) -> dict[str, Any] | None:
        variables = {"first": self.first, "after": cursor, "query": self.search}
        if self.connections:
            variables["childFirst"] = self.child_first
        try:
            data = self.client.graphql(self.query, variables)
        except ShopifyPermanentError as exc:
            if exc.code == MAX_COST_EXCEEDED and self._shrink(str(exc)):
                return self._fetch(cursor)
            if cursor and exc.code != MAX_COST_EXCEEDED:
                self._restart_from_watermark(exc)
                return None
            raise
        return data[self.declaration.connection]

    def _shrink(self, message: str) -> bool:
        """Fit the page under Shopify's single-query cost limit; False if it cannot shrink further."""
        cost = query_cost_from_error(message)
        if self.first > 1:
            scaled = int(self.first * MAX_QUERY_COST / cost * 0.9) if cost else self.first // 2
            self.first = max(1, min(self.first - 1, scaled))
            return True
        if self.child_first > 1:
            self.child_first = max(1, self.child_first // 2)
            return True
        return False

    def _restart_from_watermark(self, exc: Exception) -> None:
        job = self.ctx.job
        logger.warning("sync job %s: cursor refused (%s); restarting from the watermark", job.pk, exc)
        if job.watermark_updated_at is not None:
            self.search = updated_at_search(job.watermark_updated_at, job.window_end)
            self.skip_through = (job.watermark_updated_at, job.watermark_id or 0)

    def _unit(self, node: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]] | None]:
        connections = self.connections
        nested_parts_complete(self.client, self.declaration, node)
        if not connections:
            return node, None
        shopify_id = _readable_id(node)
        more = any(
            ((node.get(c.graphql_field) or {}).get("pageInfo") or {}).get("hasNextPage") for c in connections
        )
        if shopify_id is None or not more:
            children = {
                c.name: list((node.pop(c.graphql_field, None) or {}).get("nodes") or []) for c in connections
            }
            return node, children
        # An order with hundreds of line items arrives complete: the rest of its children by its id.
        unit = records_fetch_by_ids(
            client=self.client,
            resource=self.ctx.resource,
            shopify_ids=[shopify_id],
            fetched={shopify_id: node},
        )[shopify_id]
        return unit["node"], unit["children"]

    def _commit(self, units: list, end_cursor: str, *, api_calls: int) -> None:
        ctx = self.ctx
        fetched = len(units)
        if self.skip_through is not None:
            units = [unit for unit in units if _node_position(unit[0]) > self.skip_through]
        page = ctx.job.pages_done + 1
        records, invalid = nodes_parse(ctx.resource, units, where={"page": page})
        watermark = _max_watermark(ctx, records) if self.checkpoints_watermark else None
        checkpoint: dict[str, Any] = {"page_cursor": end_cursor}
        if watermark is not None:
            checkpoint |= {"watermark_updated_at": watermark[0], "watermark_id": watermark[1]}
        move_cursor = None
        if ctx.job.mode == SyncKind.INCREMENTAL and watermark is not None:

            def move_cursor() -> None:
                cursor_advance(ctx=ctx, updated_at=watermark[0], shopify_id=watermark[1])

        batch = Batch(
            resource=ctx.resource, records=records, where={"page": page}, checkpoint=checkpoint, fetched=fetched,
            invalid=invalid, pages=1, in_transaction=move_cursor,
        )  # fmt: skip
        batch_commit(ctx=ctx, batch=batch, api_calls=api_calls)
        ctx.job.pages_done = page
        ctx.job.synced += fetched
        session_heartbeat(session=ctx.session, token=ctx.token, message=_progress(ctx),
                          stage=SyncSession.Stage.FETCHING)  # fmt: skip


def _max_watermark(ctx: JobContext, records: list) -> Watermark | None:
    positions = [(r.shopify_updated_at, r.shopify_id) for r in records]
    if ctx.job.watermark_updated_at is not None:
        positions.append((ctx.job.watermark_updated_at, ctx.job.watermark_id or 0))
    if not positions:
        return None
    best = max(positions)
    end = ctx.job.window_end or timezone.now()
    return best if best[0] <= end else (end, 0)


def _readable_id(node: dict[str, Any]) -> int | None:
    try:
        return gid_to_id(node["id"])
    except (KeyError, TypeError, ValueError):
        return None  # the parser dead-letters it


def _node_position(node: dict[str, Any]) -> Watermark:
    try:
        return datetime.fromisoformat(node["updatedAt"]), gid_to_id(node["id"])
    except (KeyError, TypeError, ValueError):
        return datetime.max.replace(tzinfo=timezone.get_current_timezone()), 0  # unreadable: keep it


def _progress(ctx: JobContext) -> str:
    total = f" of {ctx.job.total:,}" if ctx.job.total else ""
    return f"Fetching {ctx.resource.value}: page {ctx.job.pages_done}, {ctx.job.synced:,}{total} so far."
