"""Run-time changes to product images (store/media.py) for the change generator: `product_media/update`
adds, removes, re-describes or moves an image, or shows it for another variant. A product's image list
is part of the product: the change bumps its `updated_at` and sends `products/update` (REST bodies
carry `images`), as any product edit [UNSURE whether Shopify sends products/update for a media-only
change; the mirror also re-reads images with every product version]."""

from __future__ import annotations

import random

from shopify_sim.store import media
from shopify_sim.store.mutations import Change, Mutator

KINDS = ("product_media/update",)


class MediaChanges:
    def __init__(self, mutator: Mutator) -> None:
        self.mutator = mutator

    def random_change(self, rng: random.Random, kind: str) -> Change | None:
        store = self.mutator.store
        product_id = store.random_id("products", rng.random())
        product = store.get("products", product_id) if product_id is not None else None
        if product is None:
            return None
        images = media.random_media_change(rng, product)
        record = self.mutator.update("products", product["id"], {"media": images}, rng)
        return Change("products", "update", record["id"], record["updated_at"])
