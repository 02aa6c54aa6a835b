"""Reconciliation reports (our copy against Shopify's), health samples, and alert incidents."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from shopsync.models.base import BaseModel


class ResourceName(models.TextChoices):
    ORDERS = "orders", "Orders"
    CUSTOMERS = "customers", "Customers"
    PRODUCTS = "products", "Products"
    COLLECTIONS = "collections", "Collections"
    LOCATIONS = "locations", "Locations"


class HealthStatus(models.TextChoices):
    OK = "ok", "OK"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"
    # The value could not be measured (Shopify unreachable for the order count, say).
    UNKNOWN = "unknown", "Unknown"


class ReconciliationReport(BaseModel):
    """One comparison of one resource of one shop: Shopify's ids and `updated_at`s against ours.

    `missing`: in Shopify, not in ours (or only as a tombstone). `extra`: ours (not deleted), gone
    from Shopify. `stale`: in both, ours older. The id lists are capped; the counts are the totals.
    `content_mismatch`: of a random sample at the same version on both sides, those whose columns or
    children differ.
    """

    class Status(models.TextChoices):
        # Asked for through the API: waiting for the maintenance worker.
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        OK = "ok", "OK"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"
        FAILED = "failed", "Failed to run"

    class Trigger(models.TextChoices):
        BEAT = "beat", "Schedule"
        API = "api", "API"
        CLI = "cli", "Command line"

    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="reconciliation_reports")
    resource = models.CharField(max_length=16, choices=ResourceName.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    triggered_by = models.CharField(max_length=16, choices=Trigger.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # Changes after this instant (minus the grace period) are not judged: webhooks may still bring them.
    snapshot_at = models.DateTimeField(null=True, blank=True)
    shopify_count = models.PositiveBigIntegerField(null=True, blank=True)  # Shopify's count endpoint
    shopify_snapshot_count = models.PositiveBigIntegerField(null=True, blank=True)  # ids in the export
    local_count = models.PositiveBigIntegerField(null=True, blank=True)  # ours, not deleted
    missing_count = models.PositiveBigIntegerField(default=0)
    extra_count = models.PositiveBigIntegerField(default=0)
    stale_count = models.PositiveBigIntegerField(default=0)
    missing_ids = models.JSONField(default=list, blank=True)
    extra_ids = models.JSONField(default=list, blank=True)
    stale_ids = models.JSONField(default=list, blank=True)
    # The content sample: records at the same version on both sides, fetched again by id and compared
    # column by column, child by child (Shopify changes some without moving `updated_at`).
    content_checked_count = models.PositiveIntegerField(default=0)
    content_mismatch_count = models.PositiveIntegerField(default=0)
    content_mismatch_ids = models.JSONField(default=list, blank=True)
    heal_requested = models.BooleanField(default=False)
    healed_at = models.DateTimeField(null=True, blank=True)
    # {"refetched": n, "written": n, "not_found": n, "soft_deleted": n, "failed": n, "errors": [...]}
    heal_result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "ok", "warning", "critical", "failed"]),
                name="reconreport_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(resource__in=ResourceName.values), name="reconreport_resource_valid"
            ),
        ]
        indexes = [models.Index(fields=["shop", "resource", "-started_at"], name="reconreport_latest")]

    def __str__(self) -> str:
        return f"{self.resource} of {self.shop_id} at {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status not in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def discrepancy_count(self) -> int:
        return self.missing_count + self.extra_count + self.stale_count + self.content_mismatch_count

    @property
    def count_difference(self) -> int | None:
        if self.shopify_count is None or self.local_count is None:
            return None
        return self.shopify_count - self.local_count


class SyncHealthMetric(models.Model):
    """One sample of one health measure of one shop, with the thresholds it was judged by."""

    class Kind(models.TextChoices):
        ORDER_LAG = "order_lag", "Order lag (Shopify count minus ours)"
        ERROR_RATE = "error_rate", "Error rate, last hour (%)"
        WEBHOOK_LATENCY = "webhook_latency", "Webhook latency p95, last hour (s)"
        DEAD_LETTERS = "dead_letters", "Open dead letters"

    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="health_metrics")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    value = models.FloatField(null=True, blank=True)
    warning_threshold = models.FloatField()
    critical_threshold = models.FloatField()
    status = models.CharField(max_length=16, choices=HealthStatus.choices)
    details = models.JSONField(default=dict, blank=True)
    measured_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-measured_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=HealthStatus.values), name="healthmetric_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=HealthStatus.UNKNOWN) | Q(value__isnull=False),
                name="healthmetric_known_has_value",
            ),
        ]
        indexes = [models.Index(fields=["shop", "kind", "-measured_at"], name="healthmetric_latest")]

    def __str__(self) -> str:
        return f"{self.kind}={self.value} ({self.status})"


class AlertIncident(BaseModel):
    """A lasting problem of one kind for one shop. Opening it sends the alert; while it stays open
    nothing more is sent; it resolves when its source reads ok again. The partial unique constraint
    is the dedupe: at most one open incident per (shop, kind)."""

    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="alert_incidents")
    # "metric:<SyncHealthMetric.Kind>" or "reconciliation:<resource>".
    kind = models.CharField(max_length=64)
    summary = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Per channel, claimed before sending: a channel is never sent twice for one incident.
    email_sent_at = models.DateTimeField(null=True, blank=True)
    slack_sent_at = models.DateTimeField(null=True, blank=True)
    notify_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "kind"],
                condition=Q(resolved_at__isnull=True),
                name="alertincident_one_open_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.shop_id} ({'open' if self.is_open else 'resolved'})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
