"""Shop domain rules (pure functions, no Django models)."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError

_LABEL = r"[a-z0-9][a-z0-9-]*"
_MYSHOPIFY = re.compile(rf"^{_LABEL}\.myshopify\.com$")


def normalize_shop_domain(raw: str) -> str:
    """Lower-case, strip scheme, slashes and whitespace: 'https://Foo.myshopify.com/' -> 'foo.myshopify.com'."""
    value = (raw or "").strip().lower()
    value = re.sub(r"^https?://", "", value)
    return value.rstrip("/")


def is_valid_shop_domain(domain: str) -> bool:
    if _MYSHOPIFY.match(domain):
        return True
    for suffix in settings.SHOPIFY_EXTRA_SHOP_DOMAIN_SUFFIXES:
        if re.match(rf"^{_LABEL}\.{re.escape(suffix.lstrip('.'))}$", domain):
            return True
    return False


def validate_shop_domain(value: str) -> None:
    """Model/form validator: only `{name}.myshopify.com` hostnames are shops."""
    if value != normalize_shop_domain(value) or not is_valid_shop_domain(value):
        raise ValidationError(
            "%(value)s is not a valid shop domain; expected NAME.myshopify.com "
            "(letters, digits and hyphens, lower case).",
            params={"value": value},
            code="invalid_shop_domain",
        )
