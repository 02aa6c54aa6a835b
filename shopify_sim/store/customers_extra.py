"""A customer in full (contract §8.6): locale, email and SMS marketing consent (state, opt-in level,
when it last changed, where SMS consent was collected), and the address book operations.

Canonical additions to a customer record (all optional, so a record written before them still reads):
- `locale`: "en", "fr", ... (default "en");
- `email_marketing`: `{state, opt_in_level, updated_at}` (state `subscribed` iff `accepts_marketing`);
- `sms_marketing`: `{state, opt_in_level, updated_at, collected_from}` or None (no phone: None).

The generator adds them from its own random stream (`enrich`), so a seed's customers are as they were
plus these fields. Addresses are the record's `addresses` list (most recent first) and
`default_address_id`.
"""

from __future__ import annotations

import random
from typing import Any

from shopify_sim.store import records

LOCALES = ("en", "en", "en", "en", "en", "en", "en-CA", "fr", "de", "es")
EMAIL_STATES = ("subscribed", "not_subscribed", "unsubscribed", "pending", "invalid")
SMS_STATES = ("subscribed", "not_subscribed", "unsubscribed", "pending")
OPT_IN_LEVELS = ("single_opt_in", "confirmed_opt_in", "unknown")
COLLECTED_FROM = ("OTHER", "SHOPIFY")
ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address1",
    "address2",
    "city",
    "province",
    "province_code",
    "country",
    "country_code",
    "zip",
    "phone",
)


def between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * max(0, high - low))


def enrich(rng: random.Random, customer: dict[str, Any]) -> None:
    """Locale and consent for a generated customer (its own stream: the rest of the record stays)."""
    created, updated = customer["created_at"], customer["updated_at"]
    customer["locale"] = rng.choice(LOCALES)
    if customer["accepts_marketing"]:
        email = {
            "state": "subscribed",
            "opt_in_level": "confirmed_opt_in" if rng.random() < 0.3 else "single_opt_in",
            "updated_at": customer.get("marketing_updated_at") or created,
        }
    else:
        roll = rng.random()
        state = "not_subscribed" if roll < 0.8 else "unsubscribed" if roll < 0.95 else "pending"
        email = {
            "state": state,
            "opt_in_level": "confirmed_opt_in" if state == "pending" else "single_opt_in",
            "updated_at": None if state == "not_subscribed" else between(rng, created, updated),
        }
    customer["email_marketing"] = email
    sms = None
    if customer["phone"]:
        roll = rng.random()
        state = "subscribed" if roll < 0.25 else "not_subscribed" if roll < 0.85 else "unsubscribed"
        sms = {
            "state": state,
            "opt_in_level": "single_opt_in" if rng.random() < 0.8 else "unknown",
            "updated_at": None if state == "not_subscribed" else between(rng, created, updated),
            "collected_from": rng.choice(COLLECTED_FROM) if state != "not_subscribed" else "OTHER",
        }
    customer["sms_marketing"] = sms


def locale(customer: dict[str, Any]) -> str:
    return customer.get("locale") or "en"


def email_consent(customer: dict[str, Any]) -> dict[str, Any] | None:
    """`{state, opt_in_level, updated_at}` or None (no email)."""
    if not customer["email"]:
        return None
    found = customer.get("email_marketing")
    if found:
        return found
    return {
        "state": "subscribed" if customer["accepts_marketing"] else "not_subscribed",
        "opt_in_level": "single_opt_in",
        "updated_at": customer.get("marketing_updated_at"),
    }


def sms_consent(customer: dict[str, Any]) -> dict[str, Any] | None:
    """`{state, opt_in_level, updated_at, collected_from}` or None (no phone)."""
    if not customer["phone"]:
        return None
    found = customer.get("sms_marketing")
    if found:
        return found
    return {
        "state": "not_subscribed",
        "opt_in_level": "single_opt_in",
        "updated_at": None,
        "collected_from": "OTHER",
    }


def set_consent(
    customer: dict[str, Any], channel: str, state: str, opt_in_level: str | None, at: int
) -> None:
    """A consent change (control API or the change generator); `at` becomes its updated_at."""
    if channel == "email":
        if not customer["email"]:
            raise ValueError("the customer has no email address")
        if state not in EMAIL_STATES:
            raise ValueError(f"state must be one of {', '.join(EMAIL_STATES)}")
        current = email_consent(customer) or {}
        customer["email_marketing"] = {
            "state": state,
            "opt_in_level": opt_in_level or current.get("opt_in_level") or "single_opt_in",
            "updated_at": at,
        }
        customer["accepts_marketing"] = state == "subscribed"
        customer["marketing_updated_at"] = at
        return
    if channel != "sms":
        raise ValueError("channel must be email or sms")
    if not customer["phone"]:
        raise ValueError("the customer has no phone number")
    if state not in SMS_STATES:
        raise ValueError(f"state must be one of {', '.join(SMS_STATES)}")
    current = sms_consent(customer) or {}
    customer["sms_marketing"] = {
        "state": state,
        "opt_in_level": opt_in_level or current.get("opt_in_level") or "single_opt_in",
        "updated_at": at,
        "collected_from": "OTHER",
    }


# -- the address book ------------------------------------------------------------------------------------
def find_address(customer: dict[str, Any], address_id: int) -> dict[str, Any]:
    for address in customer["addresses"]:
        if address["id"] == address_id:
            return address
    raise LookupError(f"address {address_id} not found")


def add_address(customer: dict[str, Any], address: dict[str, Any], make_default: bool) -> dict[str, Any]:
    """The newest address goes first (REST `addresses` shows the 10 most recent); the first address of a
    customer without one becomes the default."""
    customer["addresses"].insert(0, address)
    if make_default or customer.get("default_address_id") is None:
        customer["default_address_id"] = address["id"]
    return address


def edit_address(customer: dict[str, Any], address_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    address = find_address(customer, address_id)
    unknown = sorted(set(fields) - set(ADDRESS_FIELDS) - {"default"})
    if unknown:
        raise ValueError(f"unknown address field(s): {', '.join(unknown)}")
    for name, value in fields.items():
        if name != "default":
            address[name] = value
    if fields.get("default"):
        customer["default_address_id"] = address_id
    return address


def remove_address(customer: dict[str, Any], address_id: int) -> None:
    """Shopify refuses to delete the default address (422)."""
    find_address(customer, address_id)
    if customer.get("default_address_id") == address_id:
        raise PermissionError("Cannot delete the customer's default address")
    customer["addresses"] = [a for a in customer["addresses"] if a["id"] != address_id]


def random_address_change(rng: random.Random, ids: records.Ids, customer: dict[str, Any]) -> str:
    """Add (sometimes as the default), edit, remove a non-default address, or move the default."""
    addresses = customer["addresses"]
    others = [a for a in addresses if a["id"] != customer.get("default_address_id")]
    roll = rng.random()
    if not addresses or roll < 0.35:
        first, last = customer["first_name"] or "", customer["last_name"] or ""
        address = records.make_address(rng, ids.address.next(rng), first, last)
        add_address(customer, address, make_default=rng.random() < 0.4)
        return "add"
    if roll < 0.6:
        address = rng.choice(addresses)
        edit_address(
            customer,
            address["id"],
            {
                "address1": f"{rng.randint(1, 9999)} {rng.choice(('Elm St', 'Bank St', 'King St W', 'Rue Laurier'))}"
            },
        )
        return "edit"
    if others and roll < 0.8:
        remove_address(customer, rng.choice(others)["id"])
        return "remove"
    if others:
        customer["default_address_id"] = rng.choice(others)["id"]
        return "default"
    address = addresses[0]
    edit_address(
        customer, address["id"], {"zip": f"{address.get('zip') or ''}".strip()[:3] + f"{rng.randint(10, 99)}"}
    )
    return "edit"
