"""The comparison at the heart of a reconciliation, in SQL: Shopify's (id, updatedAt) pairs are
loaded into a temporary table, then set differences against our record table give the missing,
extra and stale ids, counted and listed without holding either side in memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from shopsync.models import Shop
from shopsync.resources import declaration_for

DIFFERENCE_KINDS = ("missing", "extra", "stale")
# Without read_all_orders Shopify shows only the last 60 days of orders.
ORDER_VISIBILITY_WINDOW = timedelta(days=60)


class Scope:
    """What Shopify can show us: without read_all_orders, orders of the last 60 days only."""

    def __init__(self, *, resource: str, created_after: datetime | None) -> None:
        self.resource = resource
        self.created_after = created_after

    @classmethod
    def for_shop(cls, *, shop: Shop, resource: str, now: datetime) -> Scope:
        declaration = declaration_for(resource)
        limited = declaration.limited_without_all_orders_scope and not shop.has_all_orders_scope
        return cls(resource=resource, created_after=now - ORDER_VISIBILITY_WINDOW if limited else None)

    def count_params(self) -> dict[str, Any]:
        params: dict[str, Any] = dict(declaration_for(self.resource).count_params)
        if self.created_after is not None:
            params["created_at_min"] = self.created_after.isoformat()
        return params


class SnapshotTable:
    """Session-local temporary tables, dropped on exit: (shopify_id, updated_at) of the roots, and
    (name, parent_shopify_id, shopify_id) of the children the declaration reconciles by id. Not `ON
    COMMIT DROP`: the load and the comparisons run in autocommit, one transaction each."""

    def __init__(self, key: int) -> None:
        self.name = f"reconciliation_snapshot_{int(key)}"
        self.children = f"{self.name}_children"

    def __enter__(self) -> SnapshotTable:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
            cursor.execute(f"DROP TABLE IF EXISTS {self.children}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.name} (shopify_id bigint PRIMARY KEY, updated_at timestamptz)"
            )
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.children} (name varchar(64), parent_shopify_id bigint, "
                "shopify_id bigint, updated_at timestamptz)"
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
            cursor.execute(f"DROP TABLE IF EXISTS {self.children}")

    def load(self, rows: Iterator[tuple]) -> int:
        """Stream rows in (`(shopify_id, updated_at[, ((child name, child id[, child updated_at]),
        ...)])`); returns how many roots. PostgreSQL takes them with COPY, others row by row."""
        loaded = 0
        children: list[tuple[str, int, int, Any]] = []
        with connection.cursor() as cursor:
            # Whole seconds, as Shopify's `updatedAt` has: then `ours < theirs` compares to the
            # second even if our column holds a finer REST timestamp.
            roots = ((row[0], row[1].replace(microsecond=0)) for row in _collecting(rows, children))
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {self.name} (shopify_id, updated_at) FROM STDIN") as copy:
                    for row in roots:
                        copy.write_row(row)
                        loaded += 1
                with cursor.copy(
                    f"COPY {self.children} (name, parent_shopify_id, shopify_id, updated_at) FROM STDIN"
                ) as copy:
                    for child in children:
                        copy.write_row(child)
            else:
                for shopify_id, updated_at in roots:
                    cursor.execute(
                        f"INSERT INTO {self.name} (shopify_id, updated_at) VALUES (%s, %s)",  # noqa: S608
                        (shopify_id, _db_datetime(updated_at)),
                    )
                    loaded += 1
                for child in children:
                    cursor.execute(
                        f"INSERT INTO {self.children} (name, parent_shopify_id, shopify_id, updated_at) "  # noqa: S608
                        "VALUES (%s, %s, %s, %s)",
                        (*child[:3], _db_datetime(child[3])),
                    )
            cursor.execute(f"ANALYZE {self.name}")
            cursor.execute(f"ANALYZE {self.children}")
        return loaded


def _collecting(rows: Iterator[tuple], children: list[tuple[str, int, int, Any]]) -> Iterator[tuple]:
    for row in rows:
        if len(row) > 2:
            children += [(child[0], row[0], child[1], _whole_seconds(child)) for child in row[2]]
        yield row


def _whole_seconds(child: tuple) -> datetime | None:
    """A child's version (a metafield's `updatedAt`) to the second, as Shopify gives it; None when the
    child is compared by id only."""
    return child[2].replace(microsecond=0) if len(child) > 2 and child[2] is not None else None


DIFFERENCES = {
    "missing": (
        "SELECT s.shopify_id FROM {snapshot} s WHERE s.updated_at <= %(cutoff)s "
        "AND NOT EXISTS (SELECT 1 FROM {records} o WHERE o.shopify_id = s.shopify_id AND {ours})"
    ),
    "extra": (
        "SELECT o.shopify_id FROM {records} o WHERE {ours} "
        "AND (o.shopify_updated_at IS NULL OR o.shopify_updated_at <= %(cutoff)s) "
        "AND NOT EXISTS (SELECT 1 FROM {snapshot} s WHERE s.shopify_id = o.shopify_id)"
    ),
    # Stale: ours is older, or (at the same version) a reconciled child list differs id by id.
    "stale": (
        "SELECT s.shopify_id FROM {snapshot} s JOIN {records} o ON o.shopify_id = s.shopify_id "
        "WHERE {ours} AND s.updated_at <= %(cutoff)s AND (o.shopify_updated_at IS NULL "
        "OR o.shopify_updated_at < s.updated_at{children_differ})"
    ),
}
# One reconciled child kind whose ids differ between the snapshot and our rows of that parent (or,
# for a child compared by version, whose row we hold is older than Shopify's: an edited metafield).
CHILDREN_DIFFER = (
    " OR EXISTS (SELECT 1 FROM {children} sc WHERE sc.name = '{name}' AND sc.parent_shopify_id = s.shopify_id "
    "AND NOT EXISTS (SELECT 1 FROM {child_table} c WHERE c.shop_id = %(shop_id)s AND c.shopify_id = sc.shopify_id "
    "AND c.{parent_column} = o.id{same_version})) "
    "OR EXISTS (SELECT 1 FROM {child_table} c WHERE c.{parent_column} = o.id AND NOT EXISTS (SELECT 1 FROM "
    "{children} sc WHERE sc.name = '{name}' AND sc.parent_shopify_id = s.shopify_id AND sc.shopify_id = c.shopify_id))"
)


class Comparison:
    """The three differences as SQL over the snapshot table and our record table."""

    def __init__(self, *, table: str, shop: Shop, cutoff: datetime, scope: Scope) -> None:
        self.snapshot = table
        declaration = declaration_for(scope.resource)
        self.records = declaration.model._meta.db_table
        # Identifiers from the declarations (names we wrote, model tables), never from input.
        self.children_differ = "".join(
            CHILDREN_DIFFER.format(
                children=f"{table}_children", name=child.name, child_table=child.model._meta.db_table,
                parent_column=child.parent_column, same_version=_same_version(child),
            )
            for child in declaration.children
            if child.reconciled
        )  # fmt: skip
        self.params: dict[str, Any] = {
            "shop_id": shop.pk,
            "cutoff": _db_datetime(cutoff),
            "created_after": _db_datetime(scope.created_after),
        }
        self.scope_sql = (
            "" if scope.created_after is None else "AND o.shopify_created_at >= %(created_after)s"
        )

    def _select(self, kind: str) -> str:
        # Identifiers are ours (a model's table, an integer-named temp table); values are parameters.
        ours = f"o.shop_id = %(shop_id)s AND o.deleted_at IS NULL {self.scope_sql}"
        return DIFFERENCES[kind].format(
            snapshot=self.snapshot, records=self.records, ours=ours, children_differ=self.children_differ
        )

    def count(self, kind: str) -> int:
        return self._fetch(f"SELECT count(*) FROM ({self._select(kind)}) AS found", self.params)[0][0]  # noqa: S608

    def first_ids(self, kind: str, limit: int) -> list[int]:
        sql = f"SELECT shopify_id FROM ({self._select(kind)}) AS found ORDER BY shopify_id LIMIT %(limit)s"  # noqa: S608
        return [row[0] for row in self._fetch(sql, {**self.params, "limit": limit})]

    def iter_ids(self, *kinds: str, page_size: int = 1000) -> Iterator[int]:
        """Every id of the given kinds, in id order, a keyset page at a time (no giant lists)."""
        # No parentheses around the members: SQLite refuses them (and they hold no ORDER BY or LIMIT).
        union = " UNION ".join(self._select(kind) for kind in kinds)
        sql = (
            f"SELECT shopify_id FROM ({union}) AS found WHERE shopify_id > %(after)s "  # noqa: S608
            "ORDER BY shopify_id LIMIT %(limit)s"
        )
        after = -1
        while True:
            page = [row[0] for row in self._fetch(sql, {**self.params, "after": after, "limit": page_size})]
            yield from page
            if len(page) < page_size:
                return
            after = page[-1]

    def sample_ids(self, limit: int) -> list[int]:
        """Up to `limit` ids drawn at random among the records both sides hold at the same version
        (in scope, before the cutoff), not stale by their reconciled child ids either: those whose
        content the staleness check cannot judge."""
        ours = f"o.shop_id = %(shop_id)s AND o.deleted_at IS NULL {self.scope_sql}"
        sql = (
            f"SELECT s.shopify_id FROM {self.snapshot} s JOIN {self.records} o ON o.shopify_id = s.shopify_id "  # noqa: S608
            f"WHERE {ours} AND s.updated_at <= %(cutoff)s AND o.shopify_updated_at >= s.updated_at "
            f"AND NOT (false{self.children_differ}) ORDER BY random() LIMIT %(limit)s"
        )
        return sorted(row[0] for row in self._fetch(sql, {**self.params, "limit": limit}))

    def local_count(self) -> int:
        sql = (
            f"SELECT count(*) FROM {self.records} o "  # noqa: S608
            f"WHERE o.shop_id = %(shop_id)s AND o.deleted_at IS NULL {self.scope_sql}"
        )
        return self._fetch(sql, self.params)[0][0]

    @staticmethod
    def _fetch(sql: str, params: dict[str, Any]) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


def _same_version(child: Any) -> str:
    """The clause that our child row is not older than the snapshot's (children compared by version)."""
    if not child.version_column:
        return ""
    return f" AND (sc.updated_at IS NULL OR c.{child.version_column} >= sc.updated_at)"


def _db_datetime(value: datetime | None) -> Any:
    """A datetime as the ORM stores it in a DateTimeField, for raw SQL to compare with those columns:
    PostgreSQL takes it as it is; SQLite stores naive UTC text, which compares as text, so an aware
    value's "+00:00" would make equal instants unequal."""
    return None if value is None else connection.ops.adapt_datetimefield_value(value)
