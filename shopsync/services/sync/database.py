"""A lost database connection during a run (a restart, a failover, `pg_terminate_backend`, a network
cut): recognising it, and getting a working connection back. And the other side of a cut: a row lock
left behind by a writer on a host cut off mid-transaction, which the takers-over must not wait for
(`lock_waits_limited`).

Django reconnects by itself only at a task's (or request's) boundaries, or when an outermost
`atomic()` fails to roll back; a query outside a transaction on a connection the server cut keeps
failing with "the connection is closed" until someone closes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

# Django wraps driver errors; the write path's raw cursor lets psycopg's through unwrapped.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
# SQLSTATE 08xxx is "connection exception"; 57P01-57P03 are the server shutting the session down
# (admin shutdown, crash shutdown, cannot connect now). Deadlocks (40P01), serialization failures
# (40001), statement timeouts (57014) and lock timeouts (55P03) are OperationalErrors too, but the
# connection survives them.
SHUTDOWN_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
MAX_RECONNECT_DELAY_SECONDS = 5.0
LOCK_NOT_AVAILABLE = "55P03"


def database_connection_lost(exc: BaseException) -> bool:
    """Whether `exc` means the connection to PostgreSQL is gone (and not another database error)."""
    if not isinstance(exc, CONNECTION_ERRORS):
        return False
    driver_error = exc if isinstance(exc, psycopg.Error) else exc.__cause__
    if not isinstance(driver_error, psycopg.Error):
        # Django's own InterfaceError ("connection already closed"); SQLite has no connection to lose.
        return isinstance(exc, InterfaceError) and driver_error is None
    # psycopg says "the connection is closed" / "server closed the connection unexpectedly" without one.
    sqlstate = driver_error.sqlstate
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in SHUTDOWN_SQLSTATES


def database_reconnect(*, timeout_seconds: float) -> bool:
    """Drop this thread's broken connection and open a new one, waiting up to `timeout_seconds` for
    the database to answer again (it may be restarting). Returns whether it answers."""
    deadline = time.monotonic() + timeout_seconds
    delay = 0.25
    while True:
        connection.close()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except CONNECTION_ERRORS as exc:
            if not database_connection_lost(exc):
                raise
            if time.monotonic() + delay > deadline:
                logger.warning("the database still does not answer: %s", exc)
                return False
        time.sleep(delay)
        delay = min(delay * 2, MAX_RECONNECT_DELAY_SECONDS)


def lock_wait_timed_out(exc: BaseException) -> bool:
    """Whether `exc` is PostgreSQL giving up a lock wait (`lock_timeout`, or NOWAIT)."""
    driver_error = exc if isinstance(exc, psycopg.Error) else exc.__cause__
    return isinstance(driver_error, psycopg.Error) and driver_error.sqlstate == LOCK_NOT_AVAILABLE


@contextmanager
def lock_waits_limited(*, seconds: float) -> Iterator[None]:
    """Inside, a statement of this connection that waits more than `seconds` for a lock fails
    (`lock_wait_timed_out`) instead of waiting on. For the code that takes over from other processes
    (the watchdog): a writer on a host cut off in the middle of a transaction keeps its row locks
    until PostgreSQL notices the peer is gone (TCP keepalives: minutes to hours), and a watchdog
    blocked behind one would resume nothing else meanwhile. PostgreSQL only (SQLite has no row locks)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, false)", [f"{max(1, round(seconds * 1000))}ms"])
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        except CONNECTION_ERRORS as exc:  # a lost connection takes its settings with it
            logger.info("lock_timeout not reset: %s", exc)
