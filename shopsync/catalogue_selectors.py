"""Reads for the staff product pages: the product list, and one product with its variants (their
option values and image), its options, its images and the collections it is in."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q

from shopsync.models import (
    Collection,
    InventoryLevel,
    Location,
    Product,
    ProductMedia,
    ProductOption,
    ProductVariant,
    Shop,
)

PAGE_SIZE = 25


@dataclass(frozen=True, slots=True)
class VariantRow:
    variant: ProductVariant
    # (option name, value) in the product's option order.
    options: list[tuple[str, str]]
    image: ProductMedia | None


def product_page_get(*, shop: Shop, query: str, page: int | str | None) -> Page:
    """Live products, newest first; `query` matches the title, the handle or a variant's SKU."""
    products = Product.objects.filter(shop=shop, deleted_at__isnull=True)
    if query:
        skus = ProductVariant.objects.filter(shop=shop, sku__icontains=query).values("product_id")
        products = products.filter(Q(title__icontains=query) | Q(handle__icontains=query) | Q(pk__in=skus))
    products = products.annotate(variant_total=Count("variants")).order_by("-shopify_created_at", "-pk")
    return Paginator(products, PAGE_SIZE).get_page(page)


def product_options_list(*, product: Product) -> list[ProductOption]:
    return list(product.options.order_by("position", "shopify_id"))


def product_media_list(*, product: Product) -> list[ProductMedia]:
    return list(product.media.order_by("position", "shopify_id"))


def product_variant_rows(
    *, product: Product, options: list[ProductOption], media: list[ProductMedia]
) -> list[VariantRow]:
    """Each variant with its option values named by the product's options (REST `option1..3` are
    positions 1..3) and the image shown for it."""
    names = {option.position: option.name or f"Option {option.position}" for option in options}
    images = {image.shopify_id: image for image in media}
    rows = []
    for variant in product.variants.order_by("position", "shopify_id"):
        values = [(position, getattr(variant, f"option{position}")) for position in (1, 2, 3)]
        rows.append(
            VariantRow(
                variant=variant,
                options=[
                    (names.get(position, f"Option {position}"), value) for position, value in values if value
                ],
                image=images.get(variant.image_shopify_id) if variant.image_shopify_id else None,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class StockRow:
    variant: ProductVariant
    # One per location of the table, in its order: the level there, or None (not stocked there).
    levels: list[InventoryLevel | None]


@dataclass(frozen=True, slots=True)
class ProductStock:
    locations: list[Location]
    rows: list[StockRow]


def product_stock_get(*, product: Product, variants: list[VariantRow]) -> ProductStock:
    """Stock per location: each variant's inventory levels at the live locations that stock any of
    them (a level names its variant's inventory item; contract §8.9)."""
    items = {row.variant.inventory_item_shopify_id for row in variants} - {None}
    levels = InventoryLevel.objects.filter(
        shop_id=product.shop_id, shopify_id__in=items, location__deleted_at__isnull=True
    ).select_related("location")
    by_key = {(level.shopify_id, level.location_id): level for level in levels}
    locations = sorted(
        {level.location for level in by_key.values()}, key=lambda place: (place.name or "", place.pk)
    )
    rows = [
        StockRow(
            variant=row.variant,
            levels=[by_key.get((row.variant.inventory_item_shopify_id, place.pk)) for place in locations],
        )
        for row in variants
    ]
    return ProductStock(locations=locations, rows=rows)


def product_collections_list(*, product: Product) -> list[Collection]:
    """The live collections of the product's shop that list it as a member."""
    return list(
        Collection.objects.filter(
            shop_id=product.shop_id,
            deleted_at__isnull=True,
            members__shop_id=product.shop_id,
            members__shopify_id=product.shopify_id,
        ).order_by("title", "shopify_id")
    )
