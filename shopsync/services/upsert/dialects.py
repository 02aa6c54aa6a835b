"""The few places PostgreSQL and SQLite differ for the write path: staging rows into temporary tables,
value adaptation, typed parameters and a couple of SQL spellings. The statements themselves are
built once, in `statements.py`, for both."""

# ruff: noqa: S608 - SQL is built only from model metadata (table and column names); values are always parameters.
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import BaseDatabaseWrapper

from shopsync.services.upsert.encoding import postgres_adapter
from shopsync.services.upsert.tables import Column

PG_PARAM_TYPES = {"bigint": "bigint", "timestamp": "timestamptz"}


class Dialect:
    """PostgreSQL: COPY into session temp tables through the psycopg connection Django holds, so the
    whole write joins the caller's transaction."""

    name = "postgresql"
    false = "false"
    distinct = "IS DISTINCT FROM"
    reports_inserted = True  # RETURNING (xmax = 0)
    lock_rows = " FOR UPDATE OF t"

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        connection.ensure_connection()
        self.raw_cursor = connection.connection.cursor()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        self.raw_cursor.execute(sql, params or None)
        return self.raw_cursor.fetchall() if self.raw_cursor.description else []

    def param(self, kind: str) -> str:
        return f"%s::{PG_PARAM_TYPES[kind]}"

    def differs(self, left: str, right: str, column: Column | None = None) -> str:
        return f"{left} IS DISTINCT FROM {right}"

    def returning_inserted(self) -> str:
        return ", (xmax = 0)"

    def column_type(self, column: Column) -> str:
        return column.field.db_type(self.connection)

    def prepare_stage(self, table: str, columns_sql: str) -> None:
        # Session-local and unlogged by nature; truncated before each use because one transaction
        # (the caller's) may write several batches.
        self.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({columns_sql})")
        self.execute(f"TRUNCATE {table}")

    def stage(self, table: str, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        with self.raw_cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def stage_copy_text(self, table: str, names: Sequence[str], data: bytes) -> None:
        """Rows already in COPY text format (`encoding.records_encode`)."""
        with self.raw_cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            copy.write(data)

    def adapter(self, column: Column):
        return postgres_adapter(column)

    def adapt_timestamp(self, value: datetime) -> Any:
        return value

    def close(self) -> None:
        self.raw_cursor.close()


class SqliteDialect(Dialect):
    """SQLite ≥ 3.35 (UPSERT with RETURNING): executemany into temp tables, values adapted as the
    ORM stores them (naive-UTC datetime text, JSON text), so comparisons with stored rows hold."""

    name = "sqlite"
    false = "0"
    distinct = "IS NOT"
    reports_inserted = False
    lock_rows = ""  # one writer at a time: the database lock is the row lock

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.cursor = connection.cursor()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        self.cursor.execute(sql, params)
        return self.cursor.fetchall() if self.cursor.description else []

    def param(self, kind: str) -> str:
        return "%s"

    def differs(self, left: str, right: str, column: Column | None = None) -> str:
        if column is not None and column.is_json:
            # JSON is text here: compare it minified so formatting differences are not changes.
            return f"json({left}) IS NOT json({right})"
        return f"{left} IS NOT {right}"

    def returning_inserted(self) -> str:
        return ""

    def column_type(self, column: Column) -> str:
        # Same declared type, hence the same affinity, as the real column.
        return column.field.db_type(self.connection)

    def prepare_stage(self, table: str, columns_sql: str) -> None:
        self.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({columns_sql})")
        self.execute(f"DELETE FROM {table}")

    def stage(self, table: str, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        placeholders = ", ".join(["%s"] * len(names))
        self.cursor.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})", list(rows)
        )

    def adapter(self, column: Column):
        if column.is_json:
            return _json_text_django
        internal = column.field.get_internal_type()
        if internal == "DateTimeField":
            return self.adapt_timestamp
        return None

    def adapt_timestamp(self, value: datetime | None) -> Any:
        return self.connection.ops.adapt_datetimefield_value(value)

    def close(self) -> None:
        self.cursor.close()


def dialect_for(connection: BaseDatabaseWrapper) -> Dialect:
    if connection.vendor == "postgresql":
        return Dialect(connection)
    if connection.vendor == "sqlite":
        return SqliteDialect(connection)
    raise ImproperlyConfigured(
        f"DATABASE_URL points at {connection.vendor}; the write path supports PostgreSQL and SQLite."
    )


def _json_text_django(value: Any) -> str | None:
    # What JSONField.get_prep_value writes, so rows written by the ORM compare equal.
    return None if value is None else json.dumps(value)
