"""THE write path: every Shopify record (sync, webhooks, dead-letter retries, reconciliation heal)
enters the database through `records_upsert` / `records_soft_delete`.

One batch is one transaction (a savepoint inside the caller's, so a sync can commit its checkpoint
with the batch): stage the rows in temporary tables, then one merge statement per table. No record is
read into Python before it is written; the database decides who wins (see `statements._wins`).
"""

# ruff: noqa: S608 - SQL is built only from model metadata (table and column names); values are always parameters.
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q
from django.utils import timezone
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from shopsync.models import Shop
from shopsync.payloads.records import AnyRecord
from shopsync.resources import Ordering, Resource, declaration_for
from shopsync.services.upsert import statements
from shopsync.services.upsert.dialects import Dialect, dialect_for
from shopsync.services.upsert.encoding import (
    ChildRecords,
    EncodedBatch,
    adapted_rows,
    child_rows,
    newest_per_id,
)
from shopsync.services.upsert.result import UpsertMode, UpsertResult
from shopsync.services.upsert.tables import TABLES, ChildTable, ParentTable

MAX_ATTEMPTS = 5
# 40001 serialization_failure, 40P01 deadlock_detected: the transaction lost a race and may simply
# run again (rows are sorted by key, so deadlocks need an unusual interleaving, but they can happen).
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})


def records_upsert(
    *,
    shop: Shop,
    resource: Resource | str,
    records: Iterable[AnyRecord] | EncodedBatch,
    mode: UpsertMode = UpsertMode.LATEST_WINS,
    using: str = DEFAULT_DB_ALIAS,
) -> UpsertResult:
    """Write one batch of records of one resource (any size up to a few thousand parents), or the
    same batch encoded ahead of time (`records_encode`, see `encoded_batch_upsert`).

    Duplicate ids within the batch collapse to the newest `shopify_updated_at` (the later one on a
    tie). An order or product that wins replaces its line items / variants; one that loses leaves them,
    and so does one whose record does not carry them (`None`: a partial payload; `[]` removes them).
    """
    if isinstance(records, EncodedBatch):
        if records.resource != Resource(resource):
            raise ValueError(f"an encoded batch of {records.resource} cannot be written as {resource}")
        return encoded_batch_upsert(shop=shop, batch=records, mode=mode, using=using)
    spec = TABLES[Resource(resource)]
    batch = newest_per_id(records)
    if not batch:
        return UpsertResult()
    write = _BatchWrite(spec=spec, shop_id=shop.pk, source=_RecordsSource(batch, spec), mode=UpsertMode(mode))
    return _run_with_retries(write.run, using=using)


def encoded_batch_upsert(
    *,
    shop: Shop,
    batch: EncodedBatch,
    mode: UpsertMode = UpsertMode.LATEST_WINS,
    using: str = DEFAULT_DB_ALIAS,
) -> UpsertResult:
    """`records_upsert` for a batch encoded ahead of time (`encoding.records_encode`): the same
    statements, the same result; PostgreSQL only (the encoding is its COPY format)."""
    if connections[using].vendor != "postgresql":
        raise ImproperlyConfigured(
            "encoded batches are PostgreSQL COPY data; write records on other databases"
        )
    if not len(batch):
        return UpsertResult()
    spec = TABLES[batch.resource]
    write = _BatchWrite(spec=spec, shop_id=shop.pk, source=_EncodedSource(batch), mode=UpsertMode(mode))
    return _run_with_retries(write.run, using=using)


def records_soft_delete(
    *,
    shop: Shop,
    resource: Resource | str,
    shopify_ids: Iterable[int],
    deleted_at: datetime,
    using: str = DEFAULT_DB_ALIAS,
) -> int:
    """Mark records deleted at `deleted_at`; returns how many became deleted by this call.

    The row stays as a tombstone (children included). A record not seen yet gets a tombstone row with
    only its id, so a late create cannot resurrect it. The first deletion sticks (a replayed delete
    changes nothing). Shopify deletes are terminal, so a delete applies even when the stored version is
    newer than `deleted_at` (clock skew): the stored instant is then lifted to that version. Afterwards
    only a payload with `shopify_updated_at` strictly after `deleted_at` can bring the record back.
    """
    spec = TABLES[Resource(resource)]
    ids = sorted({int(shopify_id) for shopify_id in shopify_ids})
    if not ids:
        return 0

    def run(dialect: Dialect) -> int:
        dialect.prepare_stage(statements.ID_LIST, "shopify_id bigint")
        dialect.stage(statements.ID_LIST, ["shopify_id"], ((i,) for i in ids))
        params = [shop.pk, dialect.adapt_timestamp(timezone.now()), dialect.adapt_timestamp(deleted_at)]
        deleted = len(dialect.execute(statements.tombstone_sql(spec, dialect), params))
        _deleted_references_clear(dialect, spec=spec, shop_id=shop.pk)
        return deleted

    return _run_with_retries(run, using=using)


def _deleted_references_clear(dialect: Dialect, *, spec: ParentTable, shop_id: int) -> None:
    """Clear what Shopify clears elsewhere when the records of ID_LIST are deleted, and when their
    children go with them (`deleted_references`: a deleted product's line items lose their product
    and variant ids), in the deleting transaction. For every id given, not only the newly deleted
    ones: it is idempotent (Shopify ids are never reused), so a replayed delete still clears them."""
    for reference in spec.deleted_references:
        sql = statements.references_clear_sql(reference, dialect, gone_ids=statements.deleted_ids_sql())
        dialect.execute(sql, [shop_id])
    for child, parent_index in spec.flat_children:
        if parent_index >= 0:
            continue  # children of children: none declares references (their rows stay anyway)
        for reference in child.deleted_references:
            gone = statements.deleted_children_ids_sql(spec, child, dialect)
            dialect.execute(
                statements.references_clear_sql(reference, dialect, gone_ids=gone), [shop_id, shop_id]
            )


def child_records_insert(
    *,
    shop: Shop,
    resource: Resource | str,
    child: str,
    parent_shopify_id: int,
    records: Iterable[Any],
    using: str = DEFAULT_DB_ALIAS,
) -> bool:
    """Add children (one kind, named by its declaration's `name`) under their stored parent, leaving
    its other children, and any stored child with the same id, as they are: a stored copy came from
    a parent version, which is at least as new as a one-child webhook (Ordering.PARENT). Returns
    False, writing nothing, when the parent is not stored (or is a tombstone): the caller fetches it."""
    spec = TABLES[Resource(resource)]
    table = next(
        table for table, above in spec.flat_children if above < 0 and table.records_attribute == child
    )
    owner = _Owner(parent_shopify_id, {child: list(records)})

    def run(dialect: Dialect) -> bool:
        dialect.prepare_stage(statements.ID_LIST, "shopify_id bigint")
        dialect.stage(statements.ID_LIST, ["shopify_id"], [(parent_shopify_id,)])
        found = dialect.execute(statements.parents_stored_sql(spec, dialect), [shop.pk])
        if not found:
            return False
        dialect.prepare_stage(table.parent_map, "shopify_id bigint, id bigint")
        dialect.stage(table.parent_map, ["shopify_id", "id"], found)
        columns_sql = statements.stage_columns_sql(
            dialect, table.columns, prefix=("parent_shopify_id bigint",)
        )
        dialect.prepare_stage(table.stage, columns_sql)
        rows, _ = child_rows(table, [owner])
        names = ["parent_shopify_id", *(c.name for c in table.columns)]
        dialect.stage(table.stage, names, adapted_rows(dialect.adapter, table.columns, rows, offset=1))
        added = dialect.execute(statements.children_insert_missing_sql(table, dialect), [shop.pk])
        if added:
            dialect.execute(
                statements.touch_sql(spec, dialect, 1), [dialect.adapt_timestamp(timezone.now()), found[0][1]]
            )
        return True

    return _run_with_retries(run, using=using)


def child_records_upsert(
    *,
    shop: Shop,
    resource: Resource | str,
    child: str,
    records_by_parent: dict[int, list[Any]],
    using: str = DEFAULT_DB_ALIAS,
) -> set[int]:
    """Upsert children with a clock of their own (`Ordering.UPDATED_AT`: inventory levels) under
    their stored parents, in one statement for the whole batch, leaving their siblings: a stored
    row newer than the incoming one stays; a column the body does not carry (`kept_when_absent`)
    keeps its value. Several versions of one child in the batch collapse to the newest. Returns
    the parents not stored (or tombstones), whose children were not written: the caller fetches them."""
    spec = TABLES[Resource(resource)]
    table = next(
        table for table, above in spec.flat_children if above < 0 and table.records_attribute == child
    )
    owners = [_Owner(parent_id, {child: _newest_children(records)}) for parent_id, records in
              sorted(records_by_parent.items())]  # fmt: skip
    if not owners:
        return set()

    def run(dialect: Dialect) -> set[int]:
        dialect.prepare_stage(statements.ID_LIST, "shopify_id bigint")
        dialect.stage(statements.ID_LIST, ["shopify_id"], [(owner.shopify_id,) for owner in owners])
        found = dialect.execute(statements.parents_stored_sql(spec, dialect), [shop.pk])
        stored = {shopify_id for shopify_id, _ in found}
        if found:
            dialect.prepare_stage(table.parent_map, "shopify_id bigint, id bigint")
            dialect.stage(table.parent_map, ["shopify_id", "id"], found)
            columns_sql = statements.stage_columns_sql(
                dialect, table.columns, prefix=("parent_shopify_id bigint",)
            )
            dialect.prepare_stage(table.stage, columns_sql)
            rows, _ = child_rows(table, [owner for owner in owners if owner.shopify_id in stored])
            names = ["parent_shopify_id", *(c.name for c in table.columns)]
            dialect.stage(table.stage, names, adapted_rows(dialect.adapter, table.columns, rows, offset=1))
            dialect.execute(statements.children_upsert_sql(table, dialect, returning=False), [shop.pk])
        return {owner.shopify_id for owner in owners} - stored

    return _run_with_retries(run, using=using)


def nested_children_replace(
    *,
    shop: Shop,
    resource: Resource | str,
    child: str,
    parts: dict[int, dict[str, list[Any]]],
    using: str = DEFAULT_DB_ALIAS,
) -> int:
    """Replace the parts of stored children of one kind (a refund's line items, shipping lines and
    adjustments, by the refund's Shopify id) with the sets given, other children untouched. For the
    parts a bulk line cannot carry (`services/sync/order_children_pass.py`); a refund or
    fulfillment never changes its parts, so there is no version to compare. A child not stored is
    skipped. Returns how many children were written."""
    spec = TABLES[Resource(resource)]
    flat = spec.flat_children
    index = next(i for i, (table, above) in enumerate(flat) if above < 0 and table.records_attribute == child)
    tables = [table for table, above in flat if above == index]
    ids = sorted(parts)
    if not ids or not tables:
        return 0
    owners = [_Owner(shopify_id, parts[shopify_id]) for shopify_id in ids]
    above = flat[index][0]

    def run(dialect: Dialect) -> int:
        dialect.prepare_stage(statements.ID_LIST, "shopify_id bigint")
        dialect.stage(statements.ID_LIST, ["shopify_id"], [(i,) for i in ids])
        found = dialect.execute(statements.children_stored_sql(above, dialect), [shop.pk])
        if not found:
            return 0
        stored = {shopify_id for shopify_id, _ in found}
        for table in tables:
            given = [
                o
                for o in owners
                if o.shopify_id in stored and getattr(o, table.records_attribute, None) is not None
            ]
            dialect.prepare_stage(table.parent_map, "shopify_id bigint, id bigint")
            dialect.stage(
                table.parent_map,
                ["shopify_id", "id"],
                [r for r in found if r[0] in {o.shopify_id for o in given}],
            )
            columns_sql = statements.stage_columns_sql(
                dialect, table.columns, prefix=("parent_shopify_id bigint",)
            )
            dialect.prepare_stage(table.stage, columns_sql)
            rows, _ = child_rows(table, given)
            names = ["parent_shopify_id", *(c.name for c in table.columns)]
            dialect.stage(table.stage, names, adapted_rows(dialect.adapter, table.columns, rows, offset=1))
            dialect.execute(statements.children_delete_sql(table, returning=False))
            dialect.execute(statements.children_upsert_sql(table, dialect, returning=False), [shop.pk])
        return len(stored)

    return _run_with_retries(run, using=using)


def _newest_children(records: list[Any]) -> list[Any]:
    """One record per child id, the newest `shopify_updated_at` (the later one on a tie)."""
    newest: dict[int, Any] = {}
    for record in records:
        kept = newest.get(record.shopify_id)
        if (
            kept is None
            or kept.shopify_updated_at is None
            or (
                record.shopify_updated_at is not None and kept.shopify_updated_at <= record.shopify_updated_at
            )
        ):
            newest[record.shopify_id] = record
    return [newest[key] for key in sorted(newest)]


def child_records_delete(
    *,
    shop: Shop,
    resource: Resource | str,
    child: str,
    parent_shopify_id: int,
    shopify_id: int,
    deleted_at: datetime,
    using: str = DEFAULT_DB_ALIAS,
) -> ChildDeleteResult:
    """Remove one child (an inventory level disconnected from its location), unless its stored
    version may be newer than the removal (a reconnection Shopify made after it).

    Shopify's `updated_at` has whole seconds, the removal's trigger time does not: a version stamped
    in the removal's own second may be older or newer. Such a row is left, and reported `ambiguous`
    (the caller asks Shopify)."""
    declaration = declaration_for(resource)
    child_declaration = declaration.child(child)
    rows = child_declaration.model.objects.using(using).filter(
        shop=shop,
        shopify_id=shopify_id,
        **{f"{child_declaration.parent_column.removesuffix('_id')}__shopify_id": parent_shopify_id},
    )
    if child_declaration.ordering is not Ordering.UPDATED_AT:
        return ChildDeleteResult(deleted=rows.delete()[0], ambiguous=False)
    second = deleted_at.replace(microsecond=0)
    deleted, _ = rows.filter(Q(shopify_updated_at__isnull=True) | Q(shopify_updated_at__lt=second)).delete()
    ambiguous = rows.filter(shopify_updated_at__gte=second, shopify_updated_at__lte=deleted_at).exists()
    return ChildDeleteResult(deleted=deleted, ambiguous=ambiguous)


@dataclass(frozen=True, slots=True)
class ChildDeleteResult:
    deleted: int
    # A stored version in the removal's own second: which came first is unknown here.
    ambiguous: bool


class _Owner:
    """A parent as `child_rows` reads it: its id and its child lists."""

    def __init__(self, shopify_id: int, children: dict[str, list[Any]]) -> None:
        self.shopify_id = shopify_id
        self.shopify_updated_at = None
        self.__dict__.update(children)


def records_analyze(*, resource: Resource | str, using: str = DEFAULT_DB_ALIAS) -> None:
    """Refresh the planner's statistics of a resource's tables (parent and children).

    A bulk import grows a table by millions of rows faster than autovacuum re-analyzes it; with
    the stale estimate ("this shop has a few hundred orders") the statements that join a batch to
    its stored rows pick plans that read every row of the shop for each batch. Cheap (ANALYZE
    samples), and it takes no lock writers wait on."""
    spec = TABLES[Resource(resource)]
    with connections[using].cursor() as cursor:
        for table in spec.all_tables():
            cursor.execute(f"ANALYZE {table}")


def _is_transient(error: BaseException) -> bool:
    for candidate in (error, error.__cause__):
        if getattr(candidate, "sqlstate", None) in TRANSIENT_SQLSTATES:
            return True
        # SQLite: another connection holds the write lock past the busy timeout.
        if "database is locked" in str(candidate or ""):
            return True
    return False


def _run_with_retries[T](work: Callable[[Dialect], T], *, using: str) -> T:
    connection = connections[using]
    retrying = Retrying(
        stop=stop_after_attempt(MAX_ATTEMPTS),
        wait=wait_random_exponential(multiplier=0.05, max=2),
        retry=retry_if_exception(_is_transient),
        reraise=True,
    )
    for attempt in retrying:
        with attempt, transaction.atomic(using=using):
            dialect = dialect_for(connection)
            try:
                return work(dialect)
            finally:
                dialect.close()
    raise AssertionError("unreachable: tenacity reraises the last error")


class _BatchWrite:
    """One batch through the steps of `run`; holds nothing across retries but its input."""

    def __init__(self, *, spec: ParentTable, shop_id: int, source: _RecordsSource | _EncodedSource,
                 mode: UpsertMode) -> None:  # fmt: skip
        self.spec = spec
        self.shop_id = shop_id
        self.source = source
        self.mode = mode

    def run(self, dialect: Dialect) -> UpsertResult:
        """1. stage the parents; 2. merge them; 3. find the rows now at the staged version (replays
        included); 4. replace the children of those; 5. count."""
        self.dialect = dialect
        self.now = timezone.now()
        self._stage_parents()
        id_floor = self._max_id() if not dialect.reports_inserted else 0
        merged = dialect.execute(
            statements.merge_sql(self.spec, dialect, populate=self._populate), self._merge_params()
        )
        written = {
            row[0]: (row[1], row[2] if dialect.reports_inserted else row[1] > id_floor) for row in merged
        }
        unchanged: dict[int, int] = {}
        if not self._populate and len(written) < self.source.count:
            current = dialect.execute(statements.current_sql(self.spec, dialect), [self.shop_id])
            unchanged = {shopify_id: pk for shopify_id, pk in current if shopify_id not in written}
        children_changed = self._write_children(written, unchanged)
        return self._result(written, unchanged, children_changed)

    @property
    def _populate(self) -> bool:
        return self.mode is UpsertMode.POPULATE

    def _merge_params(self) -> list[Any]:
        params = [self.shop_id, self.dialect.adapt_timestamp(self.now)]
        return [*params, self.shop_id] if self.spec.computes_is_historical else params

    def _max_id(self) -> int:
        return self.dialect.execute(f"SELECT COALESCE(MAX(id), 0) FROM {self.spec.table}")[0][0]

    def _stage_parents(self) -> None:
        spec, dialect = self.spec, self.dialect
        dialect.prepare_stage(spec.stage, statements.stage_columns_sql(dialect, spec.columns))
        self.source.stage_parents(dialect, spec)

    def _write_children(self, written: dict[int, tuple[int, bool]], unchanged: dict[int, int]) -> set[int]:
        """Replace the children of the parents now at the staged version, table by table (children of
        children after their parents). Returns the parent pks whose children changed."""
        parents = {shopify_id: pk for shopify_id, (pk, _) in written.items()} | unchanged
        if not self.spec.children or not parents:
            return set()
        # Which parents' children changed matters only for parents that are otherwise unchanged (they
        # get `synced_at` touched); without such parents the statements return nothing to read.
        returning = bool(unchanged)
        # Only rows that existed before can have children to drop (new ones start empty).
        all_new = not unchanged and all(inserted for _, inserted in written.values())
        # Per table, its rows' ids mapped to the resource row they belong to (for `changed`).
        owners: list[dict[int, int]] = []
        changed: set[int] = set()
        self.namespaces = self._chosen_namespaces()
        for index, (child, parent_index) in enumerate(self.spec.flat_children):
            if child.namespace_column and not self.namespaces:
                # A shop mirroring no metafields (the default): its queries select none, and the
                # setting's change deleted any stored; nothing to write or delete.
                owners.append({})
                continue
            skipped = set(self.source.children_not_given[index])
            if parent_index < 0:
                # A parent not carrying this list is not in the map: its children stay as they are.
                rows = [
                    (shopify_id, pk, pk)
                    for shopify_id, pk in sorted(parents.items())
                    if shopify_id not in skipped
                ]
            else:
                above = self.spec.flat_children[parent_index][0]
                stored = self.dialect.execute(statements.child_rows_sql(above, self.dialect), [self.shop_id])
                rows = [
                    (shopify_id, pk, owners[parent_index][parent_pk])
                    for shopify_id, pk, parent_pk in stored
                    if shopify_id not in skipped
                ]
            owners.append({pk: owner for _, pk, owner in rows})
            changed |= {owners[index][pk] for pk in self._replace(child, rows, index, returning=returning,
                                                                   delete=parent_index >= 0 or not all_new)}  # fmt: skip
        return changed

    def _replace(self, child: ChildTable, rows: list[tuple[int, int, int]], index: int, *, returning: bool,
                 delete: bool) -> set[int]:  # fmt: skip
        """Stage the parent map and the children of one child table, then delete and upsert. Returns
        the parent row ids whose children changed (when `returning`)."""
        dialect = self.dialect
        dialect.prepare_stage(child.parent_map, "shopify_id bigint, id bigint")
        dialect.stage(
            child.parent_map, ["shopify_id", "id"], [(shopify_id, pk) for shopify_id, pk, _ in rows]
        )
        columns_sql = statements.stage_columns_sql(
            dialect, child.columns, prefix=("parent_shopify_id bigint",)
        )
        dialect.prepare_stage(child.stage, columns_sql)
        if rows:
            self.source.stage_children(dialect, child, index, {shopify_id for shopify_id, _, _ in rows})
            if child.namespace_column:
                self._keep_chosen_namespaces(child, self.namespaces)
        changed: set[int] = set()
        if delete and rows:
            with_ids = bool(child.deleted_references)
            deleted = dialect.execute(statements.children_delete_sql(child, returning=returning or with_ids))
            changed = {row[0] for row in deleted} if returning else set()
            if with_ids and deleted:
                self._gone_references_clear(child, sorted({row[1] for row in deleted}))
        if rows:
            upserted = dialect.execute(
                statements.children_upsert_sql(child, dialect, returning=returning), [self.shop_id]
            )
            changed |= {row[0] for row in upserted}
        return changed

    def _gone_references_clear(self, child: ChildTable, gone: list[int]) -> None:
        """Children the new versions dropped (a variant deleted from its product): clear what Shopify
        clears elsewhere (`deleted_references`), in this batch's transaction, one UPDATE each."""
        dialect = self.dialect
        dialect.prepare_stage(statements.ID_LIST, "shopify_id bigint")
        dialect.stage(statements.ID_LIST, ["shopify_id"], ((i,) for i in gone))
        for reference in child.deleted_references:
            sql = statements.references_clear_sql(
                reference, dialect, gone_ids=statements.gone_children_ids_sql(child)
            )
            dialect.execute(sql, [self.shop_id])

    def _chosen_namespaces(self) -> list[str]:
        """The shop's metafield namespaces, read in this transaction (a setting changed since the job
        started counts); none read for a resource without namespaced children."""
        if not any(child.namespace_column for child, _ in self.spec.flat_children):
            return []
        found = self.dialect.execute(
            f"SELECT metafield_namespaces FROM {Shop._meta.db_table} WHERE id = %s", [self.shop_id]
        )
        chosen = found[0][0] if found else None
        # JSON text or already decoded, as the driver gives it.
        return [str(n) for n in (json.loads(chosen) if isinstance(chosen, str | bytes) else chosen) or ()]

    def _keep_chosen_namespaces(self, child: ChildTable, namespaces: list[str]) -> None:
        """Drop the staged rows outside the chosen namespaces: a query for several namespaces reads
        them all, and a row so dropped is then deleted from the table with its owner's replaced set."""
        marks = ", ".join(["%s"] * len(namespaces))
        self.dialect.execute(
            f"DELETE FROM {child.stage} WHERE {child.namespace_column} NOT IN ({marks})", namespaces
        )

    def _result(
        self, written: dict[int, tuple[int, bool]], unchanged: dict[int, int], children_changed: set[int]
    ) -> UpsertResult:
        created = sum(1 for _, inserted in written.values() if inserted)
        touched = sorted(pk for pk in unchanged.values() if pk in children_changed)
        if touched:
            sql = statements.touch_sql(self.spec, self.dialect, len(touched))
            self.dialect.execute(sql, [self.dialect.adapt_timestamp(self.now), *touched])
        if self._populate:
            return UpsertResult(created=created, skipped_existing=self.source.count - created)
        return UpsertResult(
            created=created,
            updated=len(written) - created + len(touched),
            unchanged=len(unchanged) - len(touched),
            skipped_stale=self.source.count - len(written) - len(unchanged),
        )


class _RecordsSource:
    """Rows from records, adapted for the live dialect; only the winners' children are staged."""

    def __init__(self, records: list[AnyRecord], spec: ParentTable) -> None:
        self.records = records
        self.count = len(records)
        self.split = ChildRecords(spec, records)
        self.children_not_given = self.split.not_given

    def stage_parents(self, dialect: Dialect, spec: ParentTable) -> None:
        rows = adapted_rows(dialect.adapter, spec.columns, map(spec.values, self.records))
        dialect.stage(spec.stage, [c.name for c in spec.columns], rows)

    def stage_children(self, dialect: Dialect, child: ChildTable, index: int, parents: set[int]) -> None:
        owners = [owner for owner in self.split.given[index] if owner.shopify_id in parents]
        rows, _ = child_rows(child, owners)
        names = ["parent_shopify_id", *(c.name for c in child.columns)]
        dialect.stage(child.stage, names, adapted_rows(dialect.adapter, child.columns, rows, offset=1))


class _EncodedSource:
    """Rows already in COPY text: every child is staged, the child statements join the winners."""

    def __init__(self, batch: EncodedBatch) -> None:
        self.batch = batch
        self.count = len(batch)
        self.children_not_given = batch.children_not_given

    def stage_parents(self, dialect: Dialect, spec: ParentTable) -> None:
        dialect.stage_copy_text(spec.stage, [c.name for c in spec.columns], self.batch.parents)

    def stage_children(self, dialect: Dialect, child: ChildTable, index: int, parents: set[int]) -> None:
        names = ["parent_shopify_id", *(c.name for c in child.columns)]
        dialect.stage_copy_text(child.stage, names, self.batch.children[index])
