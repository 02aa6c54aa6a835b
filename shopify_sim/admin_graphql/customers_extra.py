"""GraphQL for a customer in full (contract §8.6): email and SMS consent on both the deprecated objects
(`emailMarketingConsent`, `smsMarketingConsent`) and the 2025-04+ ones (`defaultEmailAddress`,
`defaultPhoneNumber`), and `locale`, from store/customers_extra.py. Merged over `fields.FIELDS`."""

from __future__ import annotations

from typing import Any

from shopify_sim.admin_graphql.context import GraphQLContext
from shopify_sim.admin_graphql.fields import FieldFn
from shopify_sim.store import customers_extra
from shopify_sim.timeutil import iso_z


def upper(value: str | None) -> str | None:
    return value.upper() if value else None


def email_marketing_consent(obj: dict, args: dict, ctx: GraphQLContext) -> dict[str, Any] | None:
    consent = customers_extra.email_consent(obj)
    if consent is None:
        return None
    return {
        "marketingState": upper(consent["state"]),
        "marketingOptInLevel": upper(consent["opt_in_level"]),
        "consentUpdatedAt": iso_z(consent["updated_at"]),
    }


def default_email_address(obj: dict, args: dict, ctx: GraphQLContext) -> dict[str, Any] | None:
    consent = customers_extra.email_consent(obj)
    if consent is None:
        return None
    return {
        "emailAddress": obj["email"],
        "marketingState": upper(consent["state"]),
        "marketingOptInLevel": upper(consent["opt_in_level"]),
        "marketingUpdatedAt": iso_z(consent["updated_at"]),
        "validFormat": consent["state"] != "invalid",
    }


def sms_marketing_consent(obj: dict, args: dict, ctx: GraphQLContext) -> dict[str, Any] | None:
    consent = customers_extra.sms_consent(obj)
    if consent is None:
        return None
    return {
        "marketingState": upper(consent["state"]),
        "marketingOptInLevel": upper(consent["opt_in_level"]),
        "consentUpdatedAt": iso_z(consent["updated_at"]),
        "consentCollectedFrom": consent["collected_from"],
    }


def default_phone_number(obj: dict, args: dict, ctx: GraphQLContext) -> dict[str, Any] | None:
    consent = customers_extra.sms_consent(obj)
    if consent is None:
        return None
    return {
        "phoneNumber": obj["phone"],
        "marketingState": upper(consent["state"]),
        "marketingOptInLevel": upper(consent["opt_in_level"]),
        "marketingUpdatedAt": iso_z(consent["updated_at"]),
        "marketingCollectedFrom": consent["collected_from"],
    }


FIELDS: dict[str, dict[str, FieldFn]] = {
    "Customer": {
        "emailMarketingConsent": email_marketing_consent,
        "defaultEmailAddress": default_email_address,
        "smsMarketingConsent": sms_marketing_consent,
        "defaultPhoneNumber": default_phone_number,
        "locale": lambda o, a, c: customers_extra.locale(o),
    }
}
