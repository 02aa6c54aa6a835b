"""Locations and the inventory levels at each (contract §8.9). Rows enter only through the write
path, like every record."""

# ruff: noqa: DJ001 - Shopify distinguishes null from "" and the mirror must too (as records.py).

from __future__ import annotations

from django.db import models

from shopsync.models.records import SyncedRecord, _record_meta


class Location(SyncedRecord):
    """A place stock is kept (a warehouse, a shop). Deactivated locations are mirrored too (the
    queries pass `includeInactive: true`: without it Shopify hides them, contract §8.9)."""

    name = models.CharField(max_length=512, null=True, blank=True)
    is_active = models.BooleanField(null=True, blank=True)
    address1 = models.CharField(max_length=255, null=True, blank=True)
    address2 = models.CharField(max_length=255, null=True, blank=True)
    city = models.CharField(max_length=255, null=True, blank=True)
    province = models.CharField(max_length=255, null=True, blank=True)
    province_code = models.CharField(max_length=16, null=True, blank=True)
    country_code = models.CharField(max_length=16, null=True, blank=True)
    zip = models.CharField(max_length=64, null=True, blank=True)
    phone = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        constraints = _record_meta("location")["constraints"]
        indexes = _record_meta("location")["indexes"]

    def __str__(self) -> str:
        return self.name or f"Location {self.shopify_id}"


class InventoryLevel(models.Model):
    """One inventory item's quantities at one location. Keyed by (shop, location, item): `shopify_id`
    is the inventory item's id (contract §8.1: the level's own GID is composite and never a key),
    unique per location (see ChildDeclaration.unique_per_parent).

    The item is not a foreign key: a level may name an item this mirror has not stored (yet). Last
    write wins on the level's own `shopify_updated_at` (Ordering.UPDATED_AT on the child)."""

    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="levels")
    shopify_id = models.BigIntegerField()
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    available = models.IntegerField(null=True, blank=True)
    on_hand = models.IntegerField(null=True, blank=True)
    committed = models.IntegerField(null=True, blank=True)
    incoming = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "location", "shopify_id"], name="inventorylevel_unique_item_location"
            )
        ]
        # "Where is this item stocked" (the product page).
        indexes = [models.Index(fields=["shop", "shopify_id"], name="inventorylevel_item")]

    def __str__(self) -> str:
        return f"Item {self.shopify_id} at location {self.location_id}"
