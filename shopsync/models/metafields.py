"""Metafields (contract §8.10) of orders, customers and products, in the namespaces the shop chose
(`Shop.metafield_namespaces`).

A table per owner type, not one table keyed by (owner type, owner id): each is a child of its
owner's declaration like addresses or images, so the write path replaces an owner's set through a
real foreign key (one statement per table, cascade on the owner's delete), and the admin inline,
the privacy erase and the pages follow the foreign key with nothing polymorphic to resolve. The
three share their columns (`MetafieldBase`); a metafield id is unique per shop across them.

Rows of a namespace the shop stops mirroring are deleted when the setting changes
(`shopsync.services.metafields.shop_metafield_namespaces_set`): kept, they would go stale silently,
since nothing reads that namespace any more.
"""

# ruff: noqa: DJ001 - Shopify distinguishes null from "" and the mirror must too (as records.py).

from __future__ import annotations

from django.db import models

from shopsync.models.records import Customer, Order, Product


class MetafieldBase(models.Model):
    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    shopify_id = models.BigIntegerField()
    namespace = models.CharField(max_length=255)
    key = models.CharField(max_length=255)
    type = models.CharField(max_length=255, null=True, blank=True)
    value = models.TextField(null=True, blank=True)
    shopify_created_at = models.DateTimeField(null=True, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.namespace}.{self.key}"


class OrderMetafield(MetafieldBase):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="metafields")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "shopify_id"], name="ordermetafield_unique_shop_shopify_id"
            )
        ]


class CustomerMetafield(MetafieldBase):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="metafields")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "shopify_id"], name="customermetafield_unique_shop_shopify_id"
            )
        ]


class ProductMetafield(MetafieldBase):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="metafields")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "shopify_id"], name="productmetafield_unique_shop_shopify_id"
            )
        ]
