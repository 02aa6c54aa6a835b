"""The parts of list items that a bulk export cannot carry: an order's refunds' line items, refunded
shipping and adjustments, its fulfillments' line items (contract §8.13).

Shopify refuses a connection under a list in a bulk query ("Queries that contain a connection field
within a list field are not currently supported."; estuary/connectors PR #4650 met it with
`refundLineItems` under `Order.refunds`). The orders' bulk export therefore carries `refunds { ... }`
and `fulfillments { ... }` without their parts, which the write path leaves as they are ("not
given"). The parts of the refunds and fulfillments that have none stored are read from REST:
`orders.json?ids=...&fields=id,refunds,fulfillments`, 250 orders a call, where a REST order carries
both lists complete (contract §8.3, §8.4).

Why REST and not GraphQL pages: the parts are connections, whose first pages are reserved at their
full requested cost (at least 6 points an order with a fulfillment, about 40 with a refund), so a
GraphQL pass over a store where 80 % of orders are fulfilled is bound by the cost bucket's restore
rate (measured on the simulator's standard plan: 2,500 orders took 3.5 minutes of pacing). A REST
call costs one request of the REST bucket (2/s on a standard plan) for 250 orders.

When: alongside the write (issue #21). Run after the whole export, one call at a time, the pass held
the sync's critical path (100k orders: 185.6 s end to end, 0.17 x the COPY baseline, where it was
0.71 x before refunds and fulfillments). So `nested_parts_alongside` runs it in a thread of the
worker while the export is written: the writer tells it how far its commits have gone (the export is
in id order, so every root at or below the last committed batch's largest id is stored), and the
thread reads the parts of the roots up to there while the next batches are parsed and written. The
thread has its own Shopify client on the shop's shared REST budget (Redis), its own database
connection, and no part in the session's fencing: its writes replace a stored refund's parts with
Shopify's, so a late or repeated one is harmless. When the export is consumed (or the run stops: a
slice used up, an error) the thread is stopped after its call in flight, and `nested_parts_pass`
goes on in the run itself from where the thread got to; an error of the thread's is logged and left
to that pass, which meets it again in the run, where the usual handling applies.

What it reads is what the database says is missing: a session resumed after a crash does not read
again what an earlier run wrote (a refund with no parts at all, such as a pure restock, is read
once per run). The selection walks the roots in windows of `SELECTION_WINDOW` consecutive stored
roots by id (an index range on the roots, then index lookups on the lists and their parts), so a
query costs the same at 1M orders as at 10k; the first version anti-joined every refund and
fulfillment of the shop on each call (80 ms a call at 20k orders, growing with the store). Orders
without refunds or fulfillments cost nothing. Any path that reads an order by GraphQL pages or by id
(incremental pages, webhooks' refetch, reconciliation's heal) brings its parts with it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, connections
from django.db.models import Exists, F, OuterRef

from shopsync.models import SyncJob
from shopsync.payloads import PayloadValidationError
from shopsync.resources import ChildDeclaration, ResourceDeclaration, declaration_for
from shopsync.services.sync.graphql_queries import nested_lists
from shopsync.services.sync.sessions import session_heartbeat
from shopsync.services.sync.writing import JobContext
from shopsync.services.upsert import nested_children_replace
from shopsync.shopify import ShopifyClient

logger = logging.getLogger(__name__)

# Shopify's REST `ids` filter and page limit.
REST_IDS_PER_CALL = 250
# Stored roots (orders) one selection query looks at: one REST call's worth of ids is usually found
# in one or two windows (80 % of orders are fulfilled in a typical store).
SELECTION_WINDOW = 2000
# Above every Shopify id: "no bound".
NO_BOUND = 2**63 - 1


class _Stopped(Exception):
    """The thread was asked to stop while its client waited (pacing, a retry's back-off)."""


def nested_parts_pass(
    *, ctx: JobContext, client: ShopifyClient, after: int = 0, should_stop: Callable[[], bool] = lambda: False,
    heartbeat: bool = True,
) -> int:  # fmt: skip
    """Read and write the missing parts of the job's resource (orders) of the roots with an id above
    `after`; returns the roots read."""
    read, _ = _pass(ctx, client, after=after, upto=NO_BOUND, should_stop=should_stop, heartbeat=heartbeat)
    return read


def _pass(
    ctx: JobContext, client: ShopifyClient, *, after: int, upto: int, should_stop: Callable[[], bool],
    heartbeat: bool, full_calls_only: bool = False,
) -> tuple[int, int]:  # fmt: skip
    """(roots read, where it got to: every root in (`after`, that] has had its missing parts read).
    `full_calls_only`: ids that do not fill a call are left for a later pass (the follower waits for
    more commits rather than spend a call on a few orders)."""
    declaration = declaration_for(ctx.resource)
    lists = nested_lists(declaration)
    if not lists:
        return 0, upto
    done = 0
    while after < upto and not should_stop():
        ids, scanned = _roots_missing(ctx, declaration, lists, after=after, upto=upto)
        if full_calls_only and 0 < len(ids) < REST_IDS_PER_CALL:
            break
        if ids:
            _parts_read(ctx, declaration, lists, client, ids)
            done += len(ids)
            if heartbeat:
                session_heartbeat(session=ctx.session, token=ctx.token,
                                  message=f"Reading the refunds and fulfillments of {done:,} {declaration.name}.")  # fmt: skip
        after = scanned
    return done, after


@contextmanager
def nested_parts_alongside(*, ctx: JobContext) -> Iterator[NestedPartsFollower | None]:
    """Run the parts pass in a thread beside the code inside (the export's write), which calls
    `advance` after each committed batch; stopped and joined on the way out. Yields None where there
    is nothing to follow (a resource without such lists) or no second connection to follow with
    (a database other than PostgreSQL, or a caller's transaction around the write)."""
    # Inside a caller's transaction (a test's), the writer's commits are savepoints that another
    # connection cannot see: the follower would find nothing to read and skip past the orders.
    followable = connection.vendor == "postgresql" and not connection.in_atomic_block
    if not followable or not nested_lists(declaration_for(ctx.resource)):
        yield None
        return
    follower = NestedPartsFollower(ctx)
    follower.start()
    try:
        yield follower
    finally:
        follower.stop()


class NestedPartsFollower(threading.Thread):
    """The parts pass, following the writer's commits (see the module's notes). `after`: every root
    at or below it has had its missing parts read in this run."""

    def __init__(self, ctx: JobContext) -> None:
        super().__init__(name=f"nested-parts-{ctx.job.pk}", daemon=True)
        # Its own copy of the job's context: the writer's `ctx.job` moves under it.
        self.ctx = JobContext(session=ctx.session, job=SyncJob.objects.get(pk=ctx.job.pk), token=ctx.token,
                              shop=ctx.shop)  # fmt: skip
        self.after = 0
        self.roots_read = 0
        self.error: BaseException | None = None
        self._frontier = ctx.job.bulk_after_id or 0  # resumed: what earlier runs committed
        self._considered = 0
        self._stopping = threading.Event()
        self._moved = threading.Condition()

    def advance(self, frontier: int | None) -> None:
        """Every root with an id up to `frontier` is committed."""
        with self._moved:
            self._frontier = max(self._frontier, frontier or 0)
            self._moved.notify()

    def stop(self) -> None:
        """Stop after the call in flight (a client wait is cut short) and wait for the thread."""
        with self._moved:
            self._stopping.set()
            self._moved.notify()
        self.join()

    def run(self) -> None:
        client = ShopifyClient(self.ctx.shop, sleep=self._sleep)
        try:
            while (upto := self._next_frontier()) is not None:
                read, self.after = _pass(
                    self.ctx, client, after=self.after, upto=upto, should_stop=self._stopping.is_set,
                    heartbeat=False, full_calls_only=True,
                )  # fmt: skip
                self.roots_read += read
        except _Stopped:
            pass
        except Exception as exc:
            # Whatever stopped the thread (Shopify, the database, a malformed answer), the run's own
            # pass reads what is left after `after`, and meets the error there if it lasts.
            logger.warning("sync job %s: reading parts alongside the write stopped: %s", self.ctx.job.pk, exc)
            self.error = exc
        finally:
            connections.close_all()  # this thread's own connection

    def _next_frontier(self) -> int | None:
        """The next frontier to read up to, once the writer has moved past the last one; None: stop."""
        with self._moved:
            while not self._stopping.is_set() and self._frontier <= self._considered:
                self._moved.wait()
            if self._stopping.is_set():
                return None
            self._considered = self._frontier
            return self._frontier

    def _sleep(self, seconds: float) -> None:
        if self._stopping.wait(seconds):
            raise _Stopped


def _parts_read(
    ctx: JobContext, declaration: ResourceDeclaration, lists: list[ChildDeclaration], client: ShopifyClient,
    ids: list[int],
) -> None:  # fmt: skip
    params = {**declaration.count_params, "limit": REST_IDS_PER_CALL,
              "fields": ",".join(["id", *(child.rest_key for child in lists)])}  # fmt: skip
    before = client.graphql_calls + client.counters.rest_calls
    page = client.rest_get(f"{declaration.name}.json", {**params, "ids": ",".join(map(str, ids))})
    roots = [root for root in (page.json or {}).get(declaration.name) or () if isinstance(root, dict)]
    for child in lists:
        parts = dict(_parts_of(child, item) for root in roots for item in root.get(child.rest_key) or ())
        parts.pop(None, None)
        nested_children_replace(shop=ctx.shop, resource=ctx.resource, child=child.name, parts=parts)
    calls = client.graphql_calls + client.counters.rest_calls - before
    SyncJob.objects.filter(pk=ctx.job.pk).update(api_calls=F("api_calls") + calls)


def _parts_of(child: ChildDeclaration, item: Any) -> tuple[int | None, dict[str, list[Any] | None]]:
    """(the item's id, its parts by name) from a REST item (a refund); (None, {}) for one Shopify
    sent malformed: its parts stay as stored, and the order's next GraphQL read or reconciliation
    brings them."""
    assert child.parse_rest is not None  # a list with parts is declared with its REST parser
    try:
        record = child.parse_rest(item)
    except PayloadValidationError as exc:
        logger.warning("%s left as stored: %s", child.label, exc)
        return None, {}
    return record.shopify_id, {part.name: getattr(record, part.name) for part in child.children}


def _roots_missing(
    ctx: JobContext, declaration: ResourceDeclaration, lists: list[ChildDeclaration], *, after: int, upto: int
) -> tuple[list[int], int]:
    """(the first `REST_IDS_PER_CALL` root ids in (`after`, `upto`] with a list item missing its
    parts, where the next selection starts), walking windows of `SELECTION_WINDOW` stored roots."""
    ids: list[int] = []
    while len(ids) < REST_IDS_PER_CALL and after < upto:
        window_end = min(upto, _window_end(ctx, declaration, after=after))
        found: set[int] = set()
        for child in lists:
            found.update(_roots_missing_parts(ctx, child, after=after, upto=window_end))
        wanted = REST_IDS_PER_CALL - len(ids)
        taken = sorted(found)[:wanted]
        ids.extend(taken)
        after = taken[-1] if len(taken) == wanted else window_end
    return ids, after


def _window_end(ctx: JobContext, declaration: ResourceDeclaration, *, after: int) -> int:
    """The id of the `SELECTION_WINDOW`-th stored root after `after` (NO_BOUND: fewer are left)."""
    ids = (
        declaration.model.objects.filter(shop=ctx.shop, shopify_id__gt=after)
        .order_by("shopify_id")
        .values_list("shopify_id", flat=True)[SELECTION_WINDOW - 1 : SELECTION_WINDOW]
    )
    return next(iter(ids), NO_BOUND)


def _roots_missing_parts(ctx: JobContext, child: ChildDeclaration, *, after: int, upto: int) -> list[int]:
    """Root ids in (`after`, `upto`] with an item of the list (a refund) that has none of its parts
    stored (the first `REST_IDS_PER_CALL`)."""
    root = child.parent_column.removesuffix("_id")
    items = child.model.objects.filter(
        shop=ctx.shop,
        **{
            f"{root}__deleted_at__isnull": True,
            f"{root}__shopify_id__gt": after,
            f"{root}__shopify_id__lte": upto,
        },
    )
    for part in child.children:
        if part.is_connection:
            owner = part.parent_column.removesuffix("_id")
            items = items.exclude(Exists(part.model.objects.filter(**{owner: OuterRef("pk")})))
    ids = items.order_by(f"{root}__shopify_id").values_list(f"{root}__shopify_id", flat=True).distinct()
    return list(ids[:REST_IDS_PER_CALL])
