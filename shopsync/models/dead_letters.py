from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from shopsync.models.base import BaseModel


class FailedSyncItem(BaseModel):
    """A dead letter: one record (or one write batch) that could not be written, kept for retry."""

    class EntityType(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        ORDER = "order", "Order"
        PRODUCT = "product", "Product"
        COLLECTION = "collection", "Collection"
        LOCATION = "location", "Location"
        WEBHOOK = "webhook", "Webhook delivery"
        BATCH = "batch", "Write batch"

    class Source(models.TextChoices):
        SYNC = "sync", "Sync"
        WEBHOOK = "webhook", "Webhook"
        RECONCILIATION = "reconciliation", "Reconciliation"

    class Resolution(models.TextChoices):
        SUCCESS = "success", "Retried successfully"
        MANUAL = "manual", "Marked resolved"
        ABANDONED = "abandoned", "Abandoned"

    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="failed_items")
    entity_type = models.CharField(max_length=16, choices=EntityType.choices)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SYNC)
    # Null for a whole write batch; a webhook dead letter carries its WebhookLog id in `source_ref`.
    shopify_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    source_ref = models.CharField(max_length=255, blank=True)
    payload = models.JSONField(null=True, blank=True)
    error_message = models.TextField()
    error_trace = models.TextField(blank=True)
    retry_count = models.PositiveIntegerField(default=0)
    max_retries = models.PositiveIntegerField(default=5)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    last_retried_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open dead letter per record: a new failure of the same record updates it.
            models.UniqueConstraint(
                fields=["shop", "entity_type", "shopify_id"],
                condition=Q(resolved_at__isnull=True, shopify_id__isnull=False),
                name="failedsyncitem_one_open_per_record",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | ~Q(resolution=""),
                name="failedsyncitem_resolved_has_resolution",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_retry_at"],
                condition=Q(resolved_at__isnull=True, retry_count__lt=F("max_retries")),
                name="failedsyncitem_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.shopify_id or self.source_ref} ({self.shop_id})"

    @property
    def is_exhausted(self) -> bool:
        return self.resolved_at is None and self.retry_count >= self.max_retries
