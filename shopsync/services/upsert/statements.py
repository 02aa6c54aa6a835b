"""The SQL of the write path, one builder per statement, shared by PostgreSQL and SQLite.

All statements read the batch from temporary stage tables and write in `shopify_id` order, so two
writers touching overlapping batches take row locks in the same order (no lock cycles).
"""

# ruff: noqa: S608 - SQL is built only from model metadata (table and column names); values are always parameters.
from __future__ import annotations

from shopsync.resources import DeletedReference
from shopsync.services.upsert.dialects import Dialect
from shopsync.services.upsert.tables import ChildTable, ParentTable

ID_LIST = "_shopsync_stage_id"
CUTOVER = "(SELECT cutover_at FROM shopsync_shop WHERE id = {shop})"


def stage_columns_sql(dialect: Dialect, columns, *, prefix: tuple[str, ...] = ()) -> str:
    return ", ".join([*prefix, *(f"{c.name} {dialect.column_type(c)}" for c in columns)])


def _insert_head(
    spec: ParentTable, dialect: Dialect, *, values: list[str], deleted_at: str, is_historical: str
) -> tuple[list, list]:
    """Target columns and SELECT expressions shared by the merge and the tombstone insert; the
    parameters are, in order: shop id, synced_at, then whatever `deleted_at` / `is_historical` take."""
    targets = ["shop_id", *(c.name for c in spec.columns), "synced_at", "deleted_at"]
    expressions = [dialect.param("bigint"), *values, dialect.param("timestamp"), deleted_at]
    if spec.computes_is_historical:
        targets.append("is_historical")
        expressions.append(is_historical)
    for column, literal in spec.insert_only:
        targets.append(column)
        expressions.append(literal)
    return targets, expressions


def merge_sql(spec: ParentTable, dialect: Dialect, *, populate: bool) -> str:
    """Params: shop id, synced_at[, shop id again for the cutover]. Returns (shopify_id, id[, inserted])."""
    table = spec.table
    cutover = CUTOVER.format(shop=dialect.param("bigint"))
    targets, expressions = _insert_head(
        spec,
        dialect,
        values=[f"s.{c.name}" for c in spec.columns],
        deleted_at="NULL",
        is_historical=f"COALESCE(s.shopify_created_at < {cutover}, {dialect.false})",
    )
    insert = (
        f"INSERT INTO {table} ({', '.join(targets)}) SELECT {', '.join(expressions)} "
        f"FROM {spec.stage} AS s WHERE true ORDER BY s.shopify_id "
    )
    returning = f" RETURNING shopify_id, id{dialect.returning_inserted()}"
    if populate:
        return insert + "ON CONFLICT (shop_id, shopify_id) DO NOTHING" + returning
    return (
        insert
        + f"ON CONFLICT (shop_id, shopify_id) DO UPDATE SET {_update_set(spec)} WHERE {_wins(spec, dialect)}"
        + returning
    )


def _incoming(spec: ParentTable, name: str) -> str:
    """The value a winning version writes: its own, except where it did not carry a column that
    only some shapes carry (`kept_when_absent`)."""
    if name in spec.kept_when_absent:
        return f"COALESCE(excluded.{name}, {spec.table}.{name})"
    return f"excluded.{name}"


def _update_set(spec: ParentTable) -> str:
    names = [c.name for c in spec.columns[1:]]
    if spec.computes_is_historical:
        names.append("is_historical")
    assignments = [f"{name} = {_incoming(spec, name)}" for name in names]
    return ", ".join([*assignments, "deleted_at = NULL", "synced_at = excluded.synced_at"])


def _wins(spec: ParentTable, dialect: Dialect) -> str:
    """The incoming version replaces the stored row when:
    1. the stored version is not newer (ties win: a re-fetch of the same version is authoritative);
    2. the row is not a tombstone, or the payload is strictly newer than the deletion (a version
       Shopify made after the delete, like a restore); a delete replayed late never loses to an
       older payload;
    3. something actually differs, so a replay rewrites nothing and keeps `synced_at`.
    """
    table = spec.table
    changes = [dialect.differs(f"{table}.{c.name}", _incoming(spec, c.name), c) for c in spec.columns[1:]]
    if spec.computes_is_historical:
        changes.append(dialect.differs(f"{table}.is_historical", "excluded.is_historical"))
    return (
        f"({table}.shopify_updated_at IS NULL OR {table}.shopify_updated_at <= excluded.shopify_updated_at) "
        f"AND ({table}.deleted_at IS NULL OR excluded.shopify_updated_at > {table}.deleted_at) "
        f"AND ({table}.deleted_at IS NOT NULL OR {' OR '.join(changes)})"
    )


def current_sql(spec: ParentTable, dialect: Dialect) -> str:
    """Staged records whose stored row now holds exactly their version (written by us, or already
    there: a replay). Locks them on PostgreSQL so their children can be compared safely. Param: shop."""
    return (
        f"SELECT t.shopify_id, t.id FROM {spec.table} AS t JOIN {spec.stage} AS s ON s.shopify_id = t.shopify_id "
        f"WHERE t.shop_id = {dialect.param('bigint')} AND t.shopify_updated_at = s.shopify_updated_at "
        f"AND t.deleted_at IS NULL ORDER BY t.shopify_id{dialect.lock_rows}"
    )


def children_delete_sql(child: ChildTable, *, returning: bool = True) -> str:
    """Drop the children of the winning parents (`child.parent_map`) that the new versions no longer
    have. Returns (parent id, child shopify_id) rows if `returning`."""
    table, parent, parent_map = child.table, child.parent_column, child.parent_map
    return (
        f"DELETE FROM {table} WHERE {parent} IN (SELECT id FROM {parent_map}) AND NOT EXISTS ("
        f"SELECT 1 FROM {child.stage} AS c JOIN {parent_map} AS p ON p.shopify_id = c.parent_shopify_id "
        f"WHERE c.shopify_id = {table}.shopify_id AND p.id = {table}.{parent})"
        + (f" RETURNING {parent}, shopify_id" if returning else "")
    )


def references_clear_sql(reference: DeletedReference, dialect: Dialect, *, gone_ids: str) -> str:
    """One set-based UPDATE: clear `reference.cleared_columns` on the shop's rows that name one of the
    ids the subquery `gone_ids` selects. Rows already cleared are not rewritten (a replay changes
    nothing). Param: shop, then whatever `gone_ids` takes."""
    table = reference.model._meta.db_table
    cleared = ", ".join(f"{column} = NULL" for column in reference.cleared_columns)
    still_set = " OR ".join(f"{column} IS NOT NULL" for column in reference.cleared_columns)
    return (
        f"UPDATE {table} SET {cleared} WHERE shop_id = {dialect.param('bigint')} "
        f"AND {reference.id_column} IN ({gone_ids}) AND ({still_set})"
    )


def deleted_ids_sql() -> str:
    """The ids of ID_LIST (records being deleted), as a subquery for `references_clear_sql`."""
    return f"SELECT shopify_id FROM {ID_LIST}"


def deleted_children_ids_sql(spec: ParentTable, child: ChildTable, dialect: Dialect) -> str:
    """The stored children of the records of ID_LIST (records being deleted take their children
    with them: a deleted product's variants), as a subquery. Param: shop."""
    return (
        f"SELECT c.shopify_id FROM {child.table} AS c JOIN {spec.table} AS p ON p.id = c.{child.parent_column} "
        f"WHERE p.shop_id = {dialect.param('bigint')} AND p.shopify_id IN (SELECT shopify_id FROM {ID_LIST})"
    )


def gone_children_ids_sql(child: ChildTable) -> str:
    """Children a write just dropped (staged in ID_LIST) that no winning parent lists any more (one
    that moved to another parent of the batch is not gone), as a subquery."""
    return f"SELECT shopify_id FROM {ID_LIST} WHERE shopify_id NOT IN (SELECT shopify_id FROM {child.stage})"


def children_upsert_sql(child: ChildTable, dialect: Dialect, *, returning: bool = True) -> str:
    """Insert or update the winning parents' children; a child that moved between parents follows its
    new parent (the unique key is (shop, shopify_id), so no conflict). Param: shop. Returns parent ids
    if `returning`."""
    table, parent = child.table, child.parent_column
    names = [c.name for c in child.columns]

    def incoming(name: str) -> str:
        if name in child.kept_when_absent:
            return f"COALESCE(excluded.{name}, {table}.{name})"
        return f"excluded.{name}"

    changes = [dialect.differs(f"{table}.{parent}", f"excluded.{parent}")]
    changes += [dialect.differs(f"{table}.{c.name}", incoming(c.name), c) for c in child.columns[1:]]
    assignments = [f"{name} = {incoming(name)}" for name in [parent, *names[1:]]]
    wins = f"({' OR '.join(changes)})"
    if child.updated_at_wins:
        # A child with its own clock (an inventory level): an older version never replaces a newer one.
        wins += (
            f" AND ({table}.shopify_updated_at IS NULL OR excluded.shopify_updated_at IS NULL "
            f"OR {table}.shopify_updated_at <= excluded.shopify_updated_at)"
        )
    return (
        f"INSERT INTO {table} (shop_id, {parent}, {', '.join(names)}) "
        f"SELECT {dialect.param('bigint')}, p.id, {', '.join(f'c.{n}' for n in names)} "
        f"FROM {child.stage} AS c JOIN {child.parent_map} AS p ON p.shopify_id = c.parent_shopify_id "
        f"WHERE true ORDER BY {_child_order(child)} "
        f"ON CONFLICT ({child.conflict_columns}) DO UPDATE SET {', '.join(assignments)} "
        f"WHERE {wins}" + (f" RETURNING {parent}" if returning else "")
    )


def _child_order(child: ChildTable) -> str:
    """Rows in key order (lock order): the child's id, or the parent then the child's id for a child
    keyed per parent (a collection's members)."""
    return "p.id, c.shopify_id" if child.unique_per_parent else "c.shopify_id"


def child_rows_sql(child: ChildTable, dialect: Dialect) -> str:
    """The rows of `child` under the parents of its parent map, for its own children's parent map:
    (shopify_id, id, parent row id). Param: shop."""
    return (
        f"SELECT t.shopify_id, t.id, t.{child.parent_column} FROM {child.table} AS t "
        f"WHERE t.shop_id = {dialect.param('bigint')} AND t.{child.parent_column} IN "
        f"(SELECT id FROM {child.parent_map}) ORDER BY t.shopify_id"
    )


def parents_stored_sql(spec: ParentTable, dialect: Dialect) -> str:
    """Stored, not deleted parents among the ids of ID_LIST: (shopify_id, id). Param: shop."""
    return (
        f"SELECT t.shopify_id, t.id FROM {spec.table} AS t WHERE t.shop_id = {dialect.param('bigint')} "
        f"AND t.deleted_at IS NULL AND t.shopify_id IN (SELECT shopify_id FROM {ID_LIST}) ORDER BY t.shopify_id"
    )


def children_stored_sql(child: ChildTable, dialect: Dialect) -> str:
    """(shopify_id, id) of the shop's stored rows of a child table whose ids are in `ID_LIST`."""
    return (
        f"SELECT t.shopify_id, t.id FROM {child.table} AS t WHERE t.shop_id = {dialect.param('bigint')} "
        f"AND t.shopify_id IN (SELECT shopify_id FROM {ID_LIST}) ORDER BY t.shopify_id"
    )


def children_insert_missing_sql(child: ChildTable, dialect: Dialect) -> str:
    """Add the staged children under the parents of `child.parent_map`, leaving a stored child with
    the same id as it is (it came from a parent version at least as new). Param: shop. Returns the
    parent row ids that gained a child."""
    names = [c.name for c in child.columns]
    parent = child.parent_column
    return (
        f"INSERT INTO {child.table} (shop_id, {parent}, {', '.join(names)}) "
        f"SELECT {dialect.param('bigint')}, p.id, {', '.join(f'c.{n}' for n in names)} "
        f"FROM {child.stage} AS c JOIN {child.parent_map} AS p ON p.shopify_id = c.parent_shopify_id "
        f"WHERE true ORDER BY {_child_order(child)} ON CONFLICT ({child.conflict_columns}) DO NOTHING "
        f"RETURNING {parent}"
    )


def touch_sql(spec: ParentTable, dialect: Dialect, count: int) -> str:
    """Mark parents whose children changed (but not their own columns) as synced now. Params: now, ids."""
    placeholders = ", ".join([dialect.param("bigint")] * count)
    return f"UPDATE {spec.table} SET synced_at = {dialect.param('timestamp')} WHERE id IN ({placeholders})"


def tombstone_sql(spec: ParentTable, dialect: Dialect) -> str:
    """Params: shop, synced_at, deleted_at. Returns the shopify_ids newly marked deleted."""
    table = spec.table
    values = ["s.shopify_id"] + ["NULL"] * (len(spec.columns) - 1)
    targets, expressions = _insert_head(
        spec, dialect, values=values, deleted_at=dialect.param("timestamp"), is_historical=dialect.false
    )
    # NOT NULL JSON columns (tags, an order's extras lists, a collection's rules) carry their empty
    # default in a tombstone.
    for column in spec.columns:
        if column.is_json and not column.field.null:
            expressions[targets.index(column.name)] = "'{}'" if column.field.default is dict else "'[]'"
    return (
        f"INSERT INTO {table} ({', '.join(targets)}) SELECT {', '.join(expressions)} "
        f"FROM (SELECT DISTINCT shopify_id FROM {ID_LIST}) AS s WHERE true ORDER BY s.shopify_id "
        # Shopify deletes are terminal (ids are never reused, nothing is undeleted), so a delete always
        # applies. Its instant is lifted to the stored version when clocks disagree, so that version
        # (or any older payload arriving late) can never bring the record back.
        f"ON CONFLICT (shop_id, shopify_id) DO UPDATE SET deleted_at = CASE "
        f"WHEN {table}.shopify_updated_at > excluded.deleted_at THEN {table}.shopify_updated_at "
        f"ELSE excluded.deleted_at END, synced_at = excluded.synced_at "
        f"WHERE {table}.deleted_at IS NULL RETURNING shopify_id"
    )
