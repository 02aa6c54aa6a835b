"""What a resource declaration says (R16). Plain data: the sync engine, the bulk reader, the write
path, the webhooks, the dead letters, reconciliation and the admin read these and name no resource.

A *resource* is a top-level Shopify object we mirror (orders): it has its own table, its own
`updated_at` (the last-write-wins key), its own bulk export and paged query, and its own webhook
topics. A *child* belongs to one parent record (an order's line items, its transactions) and has no
clock of its own that we trust: its rows are replaced, as a set, whenever a newer version of the
parent is written (contract §8.11, "the parent's updatedAt is the version of the whole child set").
A child is either a GraphQL *connection* (separate JSONL lines carrying `__parentId` in a bulk
export, its own pages in a paged query) or an inline *list* (inside its parent's line and node).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from pydantic import TypeAdapter


class TopicAction(enum.StrEnum):
    # The body is the record's new version: written through the write path (last write wins).
    UPSERT = "upsert"
    # The body is `{"id": ...}`: the record is soft-deleted (a tombstone) at the trigger time.
    DELETE = "delete"
    # The body is one new child (a transaction): added to its stored parent, siblings kept; a parent
    # not stored yet is fetched from Shopify by id, complete with its children.
    CHILD_CREATE = "child_create"
    # The body names a record (its id under the topic's `id_key`) but is not its new version (a
    # consent change): the record is fetched from Shopify by id, complete, and written.
    REFETCH = "refetch"
    # The body is one child's new version with a clock of its own (an inventory level): upserted
    # under its stored parent, last write wins on the child's `updated_at`, in batches like record
    # updates; a parent not stored yet is fetched from Shopify by id, complete with its children.
    CHILD_UPSERT = "child_upsert"
    # The body names one child (by its id and its parent's) that is gone: its row is removed.
    CHILD_DELETE = "child_delete"
    # The body names a child by a value of one of its columns (`lookup_column`; an inventory item
    # names its variant by `inventory_item_shopify_id`) and not its parent: the stored child's
    # parent is fetched from Shopify by id, complete (a child not stored comes with its parent's
    # next version anyway).
    REFETCH_PARENT = "refetch_parent"


@dataclass(frozen=True, slots=True)
class WebhookTopic:
    topic: str  # REST-style name, as in X-Shopify-Topic: "orders/create"
    subscription: str  # GraphQL WebhookSubscriptionTopic: "ORDERS_CREATE"
    action: TopicAction
    id_key: str = "id"  # REFETCH: the record's id in the body
    lookup_column: str = ""  # REFETCH_PARENT: the child's column holding the body's `id_key`


class Ordering(enum.StrEnum):
    """How a replay, or an older version, becomes a no-op."""

    # The record's own `updated_at` (Shopify's): the stored version wins unless the incoming one is
    # not older (ties win: a refetch of the same version is authoritative).
    UPDATED_AT = "updated_at"
    # No clock of its own (a transaction has only createdAt / processedAt, yet its status may move
    # from pending): carried under the parent's `updated_at`. The set is replaced when the parent's
    # version wins, left alone when it loses, and a one-child webhook only adds a child not stored.
    PARENT = "parent"


@dataclass(frozen=True, slots=True)
class DeletionEvent:
    """How Shopify's event log (GraphQL `events`, REST `events.json`) shows a deletion of a root: the
    `subjectType` (EventSubjectType) and the `action` (REST `verb`). Incremental runs read these since
    their last run, so a deletion whose webhook was lost is found within one run."""

    subject_type: str  # "ORDER"
    action: str = "destroy"


@dataclass(frozen=True)
class ChildDeclaration:
    """One kind of child of a resource (or of another child)."""

    name: str  # attribute on the parent record and related name on the parent model: "line_items"
    label: str  # singular, for messages: "line item"
    model: type[models.Model]
    record_type: type  # the dataclass both payload shapes produce
    parent_column: str  # foreign key column to the parent row: "order_id"
    graphql_field: str  # on the parent node: "lineItems"
    graphql_type: str  # node type (GID type): "LineItem"
    graphql_fields: str  # the selection the builder expects
    is_connection: bool  # a connection (own JSONL lines, own pages), else an inline list
    build: Callable[[Any], Any]  # a validated node -> record
    node_adapter: TypeAdapter | None = None  # connections: one node, for fetched children pages
    bulk_line_adapter: TypeAdapter | None = None  # connections: a JSONL line (node + `__parentId`)
    first_page: int = 0  # connections: children per root in a paged query's first page
    rest_key: str = ""  # the key in the parent's REST/webhook body: "line_items"
    parse_rest: Callable[[Any], Any] | None = None  # one REST/webhook child object -> record
    rest_parent_key: str = ""  # the parent's id in a REST child body: "order_id"
    rest_id_key: str = "id"  # the child's own id in a REST child body (a level: "inventory_item_id")
    topics: tuple[WebhookTopic, ...] = ()
    # PARENT: carried under the parent's version. UPDATED_AT: a child with a clock of its own (an
    # inventory level's `updatedAt`): a stored row is replaced only by a version not older than it,
    # whoever brings it (a read of the parent, or the child's own webhook); the parent's read still
    # removes the children it no longer lists.
    ordering: Ordering = Ordering.PARENT
    # How a deletion shows (documentation for people; the write path applies it): absence from the
    # parent's next version, which replaces the set.
    deletion: str = "absent from the parent's next version"
    # Compared id by id by reconciliation (the snapshot carries their ids).
    reconciled: bool = False
    # A child whose `shopify_id` is another object's id, selected as `<key_field> { id }` (an
    # inventory level's key is its item, `item { id }`; its own GID is composite): reconciliation's
    # snapshot reads the id there.
    key_field: str = ""
    children: tuple[ChildDeclaration, ...] = ()
    # The child's `shopify_id` is unique per parent, not per shop: a membership row names a product,
    # which is in many collections. Its rows are then keyed by (shop, parent, shopify_id).
    unique_per_parent: bool = False
    # A column numbered 1, 2, ... in the parent's list order when the set is written (the place of
    # an image among its product's media: GraphQL gives it only as the connection's order).
    numbered_column: str = ""
    # Other node types of the connection (a Video among a product's media): their bulk lines too.
    graphql_other_types: tuple[str, ...] = ()
    # What Shopify clears elsewhere when one of these children goes (absent from its parent's next
    # version, or its parent deleted): a deleted variant's id on line items (see DeletedReference).
    deleted_references: tuple[DeletedReference, ...] = ()
    # Metafields (contract §8.10): selected only for a shop that chose namespaces to mirror
    # (`Shop.metafield_namespaces`), with the connection's `namespace:` argument when it chose one.
    # With several (the argument takes one), every namespace is read and the write path keeps the
    # chosen ones (`namespace_column`); a query without the child leaves the stored rows alone.
    namespaced: bool = False
    namespace_column: str = "namespace"
    # A child whose own `updatedAt` Shopify serves but need not pass on to its parent (a metafield:
    # whether its write moves the owner's `updatedAt` is [UNSURE], §8.10; the safer reading is that it
    # does not): the column holding it. Reconciliation's snapshot selects `updatedAt` and compares it,
    # so an edited child makes its parent stale (a heal fetches the parent again), which incremental
    # runs, following the parent's `updated_at`, would not see. "" = compared by id only.
    version_column: str = ""
    # Columns only some payload shapes carry (a level's quantities other than `available` are not in
    # its webhook body): an incoming NULL keeps the stored value. Ordering.UPDATED_AT children only.
    kept_when_absent: tuple[str, ...] = ()

    @property
    def gid_prefix(self) -> bytes:
        return f'"gid://shopify/{self.graphql_type}/'.encode()

    def is_selected(self, namespaces: Sequence[str]) -> bool:
        return not self.namespaced or bool(namespaces)

    def graphql_arguments(self, namespaces: Sequence[str]) -> str:
        """The connection's filter arguments for a shop (`namespace: "erp"`), "" for none."""
        if self.namespaced and len(namespaces) == 1:
            return f"namespace: {json.dumps(namespaces[0])}"
        return ""


@dataclass(frozen=True)
class DeletedReference:
    """Rows elsewhere that name a record of this resource by its Shopify id, and the columns Shopify
    clears on them when the record is deleted, without moving their own record's `updated_at` (a
    deleted product's line items lose their product and variant ids, contract §6.1): neither an
    incremental run nor reconciliation's staleness check would ever see it, so the mirror clears them
    itself when it learns of the delete (a delete webhook, a full sync's absence, a deletion event,
    a by-id fetch that finds the record gone; for a child, its parent's newer version without it).
    The write path clears them in the transaction that deletes, in one UPDATE per reference."""

    model: type[models.Model]
    id_column: str  # holds this resource's Shopify id: "product_shopify_id"
    cleared_columns: tuple[str, ...]


@dataclass(frozen=True)
class ResourceDeclaration:
    """One top-level resource, everything every path needs about it."""

    name: str  # "orders": the `Resource` value, the GraphQL connection, the REST path
    singular: str  # "order": the single-object query, the REST/webhook key, the dead letter's type
    graphql_type: str  # "Order"
    model: type[models.Model]
    record_type: type
    graphql_fields: str  # the root's own selection (children are added by the query builders)
    node_adapter: TypeAdapter  # one GraphQL node (bulk line or page node)
    build: Callable[[Any], Any]  # a validated node -> record, its nested children read from it
    parse_rest: Callable[[Any], Any]  # a REST/webhook object (dict or raw bytes) -> record
    children: tuple[ChildDeclaration, ...] = ()
    topics: tuple[WebhookTopic, ...] = ()
    # What a delete of one of these records clears elsewhere (see DeletedReference).
    deleted_references: tuple[DeletedReference, ...] = ()
    ordering: Ordering = Ordering.UPDATED_AT
    deletion: str = ""
    # Its deletions in Shopify's event log (None: the event log is not read for this resource).
    deletion_event: DeletionEvent | None = None
    # Paged queries: roots per page (the children's first pages are on the child declarations).
    page_size: int = 100
    # `nodes(ids:)` queries: ids per query to start with (fewer after MAX_COST_EXCEEDED).
    ids_per_query: int = 100
    # NOT NULL columns that are ours (not Shopify's): their values on insert, never updated.
    insert_only: tuple[tuple[str, str], ...] = ()
    # Columns only some payload shapes carry (a customer's `locale`: GraphQL `String!`, absent from
    # REST bodies; an order's received / net / refunded totals are in GraphQL, never in a REST body):
    # an incoming NULL there means "not carried", and the stored value stays, as a child list that is
    # not given does. The shape that carries them never sends null (GraphQL declares them non-null).
    kept_when_absent: tuple[str, ...] = ()
    # Orders: `is_historical` (created before the shop's cutover) is computed on write.
    computes_is_historical: bool = False
    # Reconciliation: REST count parameters, and whether Shopify hides records older than 60 days
    # from shops without the read_all_orders scope.
    count_params: Mapping[str, str] = field(default_factory=dict)
    limited_without_all_orders_scope: bool = False
    # REST count endpoints (`{path}/count.json`) whose counts add up to Shopify's count; () = the name.
    count_resources: tuple[str, ...] = ()
    # Arguments the root connection always takes (locations: `includeInactive: true`, or Shopify
    # hides deactivated ones).
    root_arguments: str = ""
    # The paged queries' sort key. Only UPDATED_AT lets a run checkpoint its watermark page by page;
    # with another (locations sort by ID or NAME only) the watermark moves when the run completes.
    page_sort_key: str = "UPDATED_AT"
    # Whether incremental and update runs read only the roots updated in their window. False: every
    # run reads every root (locations: their levels change without moving the location's updatedAt,
    # and Shopify's `locations` search has no updated_at filter, contract §8.12).
    windowed: bool = True
    # Whether its `{name}Count` takes `limit: null` (uncapped). Locations: not carried by the
    # simulator's schema and unsure in the contract; the safer reading asks without it (a shop's
    # locations are far below the default cap of 10,000).
    count_uncapped: bool = True
    # Access scopes its job needs (contract §8.9): each group is satisfied by any one of its scopes. A
    # shop that granted none of a group's scopes has the job skipped, with a note in plain words,
    # rather than failed by Shopify's ACCESS_DENIED: the other resources sync as usual.
    required_scopes: tuple[tuple[str, ...], ...] = ()

    @property
    def connection(self) -> str:
        return self.name

    @property
    def count_paths(self) -> tuple[str, ...]:
        return self.count_resources or (self.name,)

    @property
    def connection_children(self) -> tuple[ChildDeclaration, ...]:
        return tuple(child for child in self.children if child.is_connection)

    def selected_connections(self, namespaces: Sequence[str] = ()) -> tuple[ChildDeclaration, ...]:
        """The connection children a shop's queries select (`namespaced` ones only with namespaces)."""
        return tuple(child for child in self.connection_children if child.is_selected(namespaces))

    @property
    def inline_children(self) -> tuple[ChildDeclaration, ...]:
        return tuple(child for child in self.children if not child.is_connection)

    def child(self, name: str) -> ChildDeclaration:
        for child in self.children:
            if name in (child.name, child.graphql_field):
                return child
        raise KeyError(f"{self.name} has no child {name!r}")

    def all_children(self) -> Iterable[ChildDeclaration]:
        """Every child declaration, at any depth, parents before their children."""
        stack = list(reversed(self.children))
        while stack:
            child = stack.pop()
            yield child
            stack.extend(reversed(child.children))
