"""The admin for shops, their mirrored records, sync runs and dead letters.

Shopify owns the records: their pages are read-only (only a customer's `local_*` CRM fields are ours
to edit). Sessions, jobs and dead letters change only through services; dead letters have actions
for that ("Retry now", "Mark resolved", "Abandon"). Access and refresh tokens are never shown.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import orjson
from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django_celery_beat import admin as _beat_admin  # noqa: F401  (registers the pages replaced below)
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from shopsync.admin_scoping import ShopScopedAdminMixin, SuperuserOnlyAdminMixin
from shopsync.forms import metafield_namespaces_parse
from shopsync.models import (
    Collection,
    Customer,
    FailedSyncItem,
    InventoryLevel,
    Location,
    Order,
    OrderTransaction,
    Product,
    RefundTransaction,
    Shop,
    SyncAttempt,
    SyncEvent,
    SyncJob,
    SyncSession,
)
from shopsync.resources import DECLARATIONS, ChildDeclaration, declaration_for_model
from shopsync.services.dead_letter_retries import RetryOutcome, dead_letter_retry
from shopsync.services.dead_letters import dead_letter_resolve
from shopsync.services.metafields import shop_metafield_namespaces_set

MAX_PRETTY_CHARS = 200_000


def _admin_link(obj: object, label: object | None = None) -> str:
    if obj is None:
        return "-"
    meta = obj._meta  # type: ignore[attr-defined]
    try:
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])  # type: ignore[attr-defined]
    except NoReverseMatch:
        return str(label if label is not None else obj)
    return format_html('<a href="{}">{}</a>', url, label if label is not None else obj)


def _pretty_json(value: object) -> str:
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    if len(text) > MAX_PRETTY_CHARS:
        text = text[:MAX_PRETTY_CHARS] + "\n… (truncated)"
    return format_html('<pre class="shopsync-pre shopsync-pre--scroll">{}</pre>', text)


def _clipped(text: str, *, width: str) -> str:
    """One line of at most `width` (id, domain or text: static/admin_extra/shopsync_admin.css), cut
    with an ellipsis; the whole text in the tooltip."""
    return format_html(
        '<span title="{}" class="shopsync-clip shopsync-clip--{}">{}</span>', text, width, text
    )


def _pre(text: str) -> str:
    return format_html('<pre class="shopsync-pre">{}</pre>', text or "-")


class ReadOnlyAdmin(ShopScopedAdminMixin, admin.ModelAdmin):
    """A view-only page of one shop's rows: no add, change or delete through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


# --- shops ---------------------------------------------------------------------------------------


class ShopAdminForm(forms.ModelForm):
    """The metafield namespaces as text (commas between them), validated as on the settings page."""

    metafield_namespaces = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Metafield namespaces to mirror, separated by commas; empty for none. "
        "Removing one deletes its mirrored metafields.",
    )

    class Meta:
        model = Shop
        fields = ("name", "members", "metafield_namespaces")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["metafield_namespaces"] = ", ".join(self.instance.metafield_namespaces or [])

    def clean_metafield_namespaces(self) -> list[str]:
        return metafield_namespaces_parse(self.cleaned_data["metafield_namespaces"])


@admin.register(Shop)
class ShopAdmin(ShopScopedAdminMixin, admin.ModelAdmin):
    """Only the display name, the members and the metafield namespaces are editable; the tokens are
    not even shown. Staff see the shops they are members of."""

    form = ShopAdminForm
    shop_field = None
    ordering = ("domain",)

    list_display = ("domain", "name", "status", "installed_at", "open_dead_letters", "api_version")
    list_filter = ("status",)
    search_fields = ("domain", "name")
    fields = (
        "domain", "name", "status", "api_base_url", "api_version", "scopes", "currency", "installed_at",
        "uninstalled_at", "cutover_at", "access_token_expires_at", "has_access_token", "members",
        "metafield_namespaces", "created_at", "updated_at",
    )  # fmt: skip
    readonly_fields = tuple(f for f in fields if f not in ("name", "members", "metafield_namespaces"))
    filter_horizontal = ("members",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Shop]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_dead_letter_count=Count("failed_items", filter=Q(failed_items__resolved_at__isnull=True))
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # shops arrive by installing the app

    def save_model(self, request: HttpRequest, obj: Shop, form: forms.ModelForm, change: bool) -> None:
        # Through the service: rows of a dropped namespace go, the webhook subscriptions follow.
        shop_metafield_namespaces_set(shop=obj, namespaces=form.cleaned_data["metafield_namespaces"])
        super().save_model(request, obj, form, change)

    @admin.display(description="open dead letters", ordering="open_dead_letter_count")
    def open_dead_letters(self, obj: Shop) -> str:
        url = reverse("admin:shopsync_failedsyncitem_changelist")
        return format_html(
            '<a href="{}?shop__id__exact={}&resolution__exact=">{}</a>',
            url,
            obj.pk,
            obj.open_dead_letter_count,
        )

    @admin.display(description="access token", boolean=True)
    def has_access_token(self, obj: Shop) -> bool:
        return bool(obj.access_token)


# --- records -------------------------------------------------------------------------------------

RECORD_BASE_FIELDS = (
    "shop",
    "shopify_id",
    "shopify_created_at",
    "shopify_updated_at",
    "deleted_at",
    "synced_at",
)


class RecordAdmin(ReadOnlyAdmin):
    list_select_related = ("shop",)
    raw_id_fields = ("shop",)
    list_filter = (("deleted_at", admin.EmptyFieldListFilter), "shop")
    # Large tables: skip the extra COUNT(*) of the unfiltered table on every changelist.
    show_full_result_count = False

    @admin.display(description="shop", ordering="shop__domain")
    def shop_link(self, obj: object) -> str:
        return _admin_link(obj.shop)  # type: ignore[attr-defined]


CUSTOMER_LOCAL_FIELDS = ("id", "local_notes", "local_tags", "local_attributes")


class TransactionRefundInlineMixin:
    """An order's transactions: the refund each paid back, if one links it (`RefundTransaction`, by
    the transaction's Shopify id: the link may be here before the refund's transaction or after)."""

    extra_fields = ("paid_back_refund",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        links = RefundTransaction.objects.filter(shop=OuterRef("shop"), shopify_id=OuterRef("shopify_id"))
        return (
            super()  # type: ignore[misc]
            .get_queryset(request)
            .annotate(
                linked_refund_pk=Subquery(links.values("refund_id")[:1]),
                linked_refund_shopify_id=Subquery(links.values("refund__shopify_id")[:1]),
            )
        )

    @admin.display(description="refund paid back")
    def paid_back_refund(self, obj: OrderTransaction) -> str:
        if obj.linked_refund_pk is None:  # type: ignore[attr-defined]
            return "-"
        url = reverse("admin:shopsync_refund_change", args=[obj.linked_refund_pk])  # type: ignore[attr-defined]
        return format_html('<a href="{}">Refund {}</a>', url, obj.linked_refund_shopify_id)  # type: ignore[attr-defined]


class PaidBackInlineMixin:
    """A refund's transaction links: the transaction each names, as we hold it (or not yet)."""

    extra_fields = ("transaction",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        held = OrderTransaction.objects.filter(shop=OuterRef("shop"), shopify_id=OuterRef("shopify_id"))
        return (
            super()  # type: ignore[misc]
            .get_queryset(request)
            .annotate(
                held_kind=Subquery(held.values("kind")[:1]),
                held_status=Subquery(held.values("status")[:1]),
                held_amount=Subquery(held.values("amount")[:1]),
                held_currency=Subquery(held.values("currency")[:1]),
                held_gateway=Subquery(held.values("gateway")[:1]),
            )
        )

    @admin.display(description="transaction")
    def transaction(self, obj: RefundTransaction) -> str:
        if obj.held_kind is None:  # type: ignore[attr-defined]
            return "not synced yet"
        return format_html(
            "{} {} {} via {} ({})", obj.held_kind, _amount_text(obj.held_amount), obj.held_currency or "",  # type: ignore[attr-defined]
            obj.held_gateway or "-", obj.held_status or "-",  # type: ignore[attr-defined]
        )  # fmt: skip


def _amount_text(amount: Decimal | float | str | None) -> str:
    """A money amount as staff read it, the same on every database: at least two decimals, more
    only where the currency has them (PostgreSQL hands a subquery's numeric back as 20.0000)."""
    if amount is None:
        return "-"
    value = Decimal(str(amount)).normalize()
    return f"{value:.2f}" if value.as_tuple().exponent >= -2 else f"{value:f}"  # type: ignore[operator]


# Inlines that show more than their record's columns: what a link joins.
INLINE_MIXINS: dict[type[models.Model], type] = {
    OrderTransaction: TransactionRefundInlineMixin,
    RefundTransaction: PaidBackInlineMixin,
}


def _child_inlines(model: type[models.Model]) -> tuple[type[ReadOnlyInline], ...]:
    """A read-only inline per child the model's resource declares (line items, transactions ...),
    its columns those of the child's record, in the record's order."""
    return _inlines(declaration_for_model(model).children)


def _inlines(children: tuple[ChildDeclaration, ...]) -> tuple[type[ReadOnlyInline], ...]:
    """A child with children of its own (a refund and its line items) links to its own page, where
    they are inlines in turn (the admin does not nest inlines)."""
    inlines = []
    for child in children:
        names = tuple(f.name for f in dataclasses.fields(child.record_type) if f.name not in
                      {grandchild.name for grandchild in child.children})  # fmt: skip
        mixin = INLINE_MIXINS.get(child.model)
        shown = names + (mixin.extra_fields if mixin else ())  # type: ignore[attr-defined]
        attributes = {"model": child.model, "fields": shown, "readonly_fields": shown, "__module__": __name__,
                      "show_change_link": bool(child.children)}  # fmt: skip
        bases = (mixin, ReadOnlyInline) if mixin else (ReadOnlyInline,)
        inlines.append(type(f"{child.model.__name__}Inline", bases, attributes))
    return tuple(inlines)


def _child_admin(child: ChildDeclaration) -> type[ReadOnlyAdmin]:
    """A read-only page of one child with children of its own (a refund, a fulfillment), reached
    from its parent's inline."""
    names = tuple(f.name for f in dataclasses.fields(child.record_type) if f.name not in
                  {grandchild.name for grandchild in child.children})  # fmt: skip
    parent = child.parent_column.removesuffix("_id")
    attributes = {
        "__module__": __name__,
        "list_display": ("shopify_id", parent, *names[1:4]),
        "list_select_related": (parent,),
        "raw_id_fields": ("shop", parent),
        "search_fields": ("=shopify_id",),
        "show_full_result_count": False,
        "fields": ("shop", parent, *names),
        "readonly_fields": ("shop", parent, *names),
        "inlines": _inlines(child.children),
    }
    return type(f"{child.model.__name__}Admin", (ReadOnlyAdmin,), attributes)


for _declaration in DECLARATIONS.values():
    for _child in _declaration.all_children():
        if _child.children:
            admin.site.register(_child.model, _child_admin(_child))


@admin.register(Customer)
class CustomerAdmin(RecordAdmin):
    """Shopify's fields are read-only; the CRM's `local_*` fields are ours and editable."""

    list_display = (
        "shopify_id",
        "shop_link",
        "email",
        "first_name",
        "last_name",
        "state",
        "email_marketing_state",
        "shopify_updated_at",
    )
    list_filter = ("email_marketing_state", *RecordAdmin.list_filter)
    search_fields = ("=shopify_id", "email", "last_name")
    readonly_fields = tuple(
        f.name for f in Customer._meta.concrete_fields if f.name not in CUSTOMER_LOCAL_FIELDS
    )
    inlines = _child_inlines(Customer)

    def has_change_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        # Skips ReadOnlyAdmin's "never", keeps the shop check.
        return super(ReadOnlyAdmin, self).has_change_permission(request, obj)


@admin.register(Order)
class OrderAdmin(RecordAdmin):
    list_display = (
        "name", "shopify_id", "shop_link", "financial_status", "fulfillment_status", "total_price", "currency",
        "line_item_count", "shopify_updated_at",
    )  # fmt: skip
    list_filter = (
        "financial_status", "fulfillment_status", ("deleted_at", admin.EmptyFieldListFilter), "is_historical", "shop",
    )  # fmt: skip
    search_fields = ("=shopify_id", "name", "email")
    readonly_fields = tuple(f.name for f in Order._meta.concrete_fields if f.name != "id")
    inlines = _child_inlines(Order)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return super().get_queryset(request).annotate(line_item_total=Count("line_items"))

    @admin.display(description="line items", ordering="line_item_total")
    def line_item_count(self, obj: Order) -> int:
        return obj.line_item_total


@admin.register(Product)
class ProductAdmin(RecordAdmin):
    list_display = (
        "title",
        "shopify_id",
        "shop_link",
        "status",
        "vendor",
        "variant_count",
        "shopify_updated_at",
    )
    list_filter = ("status", ("deleted_at", admin.EmptyFieldListFilter), "shop")
    search_fields = ("=shopify_id", "title", "handle")
    readonly_fields = tuple(f.name for f in Product._meta.concrete_fields if f.name != "id")
    inlines = _child_inlines(Product)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return super().get_queryset(request).annotate(variant_total=Count("variants"))

    @admin.display(description="variants", ordering="variant_total")
    def variant_count(self, obj: Product) -> int:
        return obj.variant_total


@admin.register(Collection)
class CollectionAdmin(RecordAdmin):
    list_display = ("title", "shopify_id", "shop_link", "kind", "member_count", "shopify_updated_at")
    list_filter = ("kind", ("deleted_at", admin.EmptyFieldListFilter), "shop")
    search_fields = ("=shopify_id", "title", "handle")
    readonly_fields = tuple(f.name for f in Collection._meta.concrete_fields if f.name != "id")
    inlines = _child_inlines(Collection)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Collection]:
        return super().get_queryset(request).annotate(member_total=Count("members"))

    @admin.display(description="products", ordering="member_total")
    def member_count(self, obj: Collection) -> int:
        return obj.member_total


@admin.register(Location)
class LocationAdmin(RecordAdmin):
    """No inline of its levels (a warehouse stocks every variant of a large catalogue): their count
    here, the levels themselves on their own page, filtered by location."""

    list_display = ("name", "shopify_id", "shop_link", "is_active", "city", "country_code", "level_count",
                    "shopify_updated_at")  # fmt: skip
    list_filter = ("is_active", ("deleted_at", admin.EmptyFieldListFilter), "shop")
    search_fields = ("=shopify_id", "name", "city")
    readonly_fields = tuple(f.name for f in Location._meta.concrete_fields if f.name != "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Location]:
        return super().get_queryset(request).annotate(level_total=Count("levels"))

    @admin.display(description="inventory levels", ordering="level_total")
    def level_count(self, obj: Location) -> int:
        return obj.level_total


@admin.register(InventoryLevel)
class InventoryLevelAdmin(ReadOnlyAdmin):
    list_display = ("shopify_id", "location", "available", "on_hand", "committed", "incoming",
                    "shopify_updated_at")  # fmt: skip
    list_select_related = ("location",)
    list_filter = ("shop",)
    raw_id_fields = ("shop", "location")
    search_fields = ("=shopify_id", "=location__shopify_id", "location__name")
    readonly_fields = tuple(f.name for f in InventoryLevel._meta.concrete_fields if f.name != "id")
    show_full_result_count = False


# --- sync runs -----------------------------------------------------------------------------------


class SyncJobInline(ReadOnlyInline):
    model = SyncJob
    fields = (
        "job_link",
        "resource",
        "mode",
        "status",
        "synced",
        "total",
        "created",
        "updated",
        "failed",
        "error",
        "note",
    )
    readonly_fields = fields

    @admin.display(description="job")
    def job_link(self, obj: SyncJob) -> str:
        return _admin_link(obj, obj.pk)


class SyncEventInline(ReadOnlyInline):
    model = SyncEvent
    fields = ("at", "from_status", "to_status", "note")
    readonly_fields = fields


class SyncAttemptInline(ReadOnlyInline):
    model = SyncAttempt
    fields = ("task_id", "started_at", "finished_at", "outcome", "error")
    readonly_fields = fields


@admin.register(SyncSession)
class SyncSessionAdmin(ReadOnlyAdmin):
    """Read-only: a session moves only by its guarded status transitions (services/sync)."""

    list_display = (
        "id", "shop", "kind", "status", "stage", "triggered_by", "job_count", "started_at", "finished_at",
    )  # fmt: skip
    list_filter = ("status", "kind", "triggered_by", "shop")
    list_select_related = ("shop",)
    raw_id_fields = ("shop",)
    date_hierarchy = "created_at"
    readonly_fields = tuple(f.name for f in SyncSession._meta.concrete_fields if f.name != "id")
    inlines = (SyncJobInline, SyncAttemptInline, SyncEventInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SyncSession]:
        return super().get_queryset(request).annotate(job_total=Count("jobs"))

    @admin.display(description="jobs", ordering="job_total")
    def job_count(self, obj: SyncSession) -> int:
        return obj.job_total


@admin.register(SyncJob)
class SyncJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "session_link", "shop", "resource", "mode", "status", "synced", "total", "failed")
    list_filter = ("status", "resource", "mode", "shop")
    list_select_related = ("shop", "session")
    raw_id_fields = ("shop", "session")
    readonly_fields = tuple(f.name for f in SyncJob._meta.concrete_fields if f.name not in ("id", "failures"))
    readonly_fields += ("failures_pretty",)
    exclude = ("failures",)

    @admin.display(description="session", ordering="session_id")
    def session_link(self, obj: SyncJob) -> str:
        return _admin_link(obj.session, f"#{obj.session_id} {obj.session.kind}")

    @admin.display(description="failures")
    def failures_pretty(self, obj: SyncJob) -> str:
        return _pretty_json(obj.failures)


# --- dead letters --------------------------------------------------------------------------------


class DeadLetterStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("retrying", "Open, retrying"), ("exhausted", "Exhausted"), ("resolved", "Resolved")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[FailedSyncItem]) -> QuerySet[FailedSyncItem]:
        value = self.value()
        if value == "retrying":
            return queryset.filter(resolved_at__isnull=True, retry_count__lt=F("max_retries"))
        if value == "exhausted":
            return queryset.filter(resolved_at__isnull=True, retry_count__gte=F("max_retries"))
        if value == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(FailedSyncItem)
class FailedSyncItemAdmin(ShopScopedAdminMixin, admin.ModelAdmin):
    """View-only rows; they change through the actions, which call the dead-letter services."""

    # Kept to what fits 1280 px with one line per row: the error and the record reference are cut
    # short (the whole text in their tooltip and on the detail page); the retries, the next retry and
    # the resolution are part of the state.
    list_display = ("id", "shop_link", "entity_type", "record", "state", "short_error", "created")
    list_filter = (DeadLetterStateFilter, "entity_type", "resolution", "source", "shop")
    list_select_related = ("shop",)
    raw_id_fields = ("shop",)
    search_fields = ("=shopify_id", "=source_ref")
    date_hierarchy = "created_at"
    actions = ("retry_now", "mark_resolved", "abandon")
    fields = (
        "shop", "entity_type", "shopify_id", "source_detail", "state", "retry_count", "max_retries", "next_retry_at",
        "last_retried_at", "resolved_at", "resolution", "error_message_text", "error_trace_text", "payload_pretty",
        "created_at", "updated_at",
    )  # fmt: skip
    readonly_fields = fields

    class Media:
        css = {"all": ["admin_extra/dead_letters.css"]}

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        # The list needs the width: no navigation sidebar on this page (the breadcrumbs remain).
        return super().changelist_view(request, {"is_nav_sidebar_enabled": False, **(extra_context or {})})

    def get_queryset(self, request: HttpRequest) -> QuerySet[FailedSyncItem]:
        # The state column sorts: 0 retrying, 1 exhausted, 2 resolved.
        return (
            super()
            .get_queryset(request)
            .annotate(
                state_rank=Case(
                    When(resolved_at__isnull=False, then=Value(2)),
                    When(retry_count__gte=F("max_retries"), then=Value(1)),
                    default=Value(0),
                )
            )
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[FailedSyncItem], search_term: str
    ) -> tuple[QuerySet[FailedSyncItem], bool]:
        # Shopify ids are numbers: a non-numeric term only matches `source_ref`.
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q(source_ref=term)
        if term.isdigit():
            matches |= Q(shopify_id=int(term))
        return queryset.filter(matches), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: FailedSyncItem | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: FailedSyncItem | None = None) -> bool:
        return False  # "Abandon" keeps the evidence

    def has_handle_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("shopsync.change_failedsyncitem")

    @admin.action(description="Retry now", permissions=["handle"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[FailedSyncItem]) -> None:
        outcomes = [dead_letter_retry(item=item) for item in queryset.filter(resolved_at__isnull=True)]
        succeeded = outcomes.count(RetryOutcome.SUCCEEDED)
        failed = len(outcomes) - succeeded - outcomes.count(RetryOutcome.SKIPPED)
        level = messages.SUCCESS if not failed else messages.WARNING
        self.message_user(
            request,
            f"Retried {len(outcomes)}: {succeeded} succeeded, {failed} failed again, "
            f"{outcomes.count(RetryOutcome.SKIPPED)} skipped (busy or already resolved).",
            level,
        )

    @admin.action(description="Mark resolved", permissions=["handle"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[FailedSyncItem]) -> None:
        self._resolve(request, queryset, FailedSyncItem.Resolution.MANUAL)

    @admin.action(description="Abandon", permissions=["handle"])
    def abandon(self, request: HttpRequest, queryset: QuerySet[FailedSyncItem]) -> None:
        self._resolve(request, queryset, FailedSyncItem.Resolution.ABANDONED)

    def _resolve(self, request: HttpRequest, queryset: QuerySet[FailedSyncItem], resolution: str) -> None:
        items = list(queryset.filter(resolved_at__isnull=True))
        done = sum(dead_letter_resolve(item=item, resolution=resolution) for item in items)
        self.message_user(request, f"{done} dead letter(s) marked {resolution}.", messages.SUCCESS)

    @admin.display(description="shop", ordering="shop__domain")
    def shop_link(self, obj: FailedSyncItem) -> str:
        url = reverse("admin:shopsync_shop_change", args=[obj.shop_id])
        return format_html('<a href="{}">{}</a>', url, _clipped(obj.shop.domain, width="domain"))

    @admin.display(description="record")
    def record(self, obj: FailedSyncItem) -> str:
        return _clipped(str(obj.shopify_id or obj.source_ref or "-"), width="id")

    @admin.display(description="state", ordering="state_rank")
    def state(self, obj: FailedSyncItem) -> str:
        if obj.resolved_at is not None:
            return format_html('<span title="{}">resolved</span>', obj.get_resolution_display())
        retries = f"{obj.retry_count}/{obj.max_retries}"
        if obj.is_exhausted or obj.next_retry_at is None:
            return f"exhausted {retries}" if obj.is_exhausted else f"retrying {retries}"
        next_retry = timezone.localtime(obj.next_retry_at)
        return format_html(
            '<span title="next retry {}">retrying {}</span>', f"{next_retry:%Y-%m-%d %H:%M}", retries
        )

    @admin.display(description="error")
    def short_error(self, obj: FailedSyncItem) -> str:
        return _clipped(Truncator(obj.error_message).chars(300), width="text")

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: FailedSyncItem) -> str:
        return f"{timezone.localtime(obj.created_at):%Y-%m-%d %H:%M}"

    @admin.display(description="source")
    def source_detail(self, obj: FailedSyncItem) -> str:
        """What the item came from, and which run or delivery: one "Source" line on the page."""
        kind = obj.get_source_display()
        if obj.entity_type == FailedSyncItem.EntityType.WEBHOOK and obj.source_ref.isdigit():
            try:
                url = reverse("admin:webhooks_webhooklog_change", args=[int(obj.source_ref)])
            except NoReverseMatch:
                return f"{kind}: webhook log {obj.source_ref}"
            return format_html('{}: <a href="{}">webhook log {}</a>', kind, url, obj.source_ref)
        return f"{kind}: {obj.source_ref}" if obj.source_ref else kind

    @admin.display(description="error message")
    def error_message_text(self, obj: FailedSyncItem) -> str:
        return _pre(obj.error_message)

    @admin.display(description="error trace")
    def error_trace_text(self, obj: FailedSyncItem) -> str:
        return _pre(obj.error_trace)

    @admin.display(description="payload")
    def payload_pretty(self, obj: FailedSyncItem) -> str:
        return _pretty_json(obj.payload)


# --- beat schedules ------------------------------------------------------------------------------

# django-celery-beat's pages schedule tasks for every shop at once: they are for superusers only.
for _beat_model in (ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule):
    _beat_admin_class = type(admin.site.get_model_admin(_beat_model))
    admin.site.unregister(_beat_model)
    admin.site.register(
        _beat_model,
        type(
            f"SuperuserOnly{_beat_admin_class.__name__}",
            (SuperuserOnlyAdminMixin, _beat_admin_class),
            {"__module__": __name__},
        ),
    )
