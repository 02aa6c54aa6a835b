"""A customer's address book (contract §8.6): every address, not only the default one."""

# ruff: noqa: DJ001 - Shopify distinguishes null from "" and the mirror must too (as records.py).

from __future__ import annotations

from django.db import models

from shopsync.models.records import Customer


class CustomerAddress(models.Model):
    """One address of its customer: replaced with the customer's set whenever a newer version of
    the customer is written (an address has no clock of its own). Which one is the default is the
    customer's `default_address_shopify_id`."""

    # No index of its own: the unique (shop, shopify_id) constraint's index leads with shop.
    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    shopify_id = models.BigIntegerField()
    first_name = models.CharField(max_length=255, null=True, blank=True)
    last_name = models.CharField(max_length=255, null=True, blank=True)
    name = models.CharField(max_length=255, null=True, blank=True)
    company = models.CharField(max_length=255, null=True, blank=True)
    address1 = models.CharField(max_length=255, null=True, blank=True)
    address2 = models.CharField(max_length=255, null=True, blank=True)
    city = models.CharField(max_length=255, null=True, blank=True)
    province = models.CharField(max_length=255, null=True, blank=True)
    province_code = models.CharField(max_length=255, null=True, blank=True)
    country = models.CharField(max_length=255, null=True, blank=True)
    country_code = models.CharField(max_length=255, null=True, blank=True)
    zip = models.CharField(max_length=255, null=True, blank=True)
    phone = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "shopify_id"], name="customeraddress_unique_shop_shopify_id"
            )
        ]

    def __str__(self) -> str:
        return f"Address {self.shopify_id}"
