"""The parts of list items that a bulk export cannot carry: an order's refunds' line items, refunded
shipping and adjustments, its fulfillments' line items (contract §8.13).

Shopify refuses a connection under a list in a bulk query ("Queries that contain a connection field
within a list field are not currently supported."; estuary/connectors PR #4650 met it with
`refundLineItems` under `Order.refunds`). The orders' bulk export therefore carries `refunds { ... }`
and `fulfillments { ... }` without their parts, which the write path leaves as they are ("not
given"). After the export, this pass reads the parts of the refunds and fulfillments that have none
stored: `nodes(ids:)` of their orders, selecting only the items' ids and their parts' first pages
(about 18 orders per query within the 1000-point limit, `query_cost.parts_ids_per_query`), the rest of a
part by the item's `node(id:)` when its first page says `hasNextPage` (rare).

What it reads is what the database says is missing, in order id order: a session resumed after a
crash does not read again what an earlier run of the pass wrote (the order id of the last query is
the cursor within a run; a refund with no parts at all, such as a pure restock, is read once per
pass). Orders without refunds or fulfillments cost nothing. Any path that reads an order by GraphQL
pages or by id (incremental pages, webhooks' refetch, reconciliation's heal) brings its parts with it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Exists, F, OuterRef
from pydantic import ValidationError

from shopsync.models import SyncJob
from shopsync.resources import ChildDeclaration, ResourceDeclaration, declaration_for
from shopsync.services.sync.by_id import nested_parts_complete
from shopsync.services.sync.graphql_queries import nested_lists, parts_query
from shopsync.services.sync.query_cost import parts_ids_per_query
from shopsync.services.sync.sessions import session_heartbeat
from shopsync.services.sync.writing import JobContext
from shopsync.services.upsert import nested_children_replace
from shopsync.shopify import ShopifyClient
from shopsync.shopify.queries import gid_to_id, id_to_gid

logger = logging.getLogger(__name__)


def nested_parts_pass(*, ctx: JobContext, client: ShopifyClient) -> int:
    """Read and write the missing parts of the job's resource (orders); returns the roots read."""
    declaration = declaration_for(ctx.resource)
    lists = nested_lists(declaration)
    if not lists:
        return 0
    query, size = parts_query(declaration.name), parts_ids_per_query(declaration.name)
    after, done = 0, 0
    while ids := _roots_missing_parts(ctx, declaration, lists, after=after, limit=size):
        before = client.graphql_calls
        data = client.graphql(query, {"ids": [id_to_gid(declaration.graphql_type, i) for i in ids]})
        nodes = [node for node in data.get("nodes") or () if node and node.get("id")]
        for node in nodes:
            nested_parts_complete(client, declaration, node)
        for child in lists:
            parts = {
                gid_to_id(item["id"]): _parts_of(child, item)
                for node in nodes
                for item in node.get(child.graphql_field) or ()
            }
            nested_children_replace(shop=ctx.shop, resource=ctx.resource, child=child.name, parts=parts)
        SyncJob.objects.filter(pk=ctx.job.pk).update(api_calls=F("api_calls") + client.graphql_calls - before)
        after, done = ids[-1], done + len(ids)
        session_heartbeat(session=ctx.session, token=ctx.token,
                          message=f"Reading the parts of {done:,} {declaration.name}' refunds and fulfillments.")  # fmt: skip
    return done


def _parts_of(child: ChildDeclaration, item: dict[str, Any]) -> dict[str, list[Any] | None]:
    """Each part's records; None (left as stored) for a part Shopify sent malformed: the order's
    next GraphQL read, or reconciliation, brings it."""
    found: dict[str, list[Any] | None] = {}
    for part in child.children:
        if not (part.is_connection and isinstance(item.get(part.graphql_field), dict)):
            continue
        try:
            found[part.name] = [
                part.build(part.node_adapter.validate_python(n))
                for n in item[part.graphql_field]["nodes"] or ()
            ]
        except (ValidationError, KeyError, TypeError, ValueError) as exc:
            logger.warning(
                "%s %s: malformed %s left as stored: %s", child.label, item.get("id"), part.name, exc
            )
            found[part.name] = None
    return found


def _roots_missing_parts(
    ctx: JobContext,
    declaration: ResourceDeclaration,
    lists: list[ChildDeclaration],
    *,
    after: int,
    limit: int,
) -> list[int]:
    """Root ids above `after` with a list item (a refund) that has none of its parts stored."""
    found: set[int] = set()
    for child in lists:
        root = child.model._meta.get_field(child.parent_column.removesuffix("_id")).name
        items = child.model.objects.filter(
            shop=ctx.shop, **{f"{root}__deleted_at__isnull": True, f"{root}__shopify_id__gt": after}
        )
        for part in child.children:
            if part.is_connection:
                owner = part.parent_column.removesuffix("_id")
                items = items.exclude(Exists(part.model.objects.filter(**{owner: OuterRef("pk")})))
        found.update(
            items.order_by(f"{root}__shopify_id")
            .values_list(f"{root}__shopify_id", flat=True)
            .distinct()[:limit]
        )
    return sorted(found)[:limit]
