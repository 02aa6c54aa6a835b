"""Reads for the customer pages (R2): the list's filters (country, email-marketing consent) and a
customer's address book and consent as staff read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.db.models.fields.json import KT

from shopsync.models import Customer, CustomerAddress, Shop

# Shopify's email marketing states (CustomerEmailAddressMarketingState and REST), as staff read them.
EMAIL_MARKETING_LABELS = {
    "subscribed": "Subscribed",
    "not_subscribed": "Not subscribed",
    "unsubscribed": "Unsubscribed",
    "pending": "Pending confirmation",
    "invalid": "Invalid address",
    "redacted": "Redacted",
}
OPT_IN_LABELS = {
    "single_opt_in": "single opt-in",
    "confirmed_opt_in": "confirmed opt-in",
    "unknown": "opt-in unknown",
}


@dataclass(frozen=True, slots=True)
class CustomerListFilters:
    """The list's filters, each empty for "any": the default address's country code (where the
    customer lives) and the email-marketing state."""

    country: str = ""
    email_marketing: str = ""

    @property
    def is_active(self) -> bool:
        return bool(self.country or self.email_marketing)


@dataclass(frozen=True, slots=True)
class Consent:
    channel: str  # "Email", "SMS"
    state: str | None
    opt_in_level: str | None
    changed_at: datetime | None
    collected_from: str | None = None

    @property
    def label(self) -> str:
        if self.state is None:
            return "—"
        text = EMAIL_MARKETING_LABELS.get(self.state, self.state.replace("_", " ").capitalize())
        level = OPT_IN_LABELS.get(self.opt_in_level or "", self.opt_in_level)
        return f"{text} ({level})" if level else text


def customers_filter(customers: QuerySet[Customer], *, filters: CustomerListFilters) -> QuerySet[Customer]:
    if filters.country:
        customers = customers.filter(default_address__country_code=filters.country)
    if filters.email_marketing:
        customers = customers.filter(email_marketing_state=filters.email_marketing)
    return customers


def customer_countries_list(*, shop: Shop) -> list[tuple[str, str]]:
    """(code, name) of the countries the shop's live customers' default addresses are in, by name."""
    rows = (
        Customer.objects.filter(
            shop=shop, deleted_at__isnull=True, default_address__country_code__isnull=False
        )
        .annotate(code=KT("default_address__country_code"), name=KT("default_address__country"))
        .values_list("code", "name")
        .distinct()
    )
    names: dict[str, str] = {}
    for code, name in rows:
        if code:
            names[code] = names.get(code) or name or code
    return sorted(names.items(), key=lambda item: (item[1].casefold(), item[0]))


def customer_addresses_list(*, customer: Customer) -> list[tuple[CustomerAddress, bool]]:
    """Every address of the customer, the default first: (address, is the default)."""
    default_id = customer.default_address_shopify_id
    addresses = CustomerAddress.objects.filter(customer=customer).order_by("shopify_id")
    marked = [(address, address.shopify_id == default_id) for address in addresses]
    return sorted(marked, key=lambda item: not item[1])


def customer_consents(*, customer: Customer) -> list[Consent]:
    return [
        Consent(
            "Email",
            customer.email_marketing_state,
            customer.email_marketing_opt_in_level,
            customer.email_marketing_updated_at,
        ),
        Consent(
            "SMS",
            customer.sms_marketing_state,
            customer.sms_marketing_opt_in_level,
            customer.sms_marketing_updated_at,
            customer.sms_marketing_collected_from,
        ),
    ]
