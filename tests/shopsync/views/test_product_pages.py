"""The product list and one product's page: variants with their options and image, the collections it
is in, its images; only for members of its shop."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from shopsync.models import ProductOption
from tests.factories import (
    CollectionFactory,
    CollectionProductFactory,
    InventoryLevelFactory,
    LocationFactory,
    ProductFactory,
    ProductMediaFactory,
    ProductVariantFactory,
    ShopFactory,
)


def test_product_page_shows_variants_with_options_and_image_collections_and_images(client_for, staff, shop):
    # given
    product = ProductFactory(shop=shop, title="Linen shirt", shopify_id=700)
    ProductOption.objects.create(shop=shop, product=product, shopify_id=1, name="Size", position=1,
                                 option_values=["M", "L"])  # fmt: skip
    ProductOption.objects.create(shop=shop, product=product, shopify_id=2, name="Color", position=2,
                                 option_values=["Sand"])  # fmt: skip
    back = ProductMediaFactory(product=product, shopify_id=32, position=2, alt="Back")
    ProductMediaFactory(product=product, shopify_id=31, position=1, alt="Front")
    ProductVariantFactory(product=product, title="L / Sand", option1="L", option2="Sand", position=2,
                          sku="SH-L", price=Decimal("40.00"), image_shopify_id=back.shopify_id)  # fmt: skip
    ProductVariantFactory(product=product, title="M / Sand", option1="M", option2="Sand", position=1)
    CollectionProductFactory(collection__shop=shop, collection__title="Summer", shopify_id=700)
    CollectionProductFactory(collection__shop=shop, collection__title="Gone", collection__deleted_at=product.synced_at,
                             shopify_id=700)  # fmt: skip
    CollectionFactory(shop=shop, title="Winter")
    # when
    response = client_for(staff).get(reverse("product-detail", args=[product.pk]))
    # then
    assert response.status_code == 200
    rows = response.context["variants"]
    assert [row.variant.title for row in rows] == ["M / Sand", "L / Sand"]
    assert [row.options for row in rows] == [
        [("Size", "M"), ("Color", "Sand")],
        [("Size", "L"), ("Color", "Sand")],
    ]
    assert [row.image.alt if row.image else None for row in rows] == [None, "Back"]
    assert [c.title for c in response.context["collections"]] == ["Summer"]
    assert [image.alt for image in response.context["media"]] == ["Front", "Back"]
    assert '<span class="tag">Size: L</span>' in response.text
    assert 'Image 2 <span class="muted">· Back</span>' in response.text


def test_product_list_searches_titles_and_skus_and_hides_deleted_products(client_for, staff, shop):
    # given
    ProductVariantFactory(product__shop=shop, product__title="Blue mug", sku="MUG-B")
    ProductFactory(shop=shop, title="Teapot")
    ProductFactory(shop=shop, title="Old mug", deleted_at=timezone.now())
    # when
    by_sku = client_for(staff).get(reverse("product-list"), {"q": "mug-b"})
    everything = client_for(staff).get(reverse("product-list"))
    # then
    assert [p.title for p in by_sku.context["page"].object_list] == ["Blue mug"]
    assert by_sku.context["page"].object_list[0].variant_total == 1
    assert {p.title for p in everything.context["page"].object_list} == {"Blue mug", "Teapot"}


def test_a_product_of_another_shop_is_not_found(client_for, staff):
    # given
    other = ProductFactory(shop=ShopFactory())
    # when
    response = client_for(staff).get(reverse("product-detail", args=[other.pk]))
    # then
    assert response.status_code == 404


def test_product_page_shows_each_variants_stock_per_location(client_for, staff, shop):
    # given: two variants stocked at two live locations (one not at the second); a deleted location
    product = ProductFactory(shop=shop, title="Mug")
    small = ProductVariantFactory(product=product, title="Small", position=1, inventory_item_shopify_id=501)
    large = ProductVariantFactory(product=product, title="Large", position=2, inventory_item_shopify_id=502,
                          inventory_tracked=False)  # fmt: skip
    main, annex = LocationFactory(shop=shop, name="Main"), LocationFactory(shop=shop, name="Annex")
    InventoryLevelFactory(location=main, shopify_id=501, available=4, on_hand=6)
    InventoryLevelFactory(location=main, shopify_id=502, available=0)
    InventoryLevelFactory(location=annex, shopify_id=501, available=2, incoming=10)
    InventoryLevelFactory(location=LocationFactory(shop=shop, name="Closed", deleted_at=timezone.now()),
                          shopify_id=501, available=9137)  # fmt: skip
    InventoryLevelFactory(location=LocationFactory(shop=ShopFactory(), name="Elsewhere"), shopify_id=501)
    # when
    response = client_for(staff).get(reverse("product-detail", args=[product.pk]))
    # then
    stock = response.context["stock"]
    assert [location.name for location in stock.locations] == ["Annex", "Main"]
    assert [(row.variant.pk, [level.available if level else None for level in row.levels]) for row in
            stock.rows] == [(small.pk, [2, 4]), (large.pk, [None, 0])]  # fmt: skip
    assert '4 <span class="muted">of 6 on hand</span>' in response.text
    assert "· 10 incoming" in response.text
    assert "not stocked" in response.text and "· not tracked" in response.text
    assert "Closed" not in response.text and "9137" not in response.text
