"""The catalogue around products: collections (custom and smart), which products are in each, and
product media (contract §8.7, §8.8). Rows enter only through the write path, like every record."""

from __future__ import annotations

from django.db import models

from shopsync.models.records import Product, SyncedRecord, _record_meta


class Collection(SyncedRecord):
    """A custom (manual) or smart (rule-based) collection. Shopify gives a collection no `createdAt`
    (contract §8.8): `shopify_created_at` stays empty."""

    class Kind(models.TextChoices):
        CUSTOM = "custom", "Custom"
        SMART = "smart", "Smart"

    title = models.CharField(max_length=512, null=True, blank=True)
    handle = models.CharField(max_length=512, null=True, blank=True)
    body_html = models.TextField(null=True, blank=True)
    # REST spelling ("best-selling", "alpha-asc"); GraphQL's CollectionSortOrder is mapped to it.
    sort_order = models.CharField(max_length=32, null=True, blank=True)
    template_suffix = models.CharField(max_length=255, null=True, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, null=True, blank=True)
    # Smart collections: [{"column": "tag", "relation": "equals", "condition": "sale"}, ...] in REST's
    # lower-case spelling, and whether any rule (rather than all) admits a product.
    rules = models.JSONField(default=list, blank=True)
    disjunctive = models.BooleanField(null=True, blank=True)
    # {"url", "alt", "width", "height"} or null.
    image = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = _record_meta("collection")["constraints"]
        indexes = _record_meta("collection")["indexes"]

    def __str__(self) -> str:
        return self.title or f"Collection {self.shopify_id}"


class CollectionProduct(models.Model):
    """One product in one collection (`Collection.products`, both kinds; contract §8.8). `shopify_id`
    is the product's id, unique per collection (a product is in many collections): the write path
    keys this child by (shop, collection, product), see ChildDeclaration.unique_per_parent.

    Not a foreign key to Product: membership may name a product this mirror has not stored yet."""

    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="members")
    shopify_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "collection", "shopify_id"], name="collectionproduct_unique_member"
            )
        ]
        # "Which collections is this product in" (the product page).
        indexes = [models.Index(fields=["shop", "shopify_id"], name="collectionproduct_product")]

    def __str__(self) -> str:
        return f"Product {self.shopify_id} in collection {self.collection_id}"


class ProductMedia(models.Model):
    """One image of its product (`Product.media`, a MediaImage; REST `images[]`), replaced with the
    product's set whenever a newer product version is written. Which variant shows it is the
    variant's `image_shopify_id`."""

    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="media")
    shopify_id = models.BigIntegerField()
    position = models.IntegerField(null=True, blank=True)
    url = models.TextField(null=True, blank=True)
    alt = models.TextField(null=True, blank=True)
    width = models.IntegerField(null=True, blank=True)
    height = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="productmedia_unique_shop_shopify_id")
        ]

    def __str__(self) -> str:
        return f"Image {self.shopify_id}"
