"""Shopify global ids: gid://shopify/{Type}/{numeric}."""

from __future__ import annotations

PREFIX = "gid://shopify/"


def gid(type_name: str, numeric_id: int | str) -> str:
    return f"{PREFIX}{type_name}/{numeric_id}"


def parse_gid(value: str) -> tuple[str, int] | None:
    """'gid://shopify/Order/12?x=1' -> ('Order', 12); None when it is not a Shopify GID."""
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return None
    type_name, _, rest = value[len(PREFIX) :].partition("/")
    digits = rest.split("?", 1)[0]
    if not type_name or not digits.isdigit():
        return None
    return type_name, int(digits)
