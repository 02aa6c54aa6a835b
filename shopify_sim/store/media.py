"""Product media (contract §8.7): the images of a product, with alt text, size, order and the variants
each one is shown for.

A generated product's images are derived from its id (own random stream: the generated store, its
hashes and every other draw stay as they were), so every surface and the truth agree without storing
them; the first change to a product's images stores the list in the product (`media`), from then on
the stored list is the truth. Which variants show an image is kept on the image (`variant_ids`, as
REST's `images[].variant_ids`); a variant's `image_id` is the first image that lists it. Ids of
variants the product no longer has are dropped when read.

One number names an image on every surface: the MediaImage GID, REST `images[].id` and a variant's
`image_id`, and the deprecated `ProductVariant.image` / `Product.featuredImage` (ProductImage GIDs)
[UNSURE whether Shopify keeps one number for both; the contract treats GIDs as opaque, §8.1].
"""

from __future__ import annotations

import random
from typing import Any

# Image ids: the product's id times this, plus a sequence (a product has far fewer images).
ID_FACTOR = 64
MAX_IMAGES = ID_FACTOR - 1
SIZES = ((2048, 2048), (1200, 1600), (1600, 1200), (800, 800))


def _derived(product: dict[str, Any]) -> list[dict[str, Any]]:
    rng = random.Random(f"media:{product['id']}")
    count = 0 if rng.random() < 0.2 else rng.randint(1, 4)
    images = [new_image(rng, product, sequence) for sequence in range(1, count + 1)]
    for variant in product["variants"]:
        vrng = random.Random(f"media:variant:{variant['id']}")
        if images and vrng.random() < 0.5:
            images[vrng.randrange(len(images))]["variant_ids"].append(variant["id"])
    return images


def new_image(rng: random.Random, product: dict[str, Any], sequence: int) -> dict[str, Any]:
    width, height = rng.choice(SIZES)
    image_id = product["id"] * ID_FACTOR + sequence
    return {
        "id": image_id,
        "alt": f"{product['title']}, view {sequence}" if rng.random() < 0.8 else None,
        "src": f"https://cdn.shopify.com/s/files/1/products/{image_id}.jpg",
        "width": width,
        "height": height,
        "variant_ids": [],
        "created_at": product["created_at"],
    }


def media_of(product: dict[str, Any]) -> list[dict[str, Any]]:
    """The product's images in order, each with `position` (1-based) and only live `variant_ids`."""
    stored = product.get("media")
    images = [dict(image) for image in (stored if stored is not None else _derived(product))]
    live = {variant["id"] for variant in product["variants"]}
    for position, image in enumerate(images, start=1):
        image["position"] = position
        image["variant_ids"] = [vid for vid in image["variant_ids"] if vid in live]
    return images


def variant_image_id(
    product: dict[str, Any], variant_id: int, images: list[dict] | None = None
) -> int | None:
    for image in images if images is not None else media_of(product):
        if variant_id in image["variant_ids"]:
            return image["id"]
    return None


def random_media_change(rng: random.Random, product: dict[str, Any]) -> list[dict[str, Any]]:
    """A new image list for the product: an image added, removed, re-described, moved, or shown for
    another variant (what merchants do in the admin)."""
    images = [{k: v for k, v in image.items() if k != "position"} for image in media_of(product)]
    roll = rng.random()
    if not images or (roll < 0.3 and len(images) < MAX_IMAGES):
        used = {image["id"] % ID_FACTOR for image in images}
        sequence = next(s for s in range(1, ID_FACTOR) if s not in used)
        images.append(new_image(rng, product, sequence))
    elif roll < 0.45:
        images.pop(rng.randrange(len(images)))
    elif roll < 0.7:
        images[rng.randrange(len(images))]["alt"] = f"{product['title']} ({rng.choice(ALT_WORDS)})"
    elif roll < 0.85 and len(images) > 1:
        images.insert(0, images.pop(rng.randrange(1, len(images))))
    else:
        variant = rng.choice(product["variants"])
        for image in images:
            image["variant_ids"] = [vid for vid in image["variant_ids"] if vid != variant["id"]]
        images[rng.randrange(len(images))]["variant_ids"].append(variant["id"])
    return images


ALT_WORDS = ("front", "back", "detail", "on model", "packaging", "close-up")
