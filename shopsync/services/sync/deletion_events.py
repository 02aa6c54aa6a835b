"""Deletions read from Shopify's event log by incremental runs.

A deletion's webhook can be lost (Shopify gives up after its retries, our endpoint was down, the
subscription was missing), and a record deleted in Shopify never shows in a window of `updated_at`:
without this, the mirror keeps it until the next full sync or reconciliation. Shopify records a
`destroy` event for a deletion, so each incremental job, after its pages, reads its resource's
deletion events (`ResourceDeclaration.deletion_event`) through the GraphQL `events` query:

1. From the shop's events watermark (`SyncCursor.deletion_events_until`) minus the incremental
   overlap, because an event can appear in the list a few seconds (rarely minutes) after it happened.
   First run (no watermark yet): from the records window's start (the data watermark minus the same
   overlap: the mirror is as of then), or the run's start when the resource was never synced (nothing
   stored can have been deleted before that): never the shop's whole history.
2. Up to the run's start (the records window's end), sorted by CREATED_AT, in pages.
3. Each page soft-deletes its subjects through the write path (`records_soft_delete`, at the event's
   `createdAt`), adds them to the job's `deleted` count and moves the watermark to the page's newest
   event, in one fenced transaction; once the read reaches the run's start the watermark moves there.
   Deletes are terminal and the first one sticks, so an event read again (the overlap, a resumed job)
   changes nothing and counts nothing; Shopify never reuses an id, so a delete cannot hit a record
   created later.

Without a cursor row (a resource never written by a sync) the watermark has nowhere to live and each
run starts from its own start again: webhooks, full syncs and reconciliation cover that shop.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from shopsync.models import SyncCursor, SyncJob, SyncSession
from shopsync.resources import DeletionEvent, declaration_for
from shopsync.services.sync.config import sync_config
from shopsync.services.sync.graphql_queries import search_time
from shopsync.services.sync.jobs import cursor_get
from shopsync.services.sync.sessions import session_heartbeat
from shopsync.services.sync.writing import JobContext
from shopsync.services.upsert import records_soft_delete
from shopsync.shopify import ShopifyAuthError, ShopifyClient, ShopifyPermanentError
from shopsync.shopify.queries import gid_to_id

logger = logging.getLogger(__name__)

# A BasicEvent costs 1 point: a page requests about 102, cheap on any plan.
EVENTS_PAGE_SIZE = 100
DELETION_EVENTS_QUERY = (
    "query SyncDeletionEvents($first: Int!, $after: String, $query: String!) { "
    "events(first: $first, after: $after, query: $query, sortKey: CREATED_AT) { "
    "pageInfo { hasNextPage endCursor } "
    "nodes { id action createdAt ... on BasicEvent { subjectId subjectType } } } }"
)
# (shop id, resource) whose events could not be read, already logged by this process.
_UNAVAILABLE_LOGGED: set[tuple[int, str]] = set()


@dataclass(frozen=True, slots=True)
class Deletion:
    shopify_id: int
    deleted_at: datetime


def deletion_events_search(*, deletion_event: DeletionEvent, start: datetime, end: datetime) -> str:
    """The `events(query:)` filter of one resource's deletions created in [start, end], widened to
    whole seconds (the search's precision): the start down, the end up (`deletions_from_events`
    leaves what is after `end` to the next run), so no instant between two runs falls in neither."""
    end_second = end.replace(microsecond=0) + (timedelta(seconds=1) if end.microsecond else timedelta(0))
    return (
        f"action:{deletion_event.action} AND subject_type:{deletion_event.subject_type} "
        f"AND created_at:>='{search_time(start)}' AND created_at:<='{search_time(end_second)}'"
    )


def deletions_from_events(
    *, deletion_event: DeletionEvent, nodes: list[dict[str, Any]], end: datetime
) -> list[Deletion]:
    """The deletions among a page's event nodes. Shopify's search ignores terms it does not know
    rather than failing, so each node is checked again here: only this resource's deletion events,
    created by the run's start, with a readable subject id, ever delete a row."""
    found = []
    for node in nodes:
        if not isinstance(node, dict) or node.get("action") != deletion_event.action:
            continue
        if str(node.get("subjectType") or "").upper() != deletion_event.subject_type:
            continue
        try:
            shopify_id = gid_to_id(node["subjectId"])
            deleted_at = datetime.fromisoformat(node["createdAt"])
        except (KeyError, TypeError, ValueError):
            logger.warning("unreadable deletion event skipped: %.300r", node)
            continue
        if deleted_at <= end:
            found.append(Deletion(shopify_id=shopify_id, deleted_at=deleted_at))
    return found


def deletion_events_apply(*, ctx: JobContext, client: ShopifyClient) -> int:
    """Read the job's resource's deletion events since the shop's events watermark and soft-delete
    their records (see the module's docstring). Returns how many rows became deleted."""
    deletion_event = declaration_for(ctx.resource).deletion_event
    end = ctx.job.window_end
    if deletion_event is None or end is None:
        return 0
    search = deletion_events_search(deletion_event=deletion_event, start=_read_from(ctx), end=end)
    session_heartbeat(session=ctx.session, token=ctx.token, stage=SyncSession.Stage.FETCHING,
                      message=f"Reading {ctx.resource.value} deleted in Shopify.")  # fmt: skip
    deleted, after = 0, None
    while True:
        before = client.graphql_calls
        page = _fetch(ctx, client, search, after)
        if page is None:
            return deleted  # unavailable: logged; the watermark stays where the last page put it
        deletions = deletions_from_events(
            deletion_event=deletion_event, nodes=page.get("nodes") or [], end=end
        )
        page_info = page.get("pageInfo") or {}
        complete = not page_info.get("hasNextPage") or not page_info.get("endCursor")
        watermark = end if complete else max((d.deleted_at for d in deletions), default=None)
        deleted += _page_commit(ctx, deletions, watermark, api_calls=client.graphql_calls - before)
        if complete:
            return deleted
        after = page_info["endCursor"]


def _read_from(ctx: JobContext) -> datetime:
    cursor = cursor_get(ctx=ctx)
    if cursor is not None and cursor.deletion_events_until is not None:
        return cursor.deletion_events_until - timedelta(seconds=sync_config().incremental_overlap_seconds)
    return ctx.job.window_start or ctx.job.window_end


def _fetch(ctx: JobContext, client: ShopifyClient, search: str, after: str | None) -> dict[str, Any] | None:
    variables = {"first": EVENTS_PAGE_SIZE, "after": after, "query": search}
    try:
        return client.graphql(DELETION_EVENTS_QUERY, variables)["events"]
    except ShopifyAuthError:
        raise  # the token is gone: every path fails the same way, and this one must not hide it
    except (ShopifyPermanentError, KeyError, TypeError) as exc:
        # `events` came with 2024-10 (older versions answer undefinedField), and a token may be refused
        # events (ACCESS_DENIED). The event log is one deletion signal among several (webhooks, full
        # sync, reconciliation): without it the run syncs everything else as before, so log once per
        # shop and resource in this process and go on, rather than fail the run (and every run after).
        _log_unavailable(ctx, exc)
        return None


def _log_unavailable(ctx: JobContext, exc: Exception) -> None:
    key = (ctx.shop.pk, ctx.resource.value)
    level = logging.DEBUG if key in _UNAVAILABLE_LOGGED else logging.WARNING
    _UNAVAILABLE_LOGGED.add(key)
    logger.log(level, "%s: Shopify's deletion events of %s cannot be read (%s); relying on webhooks, full "
               "syncs and reconciliation for its deletions", ctx.shop, ctx.resource.value, exc)  # fmt: skip


def _page_commit(
    ctx: JobContext, deletions: list[Deletion], watermark: datetime | None, *, api_calls: int
) -> int:
    by_instant: dict[datetime, list[int]] = defaultdict(list)
    for deletion in deletions:
        by_instant[deletion.deleted_at].append(deletion.shopify_id)
    with transaction.atomic():
        deleted = sum(
            records_soft_delete(shop=ctx.shop, resource=ctx.resource, shopify_ids=ids, deleted_at=deleted_at)
            for deleted_at, ids in sorted(by_instant.items())
        )
        SyncJob.objects.filter(pk=ctx.job.pk).update(
            deleted=F("deleted") + deleted, api_calls=F("api_calls") + api_calls, updated_at=timezone.now()
        )
        if watermark is not None:
            _watermark_advance(ctx, watermark)
        message = (
            f"Reading {ctx.resource.value} deleted in Shopify: {ctx.job.deleted + deleted:,} marked deleted."
        )
        # Last, as in `batch_commit`: a worker that lost the session rolls all of this back.
        session_heartbeat(session=ctx.session, token=ctx.token, message=message)
    ctx.job.deleted += deleted
    return deleted


def _watermark_advance(ctx: JobContext, until: datetime) -> None:
    """Move the shop's events watermark forward to `until`, never backwards."""
    SyncCursor.objects.filter(shop=ctx.shop, resource=ctx.job.resource).filter(
        Q(deletion_events_until__isnull=True) | Q(deletion_events_until__lt=until)
    ).update(deletion_events_until=until)
