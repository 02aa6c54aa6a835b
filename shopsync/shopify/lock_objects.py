"""Row locks used by the Shopify client (STYLE R11: locks live in one place and are evaluated eagerly)."""

from __future__ import annotations

from shopsync.models import Shop


def shop_select_for_update(*, shop_id: int) -> Shop:
    """Lock one shop row until the surrounding transaction ends. Must run inside `atomic()`."""
    return Shop.objects.select_for_update().get(pk=shop_id)
