"""Webhook tasks: ids in, one service call, the retry policy. Routed to the `webhooks` queue."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


class WebhookRetryableError(Exception):
    """A transient failure (database, network, broker): Celery retries the delivery with backoff."""


@shared_task(
    bind=True,
    autoretry_for=(WebhookRetryableError,),
    retry_backoff=True,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
    # Safe: the claim is a conditional status update and the write path is idempotent.
    acks_late=True,
    soft_time_limit=110,
    time_limit=120,
)
def webhook_log_process_task(self, webhook_log_id: int) -> None:
    from webhooks.services.processing import webhook_log_process

    webhook_log_process(
        webhook_log_id=webhook_log_id, is_last_attempt=self.request.retries >= self.max_retries
    )


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def webhook_logs_sweep_task() -> None:
    from webhooks.services.sweeping import webhook_logs_sweep

    result = webhook_logs_sweep()
    if result.queued:
        logger.info("webhook sweeper queued %s deliveries (%s were stuck)", result.queued, result.unstuck)
