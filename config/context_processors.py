"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from config.dev_secrets import dev_secrets_in_use


def dev_secrets(request: HttpRequest) -> dict[str, list[str]]:
    """`dev_secrets`: the settings holding a public development secret (the demo, local runs), so the
    page can say so; production settings refuse to start with any, so there it is always empty."""
    return {
        "dev_secrets": dev_secrets_in_use(
            secret_key=settings.SECRET_KEY,
            shopify_api_secret=settings.SHOPIFY_API_SECRET,
            field_encryption_keys=settings.FIELD_ENCRYPTION_KEYS,
        )
    }
