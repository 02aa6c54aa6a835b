"""An order's refunds and fulfillments and their parts (contract §8.3, §8.4): child tables of the
order, replaced with its set whenever a newer order version is written (`Ordering.PARENT`), their
parts with their refund's or fulfillment's (a part list not carried, as in a bulk line, is left)."""

# ruff: noqa: DJ001 - Shopify distinguishes null from "" and the mirror must too (as records.py).

from __future__ import annotations

from django.db import models

from shopsync.models.records import MONEY, Order


def _unique(name: str) -> list[models.UniqueConstraint]:
    return [models.UniqueConstraint(fields=["shop", "shopify_id"], name=f"{name}_unique_shop_shopify_id")]


class Refund(models.Model):
    """Money given back on an order: never changed once made, never deleted (no `updated_at` in
    REST, no update or delete topic)."""

    # No index of its own: the unique (shop, shopify_id) constraint's index leads with shop.
    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    shopify_id = models.BigIntegerField()
    shopify_created_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(null=True, blank=True)
    # In the presentment currency (what the customer got back), as its transactions' amounts.
    total_refunded = models.DecimalField(**MONEY)

    class Meta:
        constraints = _unique("refund")

    def __str__(self) -> str:
        return f"Refund {self.shopify_id}"


class RefundLineItem(models.Model):
    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="refund_line_items")
    shopify_id = models.BigIntegerField()
    # The order's line item (not a foreign key: a line item removed by an edit keeps its refunds).
    line_item_shopify_id = models.BigIntegerField(null=True, blank=True)
    quantity = models.IntegerField(null=True, blank=True)
    restock_type = models.CharField(max_length=32, null=True, blank=True)
    location_shopify_id = models.BigIntegerField(null=True, blank=True)
    subtotal = models.DecimalField(**MONEY)
    total_tax = models.DecimalField(**MONEY)

    class Meta:
        constraints = _unique("refundlineitem")

    def __str__(self) -> str:
        return f"Refund line item {self.shopify_id}"


class RefundShippingLine(models.Model):
    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="refund_shipping_lines")
    shopify_id = models.BigIntegerField()
    shipping_line_shopify_id = models.BigIntegerField(null=True, blank=True)
    subtotal_amount = models.DecimalField(**MONEY)

    class Meta:
        constraints = _unique("refundshippingline")

    def __str__(self) -> str:
        return f"Refunded shipping {self.shopify_id}"


class OrderAdjustment(models.Model):
    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="order_adjustments")
    shopify_id = models.BigIntegerField()
    kind = models.CharField(max_length=32, null=True, blank=True)
    amount = models.DecimalField(**MONEY)
    tax_amount = models.DecimalField(**MONEY)

    class Meta:
        constraints = _unique("orderadjustment")

    def __str__(self) -> str:
        return f"Order adjustment {self.shopify_id}"


class RefundTransaction(models.Model):
    """Which of the order's transactions paid a refund back (GraphQL `Refund.transactions`, REST
    `refunds[].transactions`): a link by Shopify ids, not a foreign key, so a refund stored before
    its transaction (or the transaction before its refund: they come by different paths, the
    refund with its order, the transaction with its order or its own webhook) keeps its link, and
    the pair joins on (shop, shopify_id) once both are here. `shopify_id` is the transaction's id;
    a transaction belongs to one refund at most, so it is unique per shop like any child's id."""

    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="refund_transactions")
    shopify_id = models.BigIntegerField()

    class Meta:
        constraints = _unique("refundtransaction")

    def __str__(self) -> str:
        return f"Refund transaction {self.shopify_id}"


class Fulfillment(models.Model):
    """A shipment of some of an order's units: cancelled, never deleted."""

    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfillments")
    shopify_id = models.BigIntegerField()
    shopify_created_at = models.DateTimeField(null=True, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    name = models.CharField(max_length=64, null=True, blank=True)
    status = models.CharField(max_length=32, null=True, blank=True)
    shipment_status = models.CharField(max_length=32, null=True, blank=True)
    display_status = models.CharField(max_length=32, null=True, blank=True)
    tracking_company = models.CharField(max_length=255, null=True, blank=True)
    tracking_number = models.CharField(max_length=255, null=True, blank=True)
    tracking_url = models.TextField(null=True, blank=True)
    location_shopify_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = _unique("fulfillment")

    def __str__(self) -> str:
        return f"Fulfillment {self.name or self.shopify_id}"


class FulfillmentLineItem(models.Model):
    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    fulfillment = models.ForeignKey(
        Fulfillment, on_delete=models.CASCADE, related_name="fulfillment_line_items"
    )
    shopify_id = models.BigIntegerField()
    line_item_shopify_id = models.BigIntegerField(null=True, blank=True)
    quantity = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = _unique("fulfillmentlineitem")

    def __str__(self) -> str:
        return f"Fulfillment line item {self.shopify_id}"
