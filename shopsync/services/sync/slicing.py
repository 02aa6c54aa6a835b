"""Fair turns: a run in a worker gives its process back after a time slice and queues again, so the
runs queued behind it (other shops' incrementals, other shops' backfills) get theirs.

The engines call `slice_yield` where everything done so far is committed (after a bulk batch's or a
page's transaction), and `slice_yield_while_exporting` while Shopify prepares a bulk export; once the
slice is used up either raises `SyncSliceEnded`, and the runner puts the session back to queued with
its checkpoints and publishes it to the back of its queue (`runner._session_yield`). Nothing new is
needed to resume: it is the resumption the watchdog and the budget deferral already use. A bulk
operation is never restarted by a slice: its id is in the checkpoint, and the next slice re-attaches
to it (polls it, or reads its export from the checkpoint's line with an HTTP Range).

The slice is a deadline in a context variable, set by the runner around one run (`run_slice`), so
the engines need no new argument; outside a slice (an inline run, `manage.py sync --inline`, a test
calling an engine) nothing yields.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

from shopsync.shopify.bulk import next_poll_interval

_deadline: ContextVar[float | None] = ContextVar("sync_slice_deadline", default=None)


class SyncSliceEnded(Exception):
    """The run used its slice: give the process back and continue from the checkpoints in a new
    task, `countdown` seconds from now (0: as soon as its turn comes)."""

    def __init__(self, message: str, *, countdown: float = 0.0) -> None:
        super().__init__(message)
        self.countdown = countdown


@contextmanager
def run_slice(*, seconds: float) -> Iterator[None]:
    """Let the code inside yield once `seconds` have passed (0 or less: never)."""
    token = _deadline.set(time.monotonic() + seconds if seconds > 0 else None)
    try:
        yield
    finally:
        _deadline.reset(token)


def slice_used_up() -> bool:
    deadline = _deadline.get()
    return deadline is not None and time.monotonic() >= deadline


def slice_yield(*, where: str) -> None:
    """Call where everything done so far is committed: raises `SyncSliceEnded` if the slice is used up."""
    if slice_used_up():
        raise SyncSliceEnded(f"slice used up; continuing after {where}")


def slice_yield_while_exporting(
    *, operation_id: str, created_at: datetime | None, poll_interval: float, max_poll_interval: float
) -> None:
    """Call between polls of a running bulk operation: once the slice is used up, raises
    `SyncSliceEnded` with the countdown of the poll that was next (the same 5 % lateness rule as
    `bulk_operation_wait`, from the operation's creation), so no process sleeps through an export."""
    if not slice_used_up():
        return
    waited = (timezone.now() - created_at).total_seconds() if created_at is not None else 0.0
    countdown = next_poll_interval(waited, poll_interval=poll_interval, max_poll_interval=max_poll_interval)
    raise SyncSliceEnded(
        f"slice used up while Shopify prepares bulk operation {operation_id}; polling again in {countdown:.0f} s",
        countdown=countdown,
    )
