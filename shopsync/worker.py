"""The sync engine's hook into the Celery worker's lifecycle: when a worker that consumes a sync queue
(`sync` or `sync_backfill`) is ready, it resumes the sessions its node's previous process left
running (and whatever the watchdog would resume now), in a thread so a slow database never delays consuming. The logic is the
service `sync_worker_started`; this is only the wiring (infrastructure, like `webhooks/worker.py`).

`worker_ready` fires once per process (a consumer restart after a lost broker connection does not fire
it again, which matters: by then this process may be running sessions itself).

This module is imported by `config.celery` before Django is set up: Django imports stay inside
(`shopsync.queues` is plain data).
"""

from __future__ import annotations

import logging
import threading

from shopsync.queues import SYNC_QUEUES

logger = logging.getLogger(__name__)


def on_worker_ready(sender, **kwargs) -> None:
    """`celery.signals.worker_ready` receiver (`sender` is the worker's consumer)."""
    consumed = set(sender.app.amqp.queues.consume_from or sender.app.amqp.queues)
    if not consumed.intersection(SYNC_QUEUES):
        return
    thread = threading.Thread(
        target=_resume_orphans, args=(sender.hostname,), name="sync-orphans", daemon=True
    )
    thread.start()


def _resume_orphans(worker: str) -> None:
    from django.db import connection

    from shopsync.services.sync import sync_worker_started

    try:
        report = sync_worker_started(worker=worker)
        if report.resumed or report.redispatched:
            logger.warning("worker %s started: resumed sync sessions %s, dispatched again %s", worker,
                           report.resumed, report.redispatched)  # fmt: skip
    except Exception:  # the watchdog covers what this misses; a worker must start regardless
        logger.exception("worker %s: resuming orphaned sync sessions failed", worker)
    finally:
        connection.close()
