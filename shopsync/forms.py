"""Forms of the staff pages: parsing and field validation only; the work is done by services (A1)."""

from __future__ import annotations

from django import forms

from shopsync.customer_selectors import EMAIL_MARKETING_LABELS, CustomerListFilters
from shopsync.models.sync import SyncKind
from shopsync.payloads.metafields import NAMESPACES_MAX, namespaces_clean
from shopsync.resources import DECLARATIONS
from shopsync.services.customers import MAX_NOTES_CHARS, local_tags_parse

RESOURCE_CHOICES = [(name, name.capitalize()) for name in sorted(DECLARATIONS)]


class SyncStartForm(forms.Form):
    """The settings page's "Run a sync": the everyday modes (full sync has its own, guarded form)."""

    MODE_CHOICES = [
        (SyncKind.INCREMENTAL, "Incremental: changes since the last sync"),
        (SyncKind.POPULATE, "Populate: fill in records we do not have yet"),
        (SyncKind.UPDATE, "Update: re-read records older than N minutes"),
    ]

    mode = forms.ChoiceField(choices=MODE_CHOICES, initial=SyncKind.INCREMENTAL, widget=forms.RadioSelect)
    resources = forms.MultipleChoiceField(
        choices=RESOURCE_CHOICES,
        initial=[value for value, _ in RESOURCE_CHOICES],
        widget=forms.CheckboxSelectMultiple,
    )
    days = forms.IntegerField(
        required=False, min_value=1, max_value=36500, label="Days (populate only)",
        help_text="Only records created in the last N days. Leave empty for all.",
    )  # fmt: skip
    stale_after_mins = forms.IntegerField(
        required=False, min_value=1, label="Stale after minutes (update only)",
        help_text="Re-read records our copy last changed more than N minutes ago.",
    )  # fmt: skip

    def clean(self) -> dict:
        data = super().clean()
        mode = data.get("mode")
        if mode == SyncKind.UPDATE and not data.get("stale_after_mins"):
            self.add_error("stale_after_mins", "Update mode needs the number of minutes.")
        if mode != SyncKind.UPDATE:
            data["stale_after_mins"] = None
        if mode != SyncKind.POPULATE:
            data["days"] = None
        return data


class ForceFullSyncForm(forms.Form):
    """Force full sync: re-reads every record and soft-deletes what Shopify no longer has. A recovery
    tool, so it needs an explicit, server-checked confirmation rather than a JavaScript prompt."""

    confirm = forms.BooleanField(
        required=True,
        label="I understand that a full sync re-reads every record from Shopify and may take a long time.",
        error_messages={"required": "Tick the box to confirm the full sync."},
    )


class CustomerLocalFieldsForm(forms.Form):
    local_notes = forms.CharField(
        required=False, max_length=MAX_NOTES_CHARS, label="Notes",
        widget=forms.Textarea(attrs={"rows": 5}),
    )  # fmt: skip
    local_tags = forms.CharField(
        required=False, max_length=2000, label="Tags", help_text="Comma-separated, e.g. vip, wholesale."
    )

    def clean_local_tags(self) -> list[str]:
        return local_tags_parse(self.cleaned_data["local_tags"])


class ShopInstallForm(forms.Form):
    """Rendered on the dashboard; it submits (GET) to the install view, whose service validates."""

    shop = forms.CharField(
        label="Shop domain", max_length=255,
        widget=forms.TextInput(attrs={"placeholder": "your-store.myshopify.com", "autocomplete": "off"}),
    )  # fmt: skip

    # Shown only when the install service accepts it (DEBUG or SHOPIFY_ALLOW_CUSTOM_API_URL): the
    # simulator's address in demos and tests.
    api_url = forms.URLField(
        required=False, label="API URL (development only)", assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "http://127.0.0.1:8001"}),
    )  # fmt: skip


class CustomerListFilterForm(forms.Form):
    """The customer list's filters (GET): the default address's country and email marketing."""

    country = forms.CharField(required=False, max_length=8, label="Country")
    email_marketing = forms.ChoiceField(
        required=False,
        label="Email marketing",
        choices=[("", "Any"), *EMAIL_MARKETING_LABELS.items()],
    )

    def filters(self) -> CustomerListFilters:
        """The valid filters; an invalid one (a hand-edited URL) is dropped, not an error page."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return CustomerListFilters(
            country=(data.get("country") or "").strip().upper(),
            email_marketing=data.get("email_marketing") or "",
        )


class MetafieldNamespacesForm(forms.Form):
    """The settings page's "Metafields": which namespaces to mirror, separated by commas or lines."""

    namespaces = forms.CharField(
        required=False,
        label="Namespaces to mirror",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=f"Up to {NAMESPACES_MAX}, separated by commas, e.g. custom, erp. Leave empty to mirror none.",
    )

    def clean_namespaces(self) -> list[str]:
        return metafield_namespaces_parse(self.cleaned_data["namespaces"])


def metafield_namespaces_parse(raw: str | None) -> list[str]:
    """Namespaces typed by staff (commas or lines between them), cleaned; a form error if invalid."""
    try:
        return namespaces_clean((raw or "").replace("\n", ",").split(","))
    except ValueError as exc:
        raise forms.ValidationError(str(exc)) from exc
