"""A customer in full (contract §6.2, §8.6): its address book and its marketing consent, in both
payload shapes. The customer's own node and REST model (`graphql.CustomerNode`, `rest.RestCustomer`)
use these.

- Addresses: GraphQL `Customer.addressesV2`, a connection (the product runs on 2026-01, where the
  `addresses` list is deprecated; see `shopsync.resources.customers`), so in a bulk export they are
  child lines with `__parentId` = the customer. REST `addresses[]` holds at most the 10 most recent.
- A `MailingAddress` GID may carry a `?model_name=CustomerAddress` suffix (contract §8.1); its number
  is the REST address id.
- Consent: GraphQL `defaultEmailAddress { marketingState marketingOptInLevel marketingUpdatedAt }`
  and `defaultPhoneNumber { ... marketingCollectedFrom }` (2025-04+), or the deprecated
  `emailMarketingConsent` / `smsMarketingConsent`; REST `email_marketing_consent {state,
  opt_in_level, consent_updated_at}` and `sms_marketing_consent {..., consent_collected_from}`.
  Enums are stored lower-case (REST's spelling).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, NotRequired, TypedDict

from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter

from shopsync.payloads.records import CustomerAddressRecord
from shopsync.payloads.types import (
    INT64_MAX,
    Email,
    Enum32,
    PersonName,
    Phone,
    ShopifyId,
    UtcDatetime,
    connection,
    gid,
    to_utc,
)

# REST keeps at most this many addresses in a customer body: a body with this many may have left
# some out, so it does not replace the stored set (the GraphQL paths and reconciliation do).
REST_ADDRESSES_MAX = 10

_MAILING_ADDRESS_PATTERN = r"^gid://shopify/MailingAddress/[0-9]{1,19}(\?[^\s]*)?$"
_MAILING_ADDRESS_GID = re.compile(_MAILING_ADDRESS_PATTERN)
MailingAddressGid = Annotated[str, StringConstraints(pattern=_MAILING_ADDRESS_PATTERN)]
CustomerGid = gid("Customer")


def mailing_address_id(value: str) -> int:
    """`gid://shopify/MailingAddress/123?model_name=CustomerAddress` -> 123."""
    number = value[value.rindex("/") + 1 :]
    return int(number.split("?", 1)[0])


class AddressNode(TypedDict):
    id: MailingAddressGid
    firstName: NotRequired[PersonName | None]
    lastName: NotRequired[PersonName | None]
    name: NotRequired[PersonName | None]
    company: NotRequired[PersonName | None]
    address1: NotRequired[PersonName | None]
    address2: NotRequired[PersonName | None]
    city: NotRequired[PersonName | None]
    province: NotRequired[PersonName | None]
    provinceCode: NotRequired[PersonName | None]
    country: NotRequired[PersonName | None]
    countryCodeV2: NotRequired[PersonName | None]
    zip: NotRequired[PersonName | None]
    phone: NotRequired[Phone | None]


AddressConnection = connection(AddressNode, "AddressConnection")


class EmailConsentNode(TypedDict):
    """`defaultEmailAddress` (2025-04+) or the deprecated `emailMarketingConsent` (whose time is
    `consentUpdatedAt`)."""

    emailAddress: NotRequired[Email | None]
    marketingState: NotRequired[Enum32 | None]
    marketingOptInLevel: NotRequired[Enum32 | None]
    marketingUpdatedAt: NotRequired[UtcDatetime | None]
    consentUpdatedAt: NotRequired[UtcDatetime | None]


class SmsConsentNode(TypedDict):
    """`defaultPhoneNumber` or the deprecated `smsMarketingConsent`."""

    phoneNumber: NotRequired[Phone | None]
    marketingState: NotRequired[Enum32 | None]
    marketingOptInLevel: NotRequired[Enum32 | None]
    marketingUpdatedAt: NotRequired[UtcDatetime | None]
    consentUpdatedAt: NotRequired[UtcDatetime | None]
    marketingCollectedFrom: NotRequired[Enum32 | None]
    consentCollectedFrom: NotRequired[Enum32 | None]


AddressLine = TypedDict("AddressLine", {**AddressNode.__annotations__, "__parentId": CustomerGid})

ADDRESS = TypeAdapter(AddressNode)
ADDRESS_LINE = TypeAdapter(AddressLine)


def address_record(node: AddressNode) -> CustomerAddressRecord:
    get = node.get
    return CustomerAddressRecord(
        shopify_id=mailing_address_id(node["id"]),
        first_name=get("firstName") or None,
        last_name=get("lastName") or None,
        name=get("name") or None,
        company=get("company") or None,
        address1=get("address1") or None,
        address2=get("address2") or None,
        city=get("city") or None,
        province=get("province") or None,
        province_code=get("provinceCode") or None,
        country=get("country") or None,
        country_code=get("countryCodeV2") or None,
        zip=get("zip") or None,
        phone=get("phone") or None,
    )


def default_address_id(address: dict[str, Any] | None) -> int | None:
    """The default address's id, from `defaultAddress { id ... }` (None without a readable one)."""
    address_id = (address or {}).get("id")
    if not isinstance(address_id, str) or not _MAILING_ADDRESS_GID.match(address_id):
        return None
    return mailing_address_id(address_id)


def email_consent(node: EmailConsentNode | None) -> tuple[str | None, str | None, datetime | None]:
    """(state, opt-in level, changed at) of a GraphQL email consent object."""
    if not node:
        return None, None, None
    changed = node.get("marketingUpdatedAt") or node.get("consentUpdatedAt")
    return (
        node.get("marketingState") or None,
        node.get("marketingOptInLevel") or None,
        to_utc(changed),
    )


def sms_consent(
    node: SmsConsentNode | None,
) -> tuple[str | None, str | None, datetime | None, str | None]:
    """(state, opt-in level, changed at, collected from) of a GraphQL SMS consent object."""
    if not node:
        return None, None, None, None
    state, level, changed = email_consent(node)  # type: ignore[arg-type]
    collected = node.get("marketingCollectedFrom") or node.get("consentCollectedFrom")
    return state, level, changed, collected or None


# -- REST ------------------------------------------------------------------------------------------


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RestAddress(_Payload):
    id: ShopifyId
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    name: PersonName | None = None
    company: PersonName | None = None
    address1: PersonName | None = None
    address2: PersonName | None = None
    city: PersonName | None = None
    province: PersonName | None = None
    province_code: PersonName | None = None
    country: PersonName | None = None
    country_code: PersonName | None = None
    zip: PersonName | None = None
    phone: Phone | None = None

    def to_record(self) -> CustomerAddressRecord:
        return CustomerAddressRecord(
            shopify_id=self.id,
            first_name=self.first_name or None,
            last_name=self.last_name or None,
            name=self.name or None,
            company=self.company or None,
            address1=self.address1 or None,
            address2=self.address2 or None,
            city=self.city or None,
            province=self.province or None,
            province_code=self.province_code or None,
            country=self.country or None,
            country_code=self.country_code or None,
            zip=self.zip or None,
            phone=self.phone or None,
        )


def rest_address_id(address: dict[str, Any] | None) -> int | None:
    """The id of REST's `default_address` (None without an exact integer one)."""
    value = (address or {}).get("id")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= INT64_MAX:
        return None
    return value


class RestEmailConsent(_Payload):
    state: Enum32 | None = None
    opt_in_level: Enum32 | None = None
    consent_updated_at: UtcDatetime | None = None


class RestSmsConsent(RestEmailConsent):
    consent_collected_from: Enum32 | None = None


def rest_addresses(addresses: list[RestAddress] | None) -> list[CustomerAddressRecord] | None:
    """The whole address book, or None ("not given": the stored set stays) when the body has none
    or may have been cut at REST's 10 most recent."""
    if addresses is None or len(addresses) >= REST_ADDRESSES_MAX:
        return None
    return [address.to_record() for address in addresses]


def parse_address_rest(payload: dict[str, Any]) -> CustomerAddressRecord:
    """One REST address (`customers/{id}/addresses.json`, an element of a customer's `addresses`)."""
    return RestAddress.model_validate(payload).to_record()
