from __future__ import annotations

from django.db import models


class BaseModel(models.Model):
    """Our own bookkeeping timestamps (not Shopify's: those are `shopify_*_at` on synced records)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
