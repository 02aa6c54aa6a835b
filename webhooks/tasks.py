"""Webhook tasks: ids in, one service call, the retry policy. Routed to the `webhooks` queue."""

from __future__ import annotations

import logging

from celery import shared_task

from shopsync.shopify import ShopifyRetryableError
from webhooks.services.processing import WebhookRetryableError, webhook_log_process, webhook_logs_process
from webhooks.services.pruning import webhook_logs_prune
from webhooks.services.registration import webhook_subscriptions_register_for_shop
from webhooks.services.sweeping import webhook_logs_sweep

logger = logging.getLogger(__name__)


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
    webhook_log_process(
        webhook_log_id=webhook_log_id, is_last_attempt=self.request.retries >= self.max_retries
    )


@shared_task(
    # Safe for the same reasons; a batch that dies mid-way is redelivered or swept, and the
    # deliveries it already finished are not claimable again.
    acks_late=True,
    # A batch hands its remaining ids on after BATCH_TIME_BUDGET (webhooks.services.processing),
    # so these limits only ever stop a single stuck delivery.
    soft_time_limit=170,
    time_limit=180,
)
def webhook_logs_process_task(webhook_log_ids: list[int]) -> None:
    """Process a batch of stored deliveries, one publish for many (the outbox relay's message)."""
    webhook_logs_process(webhook_log_ids=webhook_log_ids)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def webhook_logs_sweep_task() -> None:
    result = webhook_logs_sweep()
    if result.queued:
        logger.info("webhook sweeper queued %s deliveries (%s were stuck)", result.queued, result.unstuck)


@shared_task(soft_time_limit=110, time_limit=120)
def webhook_logs_prune_task() -> None:
    deleted = webhook_logs_prune()
    if deleted:
        logger.info("webhook retention: deleted %s finished deliveries", deleted)


@shared_task(
    autoretry_for=(ShopifyRetryableError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    soft_time_limit=110,
    time_limit=120,
)
def webhook_subscriptions_register_task(shop_id: int) -> None:
    """The shop's subscriptions again (its metafield namespaces changed); idempotent."""
    webhook_subscriptions_register_for_shop(shop_id=shop_id)
