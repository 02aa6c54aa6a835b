"""The store: canonical records in one SQLite file per shop, a deterministic generator, mutations."""

from __future__ import annotations

from shopify_sim.store.db import RESOURCES, Store

__all__ = ["RESOURCES", "Store"]
