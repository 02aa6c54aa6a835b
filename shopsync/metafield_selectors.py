"""The metafields an owner's staff page shows (orders, customers, products: `shopsync.models.metafields`)."""

from __future__ import annotations

from django.db import models


def metafields_list(*, owner: models.Model) -> list[models.Model]:
    """The owner's mirrored metafields, by namespace then key."""
    return list(owner.metafields.order_by("namespace", "key", "shopify_id"))  # type: ignore[attr-defined]
