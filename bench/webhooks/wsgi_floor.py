"""The benchmark's application with the receiver's delivery insert replaced by the cheapest
database work of its kind (for `breakdown.py --insert select|minimal` only), to measure the floor
under any design that does one database round trip per delivery before answering:

- `select`: one prepared `SELECT` round trip on the same connection path, nothing written (the
  cost of the round trip itself);
- `minimal`: one prepared, autocommitted `INSERT` of a single bigint into a one-column logged table
  (the cheapest durable write PostgreSQL offers per request; nothing is deduplicated or kept).

The variant is chosen by the `BENCH_RECEIVER_FLOOR` environment variable.
"""

from __future__ import annotations

import itertools
import os

from django.db import connection

from bench.webhooks.wsgi import application
from webhooks.services import receiving

_VARIANT = os.environ.get("BENCH_RECEIVER_FLOOR", "select")
_STATEMENTS = {
    "select": "SELECT 1, 1",
    "minimal": "INSERT INTO bench_minimal_row (value) VALUES (%s) RETURNING 1, 1",
}
_counter = itertools.count()


def _floor_round_trip(sql: str, params: list) -> tuple | None:
    statement = _STATEMENTS[_VARIANT]
    values = [next(_counter)] if "%s" in statement else []
    return receiving._fetch_one_prepared(statement, values)


if _VARIANT == "minimal":
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_minimal_row (value bigint)")
        cursor.execute("TRUNCATE bench_minimal_row")
    connection.close()

receiving._fetch_one_idempotent = _floor_round_trip

__all__ = ["application"]
