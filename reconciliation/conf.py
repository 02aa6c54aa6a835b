"""Settings of reconciliation, health and alerts, read with their defaults (the lead merges the
env-driven names into config/settings/base.py; until then the defaults apply)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True, slots=True)
class Thresholds:
    warning: float
    critical: float


# Seed table: order lag warning >50 critical >200; error rate (%) >5 / >15; webhook latency (s)
# >5 / >30; dead-letter queue size >20 / >100. A value above the threshold reaches that status.
DEFAULT_HEALTH_THRESHOLDS: dict[str, tuple[float, float]] = {
    "order_lag": (50, 200),
    "error_rate": (5, 15),
    "webhook_latency": (5, 30),
    "dead_letters": (20, 100),
}


def health_thresholds(kind: str) -> Thresholds:
    overrides = getattr(settings, "HEALTH_THRESHOLDS", {}) or {}
    warning, critical = overrides.get(kind, DEFAULT_HEALTH_THRESHOLDS[kind])
    return Thresholds(warning=float(warning), critical=float(critical))


def health_window_minutes() -> int:
    return int(getattr(settings, "HEALTH_WINDOW_MINUTES", 60))


def health_error_rate_min_sample() -> int:
    """Below this many records in the window the error rate is not judged (1 failure of 2 is not 50%)."""
    return int(getattr(settings, "HEALTH_ERROR_RATE_MIN_SAMPLE", 20))


def health_retention_days() -> int:
    return int(getattr(settings, "HEALTH_METRIC_RETENTION_DAYS", 30))


def reconciliation_thresholds() -> Thresholds:
    """Discrepancies (missing + extra + stale) above `warning` warn, above `critical` page."""
    return Thresholds(
        warning=float(getattr(settings, "RECONCILIATION_WARNING_DISCREPANCIES", 0)),
        critical=float(getattr(settings, "RECONCILIATION_CRITICAL_DISCREPANCIES", 50)),
    )


def reconciliation_id_list_cap() -> int:
    return int(getattr(settings, "RECONCILIATION_ID_LIST_CAP", 500))


def reconciliation_grace_seconds() -> int:
    """Records Shopify changed this recently are not judged: their webhook may be in flight."""
    return int(getattr(settings, "RECONCILIATION_GRACE_SECONDS", 300))


def reconciliation_content_sample_size() -> int:
    """Records per resource and run whose whole content (every column and child) is compared with
    Shopify's current copy, fetched by id: changes Shopify makes without moving `updated_at` (a
    deleted product's line items) are invisible to the staleness check. 0 turns the sample off."""
    return int(getattr(settings, "RECONCILIATION_CONTENT_SAMPLE_SIZE", 200))


def reconciliation_auto_heal() -> bool:
    """Whether the daily beat run heals what it finds (on-demand runs ask explicitly)."""
    return bool(getattr(settings, "RECONCILIATION_AUTO_HEAL", False))


def reconciliation_bulk_poll_seconds() -> float:
    """First wait between polls of the export (later polls wait up to 5 % of the time waited so far,
    at most 30 s: `shopsync.shopify.bulk.next_poll_interval`)."""
    return float(getattr(settings, "RECONCILIATION_BULK_POLL_SECONDS", 2.0))


def slack_webhook_url() -> str:
    return getattr(settings, "SLACK_WEBHOOK_URL", "") or ""


def slack_timeout_seconds() -> float:
    return float(getattr(settings, "SLACK_TIMEOUT_SECONDS", 5))


def metrics_bearer_token() -> str:
    return getattr(settings, "METRICS_BEARER_TOKEN", "") or ""
