"""Collections (custom and smart) and their membership,, in both shapes (contract §8.8): the records, the GraphQL selections and nodes, the REST/webhook models, the builders.

- A collection's kind: GraphQL `ruleSet` is null for a custom collection and set for a smart one;
  REST/webhook bodies carry `rules` (and `disjunctive`) for smart collections only.
- Enums are stored in REST's spelling: sort order "best-selling" (GraphQL BEST_SELLING), rule
  columns and relations lower-case ("tag", "equals"; GraphQL TAG, EQUALS).
- Membership (`Collection.products`, a connection) has no REST/webhook form we read: REST `collects`
  cover custom collections only, and no webhook carries membership. A REST/webhook collection leaves
  the stored members as they are ("not given").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from pydantic import TypeAdapter

from shopsync.payloads.graphql import ProductGid, _bulk_child_line, _connected
from shopsync.payloads.rest import _Payload, _validate
from shopsync.payloads.types import (
    Int32,
    ShopifyId,
    Title,
    UtcDatetime,
    blank_to_none,
    connection,
    gid,
    gid_to_int,
    lower_text,
    reference_id,
    text,
    to_utc,
)

CollectionGid = gid("Collection")
Enum32 = lower_text(32)
Url = text(2048)
AltText = text(512)

# -- records -------------------------------------------------------------------------------------------


@dataclass(slots=True)
class CollectionProductRecord:
    """One member of a collection: the product's id."""

    shopify_id: int


@dataclass(slots=True)
class CollectionRecord:
    shopify_id: int
    shopify_created_at: datetime | None
    shopify_updated_at: datetime
    title: str | None = None
    handle: str | None = None
    body_html: str | None = None
    sort_order: str | None = None
    template_suffix: str | None = None
    kind: str | None = None
    rules: list[dict[str, str]] = field(default_factory=list)
    disjunctive: bool | None = None
    image: dict[str, Any] | None = None
    # `Collection.products` (a connection): the member products.
    members: list[CollectionProductRecord] | None = None


# -- GraphQL -------------------------------------------------------------------------------------------

COLLECTION_FIELDS = """
id
legacyResourceId
title
handle
descriptionHtml
sortOrder
templateSuffix
updatedAt
ruleSet { appliedDisjunctively rules { column relation condition } }
image { url altText width height }
""".strip()

# A member: the product's id, nothing else (the product itself is mirrored as a product).
COLLECTION_PRODUCT_FIELDS = "id"


class CollectionRule(TypedDict):
    column: Enum32
    relation: Enum32
    condition: text(255)


class CollectionRuleSet(TypedDict):
    appliedDisjunctively: NotRequired[bool | None]
    rules: NotRequired[list[CollectionRule] | None]


class ImageNode(TypedDict):
    url: NotRequired[Url | None]
    altText: NotRequired[AltText | None]
    width: NotRequired[Int32 | None]
    height: NotRequired[Int32 | None]


class CollectionProductNode(TypedDict):
    id: ProductGid


CollectionProductConnection = connection(CollectionProductNode, "CollectionProductConnection")


class CollectionNode(TypedDict):
    id: CollectionGid
    updatedAt: UtcDatetime
    title: NotRequired[Title | None]
    handle: NotRequired[Title | None]
    descriptionHtml: NotRequired[str | None]
    sortOrder: NotRequired[Enum32 | None]
    templateSuffix: NotRequired[text(255) | None]
    ruleSet: NotRequired[CollectionRuleSet | None]
    image: NotRequired[ImageNode | None]
    products: NotRequired[CollectionProductConnection | None]  # type: ignore[valid-type]


CollectionProductLine = _bulk_child_line(CollectionProductNode, "CollectionProductLine", CollectionGid)

COLLECTION = TypeAdapter(CollectionNode)
COLLECTION_PRODUCT = TypeAdapter(CollectionProductNode)
COLLECTION_PRODUCT_LINE = TypeAdapter(CollectionProductLine)


def _image(image: dict[str, Any] | None, alt: str | None = None) -> dict[str, Any] | None:
    if not image:
        return None
    return {
        "url": blank_to_none(image.get("url")),
        "alt": blank_to_none(alt if alt is not None else image.get("altText")),
        "width": image.get("width"),
        "height": image.get("height"),
    }


def collection_product_record(node: CollectionProductNode) -> CollectionProductRecord:
    return CollectionProductRecord(reference_id(node["id"]))


def collection_record(node: CollectionNode) -> CollectionRecord:
    get = node.get
    rule_set = get("ruleSet")
    sort_order = get("sortOrder")
    return CollectionRecord(
        shopify_id=gid_to_int(node["id"]),
        shopify_created_at=None,
        shopify_updated_at=to_utc(node["updatedAt"]),
        title=blank_to_none(get("title")),
        handle=blank_to_none(get("handle")),
        body_html=blank_to_none(get("descriptionHtml")),
        sort_order=sort_order.replace("_", "-") if sort_order else None,
        template_suffix=blank_to_none(get("templateSuffix")),
        kind="smart" if rule_set is not None else "custom",
        rules=[dict(rule) for rule in (rule_set or {}).get("rules") or ()],
        disjunctive=rule_set.get("appliedDisjunctively") if rule_set is not None else None,
        image=_image(get("image")),
        members=_connected(get("products"), collection_product_record),
    )


# -- REST / webhooks -------------------------------------------------------------------------------------


class RestRule(_Payload):
    column: Enum32
    relation: Enum32
    condition: text(255)


class RestImage(_Payload):
    src: Url | None = None
    alt: AltText | None = None
    width: Int32 | None = None
    height: Int32 | None = None

    def as_dict(self) -> dict[str, Any]:
        """As GraphQL's image reads (`_image`)."""
        return {"url": blank_to_none(self.src), "alt": blank_to_none(self.alt), "width": self.width,
                "height": self.height}  # fmt: skip


class RestCollection(_Payload):
    id: ShopifyId
    updated_at: UtcDatetime
    title: Title | None = None
    handle: Title | None = None
    body_html: str | None = None
    sort_order: Enum32 | None = None
    template_suffix: text(255) | None = None
    rules: list[RestRule] | None = None
    disjunctive: bool | None = None
    image: RestImage | None = None

    def to_record(self) -> CollectionRecord:
        smart = self.rules is not None
        image = self.image
        return CollectionRecord(
            shopify_id=self.id,
            shopify_created_at=None,
            shopify_updated_at=to_utc(self.updated_at),
            title=blank_to_none(self.title),
            handle=blank_to_none(self.handle),
            body_html=blank_to_none(self.body_html),
            sort_order=blank_to_none(self.sort_order),
            template_suffix=blank_to_none(self.template_suffix),
            kind="smart" if smart else "custom",
            rules=[rule.model_dump() for rule in self.rules or ()],
            disjunctive=self.disjunctive if smart else None,
            image=image.as_dict() if image else None,
            # No membership in REST/webhook bodies: the stored members stay.
            members=None,
        )


def parse_collection_rest(payload: Any) -> CollectionRecord:
    return _validate(RestCollection, payload, resource="collection").to_record()
