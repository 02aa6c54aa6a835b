"""The parts of list items that a bulk export cannot carry: an order's refunds' line items, refunded
shipping and adjustments, its fulfillments' line items (contract §8.13).

Shopify refuses a connection under a list in a bulk query ("Queries that contain a connection field
within a list field are not currently supported."; estuary/connectors PR #4650 met it with
`refundLineItems` under `Order.refunds`). The orders' bulk export therefore carries `refunds { ... }`
and `fulfillments { ... }` without their parts, which the write path leaves as they are ("not
given"). After the export, this pass reads the parts of the refunds and fulfillments that have none
stored, from REST: `orders.json?ids=...&fields=id,refunds,fulfillments`, 250 orders a call, where a
REST order carries both lists complete (contract §8.3, §8.4).

Why REST and not GraphQL pages: the parts are connections, whose first pages are reserved at their
full requested cost (at least 6 points an order with a fulfillment, about 40 with a refund), so a
GraphQL pass over a store where 80 % of orders are fulfilled is bound by the cost bucket's restore
rate (measured on the simulator's standard plan: 2,500 orders took 3.5 minutes of pacing). A REST
call costs one request of the REST bucket (2/s on a standard plan) for 250 orders.

What it reads is what the database says is missing, in order id order: a session resumed after a
crash does not read again what an earlier run of the pass wrote (the last order id asked is the
cursor within a run; a refund with no parts at all, such as a pure restock, is read once per pass).
Orders without refunds or fulfillments cost nothing. Any path that reads an order by GraphQL pages or
by id (incremental pages, webhooks' refetch, reconciliation's heal) brings its parts with it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Exists, F, OuterRef

from shopsync.models import SyncJob
from shopsync.payloads import PayloadValidationError
from shopsync.resources import ChildDeclaration, declaration_for
from shopsync.services.sync.graphql_queries import nested_lists
from shopsync.services.sync.sessions import session_heartbeat
from shopsync.services.sync.writing import JobContext
from shopsync.services.upsert import nested_children_replace
from shopsync.shopify import ShopifyClient

logger = logging.getLogger(__name__)

# Shopify's REST `ids` filter and page limit.
REST_IDS_PER_CALL = 250


def nested_parts_pass(*, ctx: JobContext, client: ShopifyClient) -> int:
    """Read and write the missing parts of the job's resource (orders); returns the roots read."""
    declaration = declaration_for(ctx.resource)
    lists = nested_lists(declaration)
    if not lists:
        return 0
    params = {**declaration.count_params, "limit": REST_IDS_PER_CALL,
              "fields": ",".join(["id", *(child.rest_key for child in lists)])}  # fmt: skip
    after, done = 0, 0
    while ids := _roots_missing(ctx, lists, after=after):
        before = client.graphql_calls + client.counters.rest_calls
        page = client.rest_get(f"{declaration.name}.json", {**params, "ids": ",".join(map(str, ids))})
        roots = [root for root in (page.json or {}).get(declaration.name) or () if isinstance(root, dict)]
        for child in lists:
            parts = dict(_parts_of(child, item) for root in roots for item in root.get(child.rest_key) or ())
            parts.pop(None, None)
            nested_children_replace(shop=ctx.shop, resource=ctx.resource, child=child.name, parts=parts)
        calls = client.graphql_calls + client.counters.rest_calls - before
        SyncJob.objects.filter(pk=ctx.job.pk).update(api_calls=F("api_calls") + calls)
        after, done = ids[-1], done + len(ids)
        session_heartbeat(session=ctx.session, token=ctx.token,
                          message=f"Reading the refunds and fulfillments of {done:,} {declaration.name}.")  # fmt: skip
    return done


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


def _roots_missing(ctx: JobContext, lists: list[ChildDeclaration], *, after: int) -> list[int]:
    found: set[int] = set()
    for child in lists:
        found.update(_roots_missing_parts(ctx, child, after=after, limit=REST_IDS_PER_CALL))
    return sorted(found)[:REST_IDS_PER_CALL]


def _roots_missing_parts(ctx: JobContext, child: ChildDeclaration, *, after: int, limit: int) -> list[int]:
    """Root ids above `after` with an item of the list (a refund) that has none of its parts stored."""
    root = child.parent_column.removesuffix("_id")
    items = child.model.objects.filter(
        shop=ctx.shop, **{f"{root}__deleted_at__isnull": True, f"{root}__shopify_id__gt": after}
    )
    for part in child.children:
        if part.is_connection:
            owner = part.parent_column.removesuffix("_id")
            items = items.exclude(Exists(part.model.objects.filter(**{owner: OuterRef("pk")})))
    ids = items.order_by(f"{root}__shopify_id").values_list(f"{root}__shopify_id", flat=True).distinct()
    return list(ids[:limit])
