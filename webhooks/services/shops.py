"""What webhooks change on the Shop row itself."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from shopsync.models import Shop
from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.errors import ShopifyAuthError

logger = logging.getLogger(__name__)

# The cheapest authenticated question: any answer at all means the app's token still works.
SHOP_ID_QUERY = "{ shop { id } }"


def shop_app_is_installed(*, shop: Shop) -> bool:
    """Ask Shopify whether the app is still installed on the shop: an uninstalled app's token is
    refused with 401 (contract §1.1; uninstalling revokes every token, refresh tokens included).

    Retryable failures (429, 5xx, network) are raised for the caller to retry: neither answer may
    be guessed. Never call this inside a web request or a transaction (R9, R11)."""
    try:
        # Two tries at most: the delivery itself is retried with backoff (a worker must not block).
        ShopifyClient.for_shop(shop, max_attempts=2).graphql(SHOP_ID_QUERY)
    except ShopifyAuthError:
        return False
    return True


def shop_uninstalled_mark(*, shop: Shop, uninstalled_at: datetime) -> bool:
    """Mark the shop uninstalled (app/uninstalled). The sync engine stops its running sessions at
    their next batch and its beat skips uninstalled shops, so this also pauses the schedules.

    A late app/uninstalled from before a reinstall must not uninstall the reinstalled shop: the
    update only applies when the shop was installed before the uninstall happened. Returns whether
    the shop changed."""
    changed = (
        Shop.objects.filter(pk=shop.pk, status=Shop.Status.INSTALLED)
        .filter(Q(installed_at__isnull=True) | Q(installed_at__lte=uninstalled_at))
        .update(status=Shop.Status.UNINSTALLED, uninstalled_at=uninstalled_at, updated_at=timezone.now())
    )
    if changed:
        logger.info("shop uninstalled shop_id=%s", shop.pk)
    return bool(changed)
