"""Reconciliation reports, health samples and alert incidents: evidence, so view-only; an incident
can be closed by hand (say, for a shop that was uninstalled while it was open)."""

from __future__ import annotations

import orjson
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from reconciliation.models import AlertIncident, ReconciliationReport, SyncHealthMetric
from reconciliation.services.alerts import alert_incident_resolve
from shopsync.admin_scoping import ShopScopedAdminMixin


def _shop_link(shop: object) -> str:
    url = reverse("admin:shopsync_shop_change", args=[shop.pk])  # type: ignore[attr-defined]
    return format_html('<a href="{}">{}</a>', url, shop)


def _pretty(value: object) -> str:
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    return format_html('<pre class="shopsync-pre shopsync-pre--scroll">{}</pre>', text)


class _ViewOnly(ShopScopedAdminMixin, admin.ModelAdmin):
    list_select_related = ("shop",)
    raw_id_fields = ("shop",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    @admin.display(description="shop", ordering="shop__domain")
    def shop_link(self, obj: object) -> str:
        return _shop_link(obj.shop)  # type: ignore[attr-defined]


@admin.register(ReconciliationReport)
class ReconciliationReportAdmin(_ViewOnly):
    list_display = (
        "id", "shop_link", "resource", "status", "triggered_by", "shopify_count", "local_count", "missing_count",
        "extra_count", "stale_count", "healed", "started_at", "duration",
    )  # fmt: skip
    list_filter = ("status", "resource", "triggered_by", "heal_requested", "shop")
    date_hierarchy = "started_at"
    fields = (
        "shop", "resource", "status", "triggered_by", "started_at", "finished_at", "snapshot_at", "shopify_count",
        "shopify_snapshot_count", "local_count", "missing_count", "extra_count", "stale_count", "missing_ids_pretty",
        "extra_ids_pretty", "stale_ids_pretty", "content_checked_count", "content_mismatch_count",
        "content_mismatch_ids_pretty", "heal_requested", "healed_at", "heal_result_pretty", "error",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description="healed", boolean=True)
    def healed(self, obj: ReconciliationReport) -> bool | None:
        return obj.healed_at is not None if obj.heal_requested else None

    @admin.display(description="duration")
    def duration(self, obj: ReconciliationReport) -> str:
        if obj.finished_at is None:
            return "-"
        return f"{(obj.finished_at - obj.started_at).total_seconds():.1f}s"

    @admin.display(description="missing ids (first of them)")
    def missing_ids_pretty(self, obj: ReconciliationReport) -> str:
        return _pretty(obj.missing_ids)

    @admin.display(description="extra ids (first of them)")
    def extra_ids_pretty(self, obj: ReconciliationReport) -> str:
        return _pretty(obj.extra_ids)

    @admin.display(description="stale ids (first of them)")
    def stale_ids_pretty(self, obj: ReconciliationReport) -> str:
        return _pretty(obj.stale_ids)

    @admin.display(description="ids differing in content (first of them)")
    def content_mismatch_ids_pretty(self, obj: ReconciliationReport) -> str:
        return _pretty(obj.content_mismatch_ids)

    @admin.display(description="heal result")
    def heal_result_pretty(self, obj: ReconciliationReport) -> str:
        return _pretty(obj.heal_result)


@admin.register(SyncHealthMetric)
class SyncHealthMetricAdmin(_ViewOnly):
    list_display = (
        "id",
        "shop_link",
        "kind",
        "value",
        "status",
        "warning_threshold",
        "critical_threshold",
        "measured_at",
    )
    list_filter = ("status", "kind", "shop")
    date_hierarchy = "measured_at"
    fields = (
        "shop", "kind", "value", "status", "warning_threshold", "critical_threshold", "details_pretty", "measured_at",
    )  # fmt: skip
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description="details")
    def details_pretty(self, obj: SyncHealthMetric) -> str:
        return _pretty(obj.details)


class IncidentStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("open", "Open"), ("resolved", "Resolved")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AlertIncident]) -> QuerySet[AlertIncident]:
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(AlertIncident)
class AlertIncidentAdmin(_ViewOnly):
    list_display = (
        "id",
        "shop_link",
        "kind",
        "summary",
        "opened_at",
        "last_seen_at",
        "resolved_at",
        "notified",
    )
    list_filter = (IncidentStateFilter, "kind", "shop")
    search_fields = ("kind", "summary")
    date_hierarchy = "opened_at"
    actions = ("resolve",)
    fields = (
        "shop", "kind", "summary", "details_pretty", "opened_at", "last_seen_at", "resolved_at", "email_sent_at",
        "slack_sent_at", "notify_error",
    )  # fmt: skip
    readonly_fields = fields

    def has_handle_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("reconciliation.change_alertincident")

    @admin.action(description="Resolve (close the incident)", permissions=["handle"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[AlertIncident]) -> None:
        now = timezone.now()
        closed = [
            alert_incident_resolve(shop=incident.shop, kind=incident.kind, now=now)
            for incident in queryset.filter(resolved_at__isnull=True).select_related("shop")
        ]
        self.message_user(request, f"{sum(1 for c in closed if c)} incident(s) resolved.", messages.SUCCESS)

    @admin.display(description="notified", boolean=True)
    def notified(self, obj: AlertIncident) -> bool:
        return obj.email_sent_at is not None or obj.slack_sent_at is not None

    @admin.display(description="details")
    def details_pretty(self, obj: AlertIncident) -> str:
        return _pretty(obj.details)
