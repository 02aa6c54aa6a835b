"""Run-time customer changes beyond the basic update (contract §8.6, §8.14): the address book (add, edit,
remove a non-default address, move the default) and marketing consent (email, SMS), from the control API
and the change generator.

Readings (README): every such change bumps the customer's `updated_at`, records an `update` event and
sends `customers/update` (the REST customer carries `addresses`, `default_address` and both consent
objects); a consent change also sends `customers_email_marketing_consent/update` (email) or
`customers_marketing_consent/update` (SMS) with `{customer_id, email_address | phone_number,
email_marketing_consent | sms_marketing_consent}` (contract §8.6 [UNSURE exact keys]).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from shopify_sim.render import rest as render
from shopify_sim.store import customers_extra, records
from shopify_sim.store.events import record_event
from shopify_sim.store.mutations import Change, MutationError, Mutator, bump

Emit = Callable[[str, dict[str, Any]], Any]
Sink = Callable[[str, str, dict[str, Any]], None]
Edit = Callable[[dict[str, Any], records.Ids, int], list[str]]

EMAIL_TOPIC = "customers_email_marketing_consent/update"
SMS_TOPIC = "customers_marketing_consent/update"
KINDS = ("customer_addresses/update", EMAIL_TOPIC, SMS_TOPIC)


def consent_payload(topic: str, customer: dict[str, Any], offset: int) -> dict[str, Any]:
    if topic == EMAIL_TOPIC:
        return {
            "customer_id": customer["id"],
            "email_address": customer["email"],
            "email_marketing_consent": render.email_marketing_consent(customer, offset),
        }
    return {
        "customer_id": customer["id"],
        "phone_number": customer["phone"],
        "sms_marketing_consent": render.sms_marketing_consent(customer, offset),
    }


class CustomerChanges:
    def __init__(self, mutator: Mutator, emit: Emit, sink: Sink, offset: int) -> None:
        self.mutator = mutator
        self.store = mutator.store
        self.emit = emit
        self.sink = sink
        self.offset = offset

    def change(self, customer_id: int, edit: Edit) -> dict[str, Any]:
        """Load, edit (returns consent topics to send), bump, save, record the event, then send."""
        mutator = self.mutator
        with mutator.lock, self.store.writing() as conn:
            customer = mutator._load("customers", customer_id)
            ids = mutator._ids()
            at = bump(customer["updated_at"])
            try:
                topics = edit(customer, ids, at)
            except LookupError as exc:
                raise MutationError(404, str(exc)) from exc
            except PermissionError as exc:
                raise MutationError(422, str(exc)) from exc
            except ValueError as exc:
                raise MutationError(422, str(exc)) from exc
            customer["updated_at"] = at
            mutator._save(conn, "customers", customer, ids)
            record_event(conn, resource="customers", record=customer, verb="update", at=at)
        for topic in topics:
            self.emit(topic, consent_payload(topic, customer, self.offset))
        self.sink("customers/update", "customers", customer)
        return customer

    # -- explicit (control API) ------------------------------------------------------------------------
    def add_address(self, customer_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        made: dict[str, Any] = {}

        def edit(customer: dict[str, Any], ids: records.Ids, at: int) -> list[str]:
            rng = random.Random(at)
            first, last = customer["first_name"] or "", customer["last_name"] or ""
            address = records.make_address(rng, ids.address.next(rng), first, last)
            values = dict(fields)
            make_default = bool(values.pop("default", False))
            unknown = sorted(set(values) - set(customers_extra.ADDRESS_FIELDS))
            if unknown:
                raise ValueError(f"unknown address field(s): {', '.join(unknown)}")
            address.update(values)
            made.update(customers_extra.add_address(customer, address, make_default))
            return []

        customer = self.change(customer_id, edit)
        return self.rendered_address(customer, made["id"])

    def edit_address(self, customer_id: int, address_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        customer = self.change(
            customer_id, lambda c, ids, at: (customers_extra.edit_address(c, address_id, fields), [])[1]
        )
        return self.rendered_address(customer, address_id)

    def remove_address(self, customer_id: int, address_id: int) -> dict[str, Any]:
        return self.change(
            customer_id, lambda c, ids, at: (customers_extra.remove_address(c, address_id), [])[1]
        )

    def set_consent(
        self, customer_id: int, channel: str, state: str, opt_in_level: str | None = None
    ) -> dict[str, Any]:
        def edit(customer: dict[str, Any], ids: records.Ids, at: int) -> list[str]:
            customers_extra.set_consent(customer, channel, state, opt_in_level, at)
            return [EMAIL_TOPIC if channel == "email" else SMS_TOPIC]

        return self.change(customer_id, edit)

    def rendered_address(self, customer: dict[str, Any], address_id: int) -> dict[str, Any]:
        address = customers_extra.find_address(customer, address_id)
        return render.address(address, customer["id"], customer.get("default_address_id") == address_id)

    # -- the change generator --------------------------------------------------------------------------
    def random_change(self, rng: random.Random, kind: str) -> Change | None:
        if kind == "customer_addresses/update":
            customer_id = self.store.random_id("customers", rng.random())
            if customer_id is None:
                return None
            customer = self.change(
                customer_id, lambda c, ids, at: (customers_extra.random_address_change(rng, ids, c), [])[1]
            )
            return Change("customer_addresses", "update", customer_id, customer["updated_at"])
        channel = "email" if kind == EMAIL_TOPIC else "sms"
        column = "email" if channel == "email" else "phone"
        where = f"json_extract(data, '$.{column}') IS NOT NULL"
        customer_id = self.store.random_id("customers", rng.random(), where)
        if customer_id is None:
            return None
        current = self.store.get("customers", customer_id)
        consent = (customers_extra.email_consent if channel == "email" else customers_extra.sms_consent)(
            current
        )
        state = "unsubscribed" if consent and consent["state"] == "subscribed" else "subscribed"
        customer = self.set_consent(
            customer_id, channel, state, rng.choice(("single_opt_in", "confirmed_opt_in"))
        )
        return Change("customers", f"{channel}_consent", customer_id, customer["updated_at"])
