"""The outbox relay: publish stored deliveries to the broker in batches, outside the request.

The receiver only stores the row (one autocommitted INSERT) and answers 200; the row is the durable
record. The relay claims rows that are `received` and not yet published (`queued_at IS NULL`) with
one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING id` statement, so several
relays never claim the same row, and publishes one `webhook_logs_process_task` per chunk of ids:
one broker round trip carries many deliveries.

Failure semantics (processing is idempotent: a worker's claim is a conditional status update):
- the broker is down: the claim is released (`queued_at` back to NULL) and the relay retries
  after a back-off;
- the relay dies between its claim and the publish: the rows keep `queued_at` but no message; the
  sweeper re-publishes `received` rows whose `queued_at` is older than `WAITING_AFTER`;
- a row published twice (the relay and the sweeper, or a redelivered message): the second claim
  finds it already processed and does nothing.

The relay runs in every Celery worker that consumes the `webhooks` queue (`webhooks.worker`), or
standalone (`manage.py webhook_relay`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from shopsync.enqueue import task_send
from webhooks.models import WebhookLog
from webhooks.services.claiming import db_timestamp, webhook_logs_claim

logger = logging.getLogger(__name__)

# Publishing is retried briefly only: the relay backs off and tries again itself, and the sweeper
# is the safety net behind it.
_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.2}
_MAX_BACKOFF_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class RelayResult:
    claimed: int
    published_ids: tuple[int, ...]
    publish_failures: int


def webhook_logs_relay(*, batch_size: int | None = None, ids_per_task: int | None = None) -> RelayResult:
    """Claim up to `batch_size` unpublished deliveries, oldest first, and publish them in tasks of
    at most `ids_per_task` ids. Returns what was claimed and published; never raises for a broker
    failure (the unpublished claims are released)."""
    batch_size = batch_size or settings.WEBHOOK_RELAY_BATCH_SIZE
    ids = _claim_unqueued(limit=batch_size, now=timezone.now())
    if not ids:
        return RelayResult(claimed=0, published_ids=(), publish_failures=0)
    published = webhook_logs_publish(webhook_log_ids=ids, ids_per_task=ids_per_task)
    return RelayResult(claimed=len(ids), published_ids=published, publish_failures=len(ids) - len(published))


def webhook_logs_publish(
    *, webhook_log_ids: Sequence[int], ids_per_task: int | None = None
) -> tuple[int, ...]:
    """Publish already-claimed deliveries, `ids_per_task` per message (small chunks keep several
    workers busy on a burst). Chunks the broker refused are released for the next relay pass.
    Returns the ids published."""
    ids_per_task = ids_per_task or settings.WEBHOOK_RELAY_IDS_PER_TASK
    published: list[int] = []
    unpublished: list[int] = []
    for start in range(0, len(webhook_log_ids), ids_per_task):
        chunk = list(webhook_log_ids[start : start + ids_per_task])
        if unpublished or not _publish(chunk):
            # The broker refused one chunk: do not hammer it with the rest of the batch.
            unpublished += chunk
        else:
            published += chunk
    if unpublished:
        _release(unpublished)
    return tuple(published)


def webhook_relay_run(*, stop: threading.Event, poll_seconds: float | None = None) -> None:
    """Relay until `stop` is set: a pass right away while the outbox is full, one every
    `poll_seconds` when it is drained, exponential back-off (to 5 s) while the broker or the
    database fails. Never raises for those failures."""
    poll_seconds = poll_seconds or settings.WEBHOOK_RELAY_POLL_SECONDS
    batch_size = settings.WEBHOOK_RELAY_BATCH_SIZE
    backoff = poll_seconds
    while not stop.is_set():
        try:
            result = webhook_logs_relay(batch_size=batch_size)
        except DatabaseError:
            logger.warning("webhook relay: database error, retrying in %.1f s", backoff, exc_info=True)
            # A broken connection is replaced on the next query.
            connection.close()
            result = None
        except Exception:
            # A long-running loop must outlive a bug in one pass; the sweeper covers what it misses.
            logger.exception("webhook relay: pass failed, retrying in %.1f s", backoff)
            result = None
        if result is None or result.publish_failures:
            stop.wait(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
            continue
        backoff = poll_seconds
        if result.claimed < batch_size:
            stop.wait(poll_seconds)
    connection.close()


def _claim_unqueued(*, limit: int, now: datetime) -> list[int]:
    """One statement, autocommitted: rows another relay holds are skipped, not waited for."""
    stamp = db_timestamp("queued_at", now)
    return sorted(
        webhook_logs_claim(
            assignments="queued_at = %s, updated_at = %s",
            assignment_params=[stamp, stamp],
            selection="status = %s AND queued_at IS NULL ORDER BY id LIMIT %s",
            selection_params=[WebhookLog.Status.RECEIVED, limit],
        )
    )


def _publish(webhook_log_ids: list[int]) -> bool:
    try:
        task_send(
            "webhooks.tasks.webhook_logs_process_task",
            webhook_log_ids,
            retry=True,
            retry_policy=_PUBLISH_RETRY_POLICY,
        )
    except Exception:  # the broker's errors vary by transport (kombu, redis, socket, filesystem)
        logger.warning(
            "webhook relay: publish failed, will retry webhook_log_ids=%s..%s",
            webhook_log_ids[0],
            webhook_log_ids[-1],
            exc_info=True,
        )
        return False
    return True


def _release(webhook_log_ids: list[int]) -> None:
    # Only rows still waiting: a worker may have picked one up from an earlier message meanwhile.
    WebhookLog.objects.filter(pk__in=webhook_log_ids, status=WebhookLog.Status.RECEIVED).update(
        queued_at=None, updated_at=timezone.now()
    )
