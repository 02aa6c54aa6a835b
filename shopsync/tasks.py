"""Sync tasks: ids in, one service call, a retry policy; nothing else (R4).

All three names match the `shopsync.tasks.sync_*` route, so they run on the `sync` queue (a session's
run is published to its kind's queue instead, `shopsync/queues.py`, and takes turns there); the beat
entries in `shopsync/beat.py` send the two periodic ones to `maintenance` instead, so a worker busy
with long backfills never delays the watchdog. Webhooks have their own queue.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from shopsync.services.sync import (
    database_connection_lost,
    sync_incremental_all_shops,
    sync_session_fail_by_id,
    sync_session_run,
    sync_watchdog,
)
from shopsync.services.sync.config import SYNC_RETRY_BACKOFF_MAX_SECONDS
from shopsync.shopify import ShopifyRetryableError

logger = logging.getLogger(__name__)


class SyncSessionTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Retries exhausted, or an error the run did not turn into a failed session itself.
        if database_connection_lost(exc):
            # Like a lost worker: the session keeps its checkpoints and the watchdog resumes it.
            logger.warning("sync task %s lost its database connection: %s", task_id, exc)
            return
        session_id = kwargs.get("session_id", args[0] if args else None)
        if session_id is not None:
            sync_session_fail_by_id(session_id=session_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(
    bind=True,
    base=SyncSessionTask,
    acks_late=True,  # safe: the run is claimed by a conditional status transition and resumes from checkpoints
    autoretry_for=(ShopifyRetryableError,),
    retry_backoff=30,
    retry_backoff_max=SYNC_RETRY_BACKOFF_MAX_SECONDS,
    max_retries=5,
)
def sync_session_run_task(self, session_id: int) -> None:
    sync_session_run(
        session_id=session_id, task_id=self.request.id or "", worker=self.request.hostname or "", sliced=True
    )


@shared_task(acks_late=True)
def sync_watchdog_task() -> None:
    report = sync_watchdog()
    logger.info("sync watchdog %s", report)


@shared_task(acks_late=True)
def sync_incremental_all_shops_task() -> None:
    count = sync_incremental_all_shops()
    logger.info("sync beat: incremental sync ensured for %s shops", count)
