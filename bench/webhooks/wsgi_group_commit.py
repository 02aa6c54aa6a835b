"""A measurement prototype, not the product's receiver: group commit of concurrent deliveries
(for `breakdown.py --insert group` only, with a worker class that serves many requests per
process, e.g. `--no-preload --server-args "-w 2 -k gevent"`).

Every delivery a process has in flight joins one queue. The first request to find no statement
in flight becomes the leader: it writes the whole queue (up to `BENCH_GROUP_MAX_ROWS`, 64) as one
autocommitted multi-row `INSERT ... ON CONFLICT DO NOTHING` on a connection of the process's own,
then wakes every request of its group (each answers 200 only after that commit) and hands the
leadership to the first request that queued meanwhile. The statement uses PostgreSQL's own `$n`
placeholders (`psycopg.RawCursor`): psycopg does not cache the conversion of `%s` placeholders in a
statement this long, and converting it again for every group cost about a quarter of the
receiver's CPU.

What the product would still need and this does not do: a retry on a lost connection, isolating a
row that fails the whole group, the SQLite path, tests.
"""

from __future__ import annotations

import collections
import functools
import os
import threading
from typing import Any

import psycopg
from django.db import connection

from bench.webhooks.wsgi import application
from shopsync.models import Shop
from webhooks.models import WebhookLog
from webhooks.services import receiving

_MAX_ROWS = int(os.environ.get("BENCH_GROUP_MAX_ROWS", "64"))
# Positions in the receiver's parameter list: the shop's domain, then receiving._INSERT_FIELDS.
_DOMAIN, _EVENT_ID, _WEBHOOK_ID = 0, 4, 5


class _Pending:
    __slots__ = ("done", "error", "leads", "params", "result")

    def __init__(self, params: list[Any]) -> None:
        self.params = params
        self.done = threading.Event()
        self.result: tuple[int, int | None] | None = None
        self.error: Exception | None = None
        self.leads = False


class _GroupWriter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._in_flight = False
        self._connection: psycopg.Connection | None = None

    def record(self, params: list[Any]) -> tuple[int, int | None] | None:
        pending = _Pending(params)
        with self._lock:
            self._queue.append(pending)
            leads = not self._in_flight
            self._in_flight = True
        if not leads:
            pending.done.wait()
        if leads or pending.leads:
            self._write_group()
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _write_group(self) -> None:
        with self._lock:
            group, self._queue = self._queue[:_MAX_ROWS], self._queue[_MAX_ROWS:]
        try:
            for pending, result in zip(group, self._insert(group), strict=True):
                pending.result = result
        except Exception as exc:  # every request of the group answers with the error
            for pending in group:
                pending.error = exc
        with self._lock:
            successor = self._queue[0] if self._queue else None
            self._in_flight = successor is not None
        for pending in group:
            pending.done.set()
        if successor is not None:
            successor.leads = True
            successor.done.set()

    def _insert(self, group: list[_Pending]) -> list[tuple[int, int | None] | None]:
        if self._connection is None:
            params = connection.get_connection_params()
            params.pop("cursor_factory", None)
            self._connection = psycopg.connect(**params, autocommit=True)
        with psycopg.RawCursor(self._connection) as cursor:
            cursor.execute(_group_sql(len(group)), [value for p in group for value in p.params], prepare=True)
            rows = cursor.fetchall()
        shops = {row[2]: row[1] for row in rows if row[0] == "shop"}
        inserted = collections.Counter((row[2], row[3]) for row in rows if row[0] == "inserted")
        results: list[tuple[int, int | None] | None] = []
        for pending in group:
            shop_id = shops.get(pending.params[_DOMAIN])
            key = (pending.params[_EVENT_ID], pending.params[_WEBHOOK_ID])
            stored = shop_id is not None and inserted[key] > 0
            if stored:
                inserted[key] -= 1
            results.append(None if shop_id is None else (shop_id, 1 if stored else None))
        return results


@functools.cache
def _group_sql(rows: int) -> str:
    fields = [WebhookLog._meta.get_field(name) for name in receiving._INSERT_FIELDS]
    quote = connection.ops.quote_name
    table, shop_table = quote(WebhookLog._meta.db_table), quote(Shop._meta.db_table)
    columns = [quote(field.column) for field in fields]
    types = ["text", *(receiving._unbounded_type(field) for field in fields)]
    values = ", ".join(
        "(" + ", ".join(f"CAST(${row * len(types) + i + 1} AS {t})" for i, t in enumerate(types)) + ")"
        for row in range(rows)
    )
    return (
        f"WITH input (domain, {', '.join(columns)}) AS (VALUES {values}), "
        f"shop AS (SELECT id, domain FROM {shop_table} WHERE domain IN (SELECT domain FROM input)), "
        f"inserted AS (INSERT INTO {table} (shop_id, {', '.join(columns)}) "
        f"SELECT shop.id, {', '.join('input.' + column for column in columns)} "
        "FROM input JOIN shop ON shop.domain = input.domain "
        "ON CONFLICT DO NOTHING RETURNING event_id, webhook_id) "
        "SELECT 'shop', id, domain, NULL FROM shop "
        "UNION ALL SELECT 'inserted', NULL, event_id, webhook_id FROM inserted"
    )


_writer = _GroupWriter()


def _grouped(sql: str, params: list[Any]) -> tuple[int, int | None] | None:
    return _writer.record(params)


receiving._fetch_one_idempotent = _grouped

__all__ = ["application"]
