"""Metafields (contract §8.10) in both payload shapes, and the rule a shop's chosen namespaces follow.

- GraphQL: `metafields` on the owner (Order, Customer, Product), a connection; in a bulk export its
  nodes are child lines with `__parentId` = the owner. `value` is always a string (numbers and JSON
  too); the type says how to read it.
- REST / webhooks: a subscription created with `metafieldNamespaces` adds `metafields: [...]` to the
  owner's body, the metafields in those namespaces only ([UNSURE: exact key set], §8.10); a body
  without the key carries none (`None`: the stored set stays).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, NotRequired, TypedDict

from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError

from shopsync.payloads.errors import PayloadValidationError, readable_id
from shopsync.payloads.records import MetafieldRecord
from shopsync.payloads.types import ShopifyId, UtcDatetime, gid_to_int, text, to_utc

# Shopify: a namespace is 2 to 255 characters of letters, digits, `-` and `_` [UNSURE: the
# documented minimum has been 2 and 3 in different versions; 2 is the looser, safer reading for
# names that exist]. App-reserved namespaces (`$app:...`) are resolved by Shopify to
# `app--<id>--...`, the form stored and returned, so that form is accepted as it is.
NAMESPACE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{2,255}$")
# A shop mirrors a handful of namespaces: each one is a filter in every query and subscription.
NAMESPACES_MAX = 10

MetafieldText = text(255)


class MetafieldNode(TypedDict):
    id: Annotated[str, StringConstraints(pattern=r"^gid://shopify/Metafield/[0-9]{1,19}$")]
    namespace: MetafieldText
    key: MetafieldText
    type: NotRequired[MetafieldText | None]
    value: NotRequired[str | None]
    createdAt: NotRequired[UtcDatetime | None]
    updatedAt: NotRequired[UtcDatetime | None]


OwnerGid = Annotated[str, StringConstraints(pattern=r"^gid://shopify/(Order|Customer|Product)/[0-9]{1,19}$")]
MetafieldLine = TypedDict("MetafieldLine", {**MetafieldNode.__annotations__, "__parentId": OwnerGid})

METAFIELD = TypeAdapter(MetafieldNode)
METAFIELD_LINE = TypeAdapter(MetafieldLine)


def metafield_record(node: MetafieldNode) -> MetafieldRecord:
    get = node.get
    return MetafieldRecord(
        shopify_id=gid_to_int(node["id"]),
        namespace=node["namespace"],
        key=node["key"],
        type=get("type") or None,
        value=get("value"),
        shopify_created_at=to_utc(get("createdAt")),
        shopify_updated_at=to_utc(get("updatedAt")),
    )


class RestMetafield(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: ShopifyId
    namespace: MetafieldText
    key: MetafieldText
    type: MetafieldText | None = None
    value: Any = None
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None

    def to_record(self) -> MetafieldRecord:
        # REST has given numbers as JSON numbers in old versions; the mirror keeps Shopify's text.
        value = self.value if self.value is None or isinstance(self.value, str) else str(self.value)
        return MetafieldRecord(
            shopify_id=self.id,
            namespace=self.namespace,
            key=self.key,
            type=self.type or None,
            value=value,
            shopify_created_at=to_utc(self.created_at),
            shopify_updated_at=to_utc(self.updated_at),
        )


def rest_metafields(metafields: list[RestMetafield] | None) -> list[MetafieldRecord] | None:
    return None if metafields is None else [metafield.to_record() for metafield in metafields]


def parse_metafield_rest(payload: Any) -> MetafieldRecord:
    """One REST metafield object (a decoded dict)."""
    try:
        return RestMetafield.model_validate(payload).to_record()
    except ValidationError as error:
        raise PayloadValidationError.from_pydantic(
            error, resource="metafield", shopify_id=readable_id(payload, "id")
        ) from None


def namespaces_clean(values: Iterable[str]) -> list[str]:
    """A shop's chosen namespaces as stored: stripped, without repeats, sorted. Raises ValueError
    naming the first invalid one, or when there are more than NAMESPACES_MAX."""
    chosen = sorted({value.strip() for value in values if value.strip()})
    for namespace in chosen:
        if not NAMESPACE_PATTERN.match(namespace):
            raise ValueError(
                f"{namespace!r} is not a metafield namespace: 2 to 255 letters, digits, '-' or '_'"
            )
    if len(chosen) > NAMESPACES_MAX:
        raise ValueError(f"at most {NAMESPACES_MAX} namespaces ({len(chosen)} given)")
    return chosen
