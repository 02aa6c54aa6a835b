from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from shopsync.admin_scoping import ShopScopedAdminMixin
from webhooks.models import PrivacyRequest, WebhookLog


@admin.register(WebhookLog)
class WebhookLogAdmin(ShopScopedAdminMixin, admin.ModelAdmin):
    """Read-only: deliveries are evidence; they change only through processing. Staff see their shops'
    deliveries only (the raw bodies hold customers' data)."""

    list_display = ("id", "shop", "topic", "shopify_id", "status", "attempts", "triggered_at", "received_at")
    list_filter = ("status", "topic", "shop")
    list_select_related = ("shop",)
    search_fields = ("=event_id", "=webhook_id", "=shopify_id", "=id")
    date_hierarchy = "received_at"
    raw_id_fields = ("shop",)
    readonly_fields = (
        "shop",
        "topic",
        "event_id",
        "webhook_id",
        "shopify_id",
        "api_version",
        "triggered_at",
        "received_at",
        "queued_at",
        "claimed_at",
        "processed_at",
        "status",
        "attempts",
        "last_error",
        "body_preview",
        "created_at",
        "updated_at",
    )
    exclude = ("body",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WebhookLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WebhookLog | None = None) -> bool:
        return False

    @admin.display(description="body")
    def body_preview(self, obj: WebhookLog) -> str:
        return format_html('<pre class="shopsync-pre">{}</pre>', obj.body_text[:20_000])


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(ShopScopedAdminMixin, admin.ModelAdmin):
    list_display = ("id", "shop", "topic", "customer_shopify_id", "completed_at", "emailed_at")
    list_filter = ("topic", "shop")
    list_select_related = ("shop",)
    search_fields = ("=customer_shopify_id",)
    raw_id_fields = ("shop", "webhook_log")
    readonly_fields = (
        "shop",
        "webhook_log",
        "topic",
        "customer_shopify_id",
        "payload",
        "result",
        "completed_at",
        "emailed_at",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PrivacyRequest | None = None) -> bool:
        return False
