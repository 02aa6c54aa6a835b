from __future__ import annotations

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from shopsync.services.sync.database import database_connection_lost, database_reconnect

pytestmark = pytest.mark.django_db(transaction=True)


def _query_error(sql: str) -> DatabaseError:
    with pytest.raises(DatabaseError) as caught, connection.cursor() as cursor:
        cursor.execute(sql)
    return caught.value


def _cut_this_connection() -> None:
    pid = connection.connection.info.backend_pid
    with psycopg.connect(
        host=connection.settings_dict["HOST"] or "127.0.0.1", port=connection.settings_dict["PORT"] or 5432,
        user=connection.settings_dict["USER"], dbname=connection.settings_dict["NAME"], autocommit=True,
    ) as other:  # fmt: skip
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


def test_a_connection_the_server_terminated_is_lost_and_a_reconnect_gives_a_working_one():
    # given
    connection.ensure_connection()
    _cut_this_connection()
    # when
    first = _query_error("SELECT 1")
    second = _query_error("SELECT 1")  # Django does not reconnect by itself
    reconnected = database_reconnect(timeout_seconds=5)
    # then
    assert (database_connection_lost(first), database_connection_lost(second)) == (True, True)
    assert reconnected is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_a_statement_timeout_or_a_division_by_zero_is_not_a_lost_connection():
    # given
    with transaction.atomic():
        connection.cursor().execute("SET LOCAL statement_timeout = 1")
        timeout = _query_error("SELECT pg_sleep(1)")
    # when
    violation = _query_error("SELECT 1 / 0")
    # then
    assert (database_connection_lost(timeout), database_connection_lost(violation)) == (False, False)
    assert database_connection_lost(ValueError("the connection is closed")) is False
