"""Shopify's status words as staff read them: `{{ order.fulfillment_status|status_label }}`.

We store Shopify's enum values lowercased (`partially_fulfilled`); the pages never show them raw.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from shopsync.dashboard_selectors import sync_trigger_phrase
from shopsync.models import SyncSession

register = template.Library()

STATUS_LABELS = {
    # orders: payment (displayFinancialStatus)
    "pending": "Payment pending",
    "authorized": "Authorized",
    "partially_paid": "Partially paid",
    "paid": "Paid",
    "partially_refunded": "Partially refunded",
    "refunded": "Refunded",
    "voided": "Voided",
    "expired": "Expired",
    # orders: fulfillment (displayFulfillmentStatus)
    "unfulfilled": "Unfulfilled",
    "partially_fulfilled": "Partially fulfilled",
    "partial": "Partially fulfilled",
    "fulfilled": "Fulfilled",
    "restocked": "Restocked",
    "in_progress": "In progress",
    "on_hold": "On hold",
    "open": "Open",
    "pending_fulfillment": "Pending fulfillment",
    "request_declined": "Request declined",
    "scheduled": "Scheduled",
    # orders: discount applications (type, target, allocation method)
    "discount_code": "Discount code",
    "manual": "Manual",
    "automatic": "Automatic",
    "script": "Script",
    "line_item": "Line items",
    "shipping_line": "Shipping",
    "across": "split across",
    "each": "each",
    "one": "one item",
    # customers: account state
    "enabled": "Has an account",
    "disabled": "No account",
    "invited": "Invited",
    "declined": "Declined the invitation",
    # products
    "active": "Active",
    "draft": "Draft",
    "archived": "Archived",
}


@register.filter
def status_label(value: object, empty: str = "—") -> str:
    """A human label for a status value; unknown values are still made readable, blanks become `empty`."""
    if value is None or value == "":
        return empty
    text = str(value)
    return STATUS_LABELS.get(text.lower(), text.replace("_", " ").capitalize())


@register.filter
def trigger_phrase(session: SyncSession) -> str:
    """How a run was started, as it reads after "Initial sync #12 · "."""
    return sync_trigger_phrase(session=session)


# Names that keep their capital inside a sentence.
PROPER_NOUNS = ("Shopify",)


@register.filter
def in_sentence(label: str) -> str:
    """A label as it reads mid-sentence: "Writing" → "writing", but "Shopify is preparing the
    export" keeps its capital."""
    text = str(label)
    if not text or text.startswith(PROPER_NOUNS):
        return text
    return text[0].lower() + text[1:]


@dataclass(frozen=True, slots=True)
class ScopeLabel:
    code: str
    label: str


@register.filter
def scope_labels(scopes: str | None) -> list[ScopeLabel]:
    """Shopify's access scopes as its admin names them: "read_all_orders" → "Read all orders"."""
    codes = [code.strip() for code in (scopes or "").split(",") if code.strip()]
    return [ScopeLabel(code=code, label=code.replace("_", " ").capitalize()) for code in codes]
