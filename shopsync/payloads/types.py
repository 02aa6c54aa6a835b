"""Field types shared by the REST and GraphQL payload models: each one validates *and* canonicalises,
so both shapes of the same record end up equal (UTC datetimes, Decimal money, int ids, lower-case enums).

Bounds mirror the model columns: a value the database would reject must fail here, on its own record,
instead of failing the whole write batch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, NotRequired, TypedDict

from pydantic import AwareDatetime, BeforeValidator, Field, StringConstraints

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# The columns are NUMERIC(20, 4).
MONEY_LIMIT = Decimal(10) ** 16


def to_utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def _split_tags(value: Any) -> Any:
    # REST sends one "a, b" string; GraphQL a list. Both end as a list of stripped, non-empty strings.
    if isinstance(value, str):
        return value.split(",")
    return value


def blank_to_none(value: str | None) -> str | None:
    """The one canonical "no value" for text: None. Shopify's GraphQL declares some strings non-null
    (`Product.descriptionHtml: HTML!`, `vendor: String!`) and sends "" where REST sends null, and
    either shape may send "" for a cleared field; stored, both must read the same."""
    return value or None


def clean_tags(tags: list[str]) -> list[str]:
    """Tags arrive stripped (see `Tags`); drop the empty ones ("a, , b")."""
    return tags if all(tags) else [tag for tag in tags if tag]


class PageInfo(TypedDict):
    """A connection's `pageInfo`, as far as the payloads read it."""

    hasNextPage: NotRequired[bool]
    endCursor: NotRequired[str | None]


def connection(node_type: type, name: str) -> type:
    """A GraphQL connection of `node_type`, named `name`, as a payload TypedDict: `nodes`, or
    `edges[].node`, and `pageInfo`, each optional (a query selects what its reader needs). Every
    connection a payload validates is made here, so they all read alike."""
    edge = TypedDict(f"{name}Edge", {"node": node_type})  # type: ignore[misc]  # noqa: UP013 (a made name)
    fields = {
        "nodes": NotRequired[list[node_type]],  # type: ignore[valid-type]
        "edges": NotRequired[list[edge]],  # type: ignore[valid-type]
        "pageInfo": NotRequired[PageInfo],
    }
    return TypedDict(name, fields)  # type: ignore[operator]


def gid(type_name: str) -> Any:
    """`gid://shopify/<type_name>/<digits>`, checked by pydantic-core; `gid_to_int` reads the number."""
    return Annotated[str, StringConstraints(pattern=rf"^gid://shopify/{type_name}/[0-9]{{1,19}}$")]


def gid_to_int(value: str) -> int:
    return int(value[value.rindex("/") + 1 :])


_REFERENCE_IDS: dict[str, int] = {}
_REFERENCE_IDS_MAX = 100_000


def reference_id(value: str) -> int:
    """`gid_to_int` for ids that repeat across records (a line item's product and variant, an order's
    customer, a child line's parent): remembered, as a bulk export names the same few thousand
    products millions of times. Bounded: forgotten wholesale when full."""
    number = _REFERENCE_IDS.get(value)
    if number is None:
        if len(_REFERENCE_IDS) >= _REFERENCE_IDS_MAX:
            _REFERENCE_IDS.clear()
        number = _REFERENCE_IDS[value] = gid_to_int(value)
    return number


def text(max_length: int) -> Any:
    return Annotated[str, StringConstraints(max_length=max_length)]


def lower_text(max_length: int) -> Any:
    return Annotated[str, StringConstraints(max_length=max_length, to_lower=True)]


# Conversions to UTC happen when records are built (`to_utc`), not here: a Python validator called
# from pydantic-core costs more than the conversion itself, and the bulk path reads millions of them.
UtcDatetime = AwareDatetime
Money = Annotated[Decimal, Field(allow_inf_nan=False, gt=-MONEY_LIMIT, lt=MONEY_LIMIT)]
# Strict: REST and webhook ids are JSON integers. A float (`9.00000000000000011e17`, or an integer
# too large for 64 bits, which the JSON decoder turns into a float) would be rounded to a different
# record's id, so it is refused; so are digit strings and booleans, which Shopify never sends here.
ShopifyId = Annotated[int, Field(ge=0, le=INT64_MAX, strict=True)]
Int32 = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]
StrippedList = list[Annotated[str, StringConstraints(strip_whitespace=True)]]
Tags = Annotated[StrippedList, BeforeValidator(_split_tags)]

Email = text(320)
Phone = text(64)
PersonName = text(255)
Title = text(512)
Sku = text(255)
Currency = text(3)
OrderName = text(64)
Enum32 = lower_text(32)
Enum64 = lower_text(64)
Enum16 = lower_text(16)


# The address keys we keep (REST names), whatever the shape: extra keys such as REST's `id` or
# `country_name` would make the two shapes of one record differ.
ADDRESS_KEYS = (
    "first_name",
    "last_name",
    "name",
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
GRAPHQL_ADDRESS_KEYS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "name": "name",
    "company": "company",
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "province": "province",
    "provinceCode": "province_code",
    "country": "country",
    "countryCodeV2": "country_code",
    "countryCode": "country_code",
    "zip": "zip",
    "phone": "phone",
}


def address_from_rest(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    # "" is stored as None, like every other text value (see `blank_to_none`).
    return {key: value.get(key) or None for key in ADDRESS_KEYS}


# (canonical key, GraphQL keys in order of preference), in ADDRESS_KEYS order.
_GRAPHQL_ADDRESS_SOURCES = tuple(
    (key, tuple(graphql for graphql, canonical in GRAPHQL_ADDRESS_KEYS.items() if canonical == key))
    for key in ADDRESS_KEYS
)


def address_from_graphql(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """REST keys; where two GraphQL keys name one value (`countryCodeV2`, the deprecated
    `countryCode`), the first one holding a value wins."""
    if value is None:
        return None
    get = value.get
    address: dict[str, Any] = {}
    for key, sources in _GRAPHQL_ADDRESS_SOURCES:
        item = get(sources[0])
        if not item and len(sources) > 1:
            item = next((found for source in sources[1:] if (found := get(source))), None)
        address[key] = item or None
    return address
