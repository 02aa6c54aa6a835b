"""Overlapping the two halves of a bulk import: reading and parsing the next batch (Python, in a
thread) while the current one is written (PostgreSQL, in its own process, the GIL released while we
wait on it). One batch ahead at most, so memory stays constant."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

_DONE = object()


def prefetched[T](items: Iterator[T], *, name: str = "sync-prefetch") -> Iterator[T]:
    """Yield `items`, produced one step ahead in a daemon thread. The producer must not touch the
    database (Django connections are per thread). Its exceptions are re-raised here, in order; if the
    consumer stops early, the producer stops at its next item."""
    handoff: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(handoff, (item, None), stop):
                    return
            _put(handoff, (_DONE, None), stop)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            _put(handoff, (_DONE, exc), stop)

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=30)


def _put(handoff: queue.Queue, value: tuple, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            handoff.put(value, timeout=0.2)
            return True
        except queue.Full:
            continue
    return False
