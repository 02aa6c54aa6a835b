"""Inbound Shopify webhook deliveries (one row per delivery, stored before any processing) and the
privacy-compliance requests they produce."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from shopsync.models.base import BaseModel


class WebhookStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSING = "processing", "Processing"
    PROCESSED = "processed", "Processed"
    # A retryable failure: Celery retries it (or the sweeper re-queues it) until it is dead.
    FAILED = "failed", "Failed (will retry)"
    IGNORED = "ignored", "Ignored"
    DEAD = "dead", "Dead-lettered"
    # Authentic (signed) but not applied: its trigger time is implausible (in the future, or older
    # than Shopify retries), the mark of a replayed capture. Kept, with the reason in `last_error`.
    QUARANTINED = "quarantined", "Quarantined"


class WebhookLog(BaseModel):
    Status = WebhookStatus

    # Every index costs each delivery's insert (on the request's path), so the table keeps only the
    # ones a query needs: no index of its own on `shop` (every lookup by shop is served by a
    # composite index that starts with it) nor on `created_at` (nothing filters or sorts on it).
    created_at = models.DateTimeField(auto_now_add=True)
    shop = models.ForeignKey(
        "shopsync.Shop", on_delete=models.CASCADE, related_name="webhook_logs", db_index=False
    )
    topic = models.CharField(max_length=100)
    # Both dedupe keys are stored: Event-Id is Shopify's current guidance, Webhook-Id the older one.
    # NULL (not "") when the header is absent, so the partial unique constraints skip it.
    event_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    webhook_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # The Shopify id of the resource the delivery is about (order, customer, product, shop ...).
    shopify_id = models.BigIntegerField(null=True, blank=True)
    # The raw bytes exactly as signed, so the HMAC can be re-checked and nothing is lost in parsing.
    body = models.BinaryField()
    api_version = models.CharField(max_length=32, blank=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    # When the relay (or the sweeper) last published the delivery to the broker; NULL = not yet.
    # The request only stores the row: publishing happens outside it (webhooks.services.relaying).
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=WebhookStatus.choices, default=WebhookStatus.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            # Postgres treats NULLs as distinct, so deliveries without the header never collide.
            models.UniqueConstraint(
                fields=["shop", "topic", "event_id"],
                condition=Q(event_id__isnull=False),
                name="webhooklog_unique_shop_topic_event_id",
            ),
            models.UniqueConstraint(
                fields=["shop", "webhook_id"],
                condition=Q(webhook_id__isnull=False),
                name="webhooklog_unique_shop_webhook_id",
            ),
            models.CheckConstraint(
                condition=Q(status__in=WebhookStatus.values), name="webhooklog_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "topic", "shopify_id"], name="webhooklog_resource"),
            # Health metrics (error rate, receipt-to-processed latency) over a shop's recent deliveries.
            models.Index(fields=["shop", "received_at"], name="webhooklog_shop_received"),
            # The sweeper's queue-like lookup: only unfinished deliveries are indexed.
            models.Index(
                fields=["status", "received_at"],
                condition=Q(status__in=["received", "processing", "failed"]),
                name="webhooklog_unfinished",
            ),
            # The relay's outbox: stored deliveries not published yet. Tiny (rows leave it within a
            # poll interval), so each poll is an index-only lookup however large the table grows.
            models.Index(
                fields=["id"],
                condition=Q(status="received", queued_at__isnull=True),
                name="webhooklog_unqueued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk} ({self.status})"

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")


class PrivacyRequest(BaseModel):
    """A mandatory privacy-compliance request (customers/data_request, customers/redact,
    shop/redact) and what we did about it. Kept after shop/redact as the record that we complied."""

    class Topic(models.TextChoices):
        CUSTOMERS_DATA_REQUEST = "customers/data_request", "Customer data request"
        CUSTOMERS_REDACT = "customers/redact", "Customer redaction"
        SHOP_REDACT = "shop/redact", "Shop redaction"

    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="privacy_requests")
    webhook_log = models.OneToOneField(
        WebhookLog, on_delete=models.SET_NULL, null=True, blank=True, related_name="privacy_request"
    )
    topic = models.CharField(max_length=32, choices=Topic.choices)
    customer_shopify_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField()
    # The export for a data request; counts of erased rows for a redaction.
    result = models.JSONField(default=dict)
    completed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["shop", "customer_shopify_id"], name="privacyrequest_customer")]

    def __str__(self) -> str:
        return f"{self.topic} ({self.shop_id})"
