"""Registering a shop that already has an access token (CLI, demos, custom apps)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from shopsync.api_versions import UnsupportedApiVersion, api_version_validate
from shopsync.domains import normalize_shop_domain
from shopsync.models import Shop


def shop_connect(
    *, domain: str, api_url: str, token: str, api_version: str | None = None, scopes: str | None = None
) -> tuple[Shop, bool]:
    """Create or update the shop with this token, marked installed. Returns (shop, created).

    `api_version` must be one the client's queries run on (shopsync/api_versions.py); without it a new
    shop gets SHOPIFY_API_VERSION, and an existing one keeps its own."""
    domain = normalize_shop_domain(domain)
    if api_version:
        try:
            api_version_validate(api_version)
        except UnsupportedApiVersion as exc:
            raise ValidationError({"api_version": str(exc)}) from exc
    with transaction.atomic():
        shop = Shop.objects.select_for_update().filter(domain=domain).first()
        created = shop is None
        shop = shop or Shop(domain=domain, name=domain.split(".")[0])
        shop.api_base_url = api_url
        shop.access_token = token
        if api_version or created:
            shop.api_version = api_version or settings.SHOPIFY_API_VERSION
        if scopes is not None or created:
            shop.scopes = settings.SHOPIFY_SCOPES if scopes is None else scopes
        if not shop.is_installed or created:
            shop.status = Shop.Status.INSTALLED
            shop.installed_at = timezone.now()
            shop.uninstalled_at = None
        shop.full_clean()
        shop.save()
    return shop, created
