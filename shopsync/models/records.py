"""The store's records as Shopify owns them, plus the few fields that are ours (prefixed `local_`).

Every row enters through `shopsync.services.upsert` (one statement per batch, last write wins by
`shopify_updated_at`); nothing else writes Shopify-owned columns.
"""

from __future__ import annotations

from django.db import models

MONEY = {"max_digits": 20, "decimal_places": 4, "null": True, "blank": True}


class SyncedRecord(models.Model):
    # No index of its own: the unique (shop, shopify_id) constraint's index leads with shop and serves
    # every lookup by shop, and one index less is one less to update for each row a sync writes.
    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    shopify_id = models.BigIntegerField()
    shopify_created_at = models.DateTimeField(null=True, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    # Soft delete: set when Shopify deleted the record (webhook or full sync); the row stays as a
    # tombstone so a late, older payload cannot bring it back.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # When our write path last changed this row.
    synced_at = models.DateTimeField()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def _record_meta(name: str) -> dict:
    return {
        "constraints": [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name=f"{name}_unique_shop_shopify_id")
        ],
        "indexes": [
            models.Index(fields=["shop", "shopify_updated_at", "shopify_id"], name=f"{name}_watermark")
        ],
    }


class Customer(SyncedRecord):
    email = models.CharField(max_length=320, null=True, blank=True)
    phone = models.CharField(max_length=64, null=True, blank=True)
    first_name = models.CharField(max_length=255, null=True, blank=True)
    last_name = models.CharField(max_length=255, null=True, blank=True)
    state = models.CharField(max_length=32, null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    note = models.TextField(null=True, blank=True)
    verified_email = models.BooleanField(null=True, blank=True)
    tax_exempt = models.BooleanField(null=True, blank=True)
    orders_count = models.IntegerField(null=True, blank=True)
    amount_spent = models.DecimalField(**MONEY)
    amount_spent_currency = models.CharField(max_length=3, null=True, blank=True)
    default_address = models.JSONField(null=True, blank=True)
    # Which of its addresses (CustomerAddress) is the default, as Shopify says it.
    default_address_shopify_id = models.BigIntegerField(null=True, blank=True)
    locale = models.CharField(max_length=255, null=True, blank=True)
    # Marketing consent (contract §8.6), per channel: state (subscribed, not_subscribed,
    # unsubscribed, pending, invalid, redacted), opt-in level and when it last changed.
    email_marketing_state = models.CharField(max_length=32, null=True, blank=True)
    email_marketing_opt_in_level = models.CharField(max_length=32, null=True, blank=True)
    email_marketing_updated_at = models.DateTimeField(null=True, blank=True)
    sms_marketing_state = models.CharField(max_length=32, null=True, blank=True)
    sms_marketing_opt_in_level = models.CharField(max_length=32, null=True, blank=True)
    sms_marketing_updated_at = models.DateTimeField(null=True, blank=True)
    sms_marketing_collected_from = models.CharField(max_length=32, null=True, blank=True)
    # Ours (CRM): never written by sync or webhooks.
    local_notes = models.TextField(blank=True, default="")
    local_tags = models.JSONField(default=list, blank=True)
    local_attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = _record_meta("customer")["constraints"]
        indexes = _record_meta("customer")["indexes"]

    def __str__(self) -> str:
        return f"Customer {self.shopify_id}"


class Order(SyncedRecord):
    name = models.CharField(max_length=64, null=True, blank=True)
    order_number = models.IntegerField(null=True, blank=True)
    email = models.CharField(max_length=320, null=True, blank=True)
    phone = models.CharField(max_length=64, null=True, blank=True)
    customer_shopify_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    currency = models.CharField(max_length=3, null=True, blank=True)
    presentment_currency = models.CharField(max_length=3, null=True, blank=True)
    financial_status = models.CharField(max_length=32, null=True, blank=True)
    fulfillment_status = models.CharField(max_length=32, null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=32, null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    total_price = models.DecimalField(**MONEY)
    subtotal_price = models.DecimalField(**MONEY)
    total_tax = models.DecimalField(**MONEY)
    total_discounts = models.DecimalField(**MONEY)
    tags = models.JSONField(default=list, blank=True)
    note = models.TextField(null=True, blank=True)
    test = models.BooleanField(null=True, blank=True)
    shipping_address = models.JSONField(null=True, blank=True)
    # The extras (contract §8.5; their JSON forms are in shopsync/payloads/order_extras.py, which
    # says why they are columns and not child tables).
    billing_address = models.JSONField(null=True, blank=True)
    note_attributes = models.JSONField(default=list, blank=True)  # [{name, value}]
    source_name = models.CharField(max_length=255, null=True, blank=True)
    discount_codes = models.JSONField(default=list, blank=True)  # ["SAVE10"]
    shipping_lines = models.JSONField(default=list, blank=True)
    tax_lines = models.JSONField(default=list, blank=True)  # [{title, rate, price}]
    # The current totals as Shopify reports them (after refunds and edits). Received, net and refunded
    # come only from GraphQL: a REST body leaves them as they are.
    current_total_price = models.DecimalField(**MONEY)
    total_refunded = models.DecimalField(**MONEY)
    net_payment = models.DecimalField(**MONEY)
    total_received = models.DecimalField(**MONEY)
    total_outstanding = models.DecimalField(**MONEY)
    # Created before the shop's cutover (its first initial sync's start): automations skip these.
    is_historical = models.BooleanField(default=False)

    class Meta:
        constraints = _record_meta("order")["constraints"]
        indexes = _record_meta("order")["indexes"]

    def __str__(self) -> str:
        return self.name or f"Order {self.shopify_id}"


class LineItem(models.Model):
    """Belongs to its order: replaced wholesale whenever a newer version of the order is written."""

    # No index of its own: the unique (shop, shopify_id) constraint's index leads with shop and serves
    # every lookup by shop, and one index less is one less to update for each row a sync writes.
    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="line_items")
    shopify_id = models.BigIntegerField()
    product_shopify_id = models.BigIntegerField(null=True, blank=True)
    variant_shopify_id = models.BigIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=255, null=True, blank=True)
    title = models.CharField(max_length=512, null=True, blank=True)
    variant_title = models.CharField(max_length=512, null=True, blank=True)
    vendor = models.CharField(max_length=255, null=True, blank=True)
    quantity = models.IntegerField(default=0)
    price = models.DecimalField(**MONEY)
    total_discount = models.DecimalField(**MONEY)
    # [{title, rate, price}] and [{amount, application: {index, type, code, title, value, ...}}]
    # (shopsync/payloads/order_extras.py).
    tax_lines = models.JSONField(default=list, blank=True)
    discount_allocations = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="lineitem_unique_shop_shopify_id")
        ]

    def __str__(self) -> str:
        return f"LineItem {self.shopify_id}"


class OrderTransaction(models.Model):
    """A payment event of its order (authorization, capture, sale, refund, void; contract §8.2).

    Shopify gives a transaction no `updated_at`, yet its status may move from pending: it is carried
    under its order's version (replaced with the order's set whenever a newer order is written), and
    the `order_transactions/create` webhook only adds one not stored yet."""

    # No index of its own: the unique (shop, shopify_id) constraint's index leads with shop and serves
    # every lookup by shop, and one index less is one less to update for each row a sync writes.
    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="transactions")
    shopify_id = models.BigIntegerField()
    kind = models.CharField(max_length=32)
    status = models.CharField(max_length=32, null=True, blank=True)
    gateway = models.CharField(max_length=255, null=True, blank=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, null=True, blank=True)
    # A capture's authorization, a refund's capture or sale (not a foreign key: it may be in another
    # batch, or not visible to us at all).
    parent_transaction_shopify_id = models.BigIntegerField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    shopify_created_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, null=True, blank=True)
    test = models.BooleanField(null=True, blank=True)
    authorization_code = models.CharField(max_length=255, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "shopify_id"], name="ordertransaction_unique_shop_shopify_id"
            )
        ]

    def __str__(self) -> str:
        return f"Transaction {self.shopify_id}"


class Product(SyncedRecord):
    title = models.CharField(max_length=512, null=True, blank=True)
    handle = models.CharField(max_length=512, null=True, blank=True)
    vendor = models.CharField(max_length=255, null=True, blank=True)
    product_type = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=16, null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    body_html = models.TextField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = _record_meta("product")["constraints"]
        indexes = _record_meta("product")["indexes"]

    def __str__(self) -> str:
        return self.title or f"Product {self.shopify_id}"


class ProductVariant(models.Model):
    """Belongs to its product: replaced wholesale whenever a newer version of the product is written."""

    # No index of its own: the unique (shop, shopify_id) constraint's index leads with shop and serves
    # every lookup by shop, and one index less is one less to update for each row a sync writes.
    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    shopify_id = models.BigIntegerField()
    title = models.CharField(max_length=512, null=True, blank=True)
    sku = models.CharField(max_length=255, null=True, blank=True)
    barcode = models.CharField(max_length=255, null=True, blank=True)
    position = models.IntegerField(null=True, blank=True)
    price = models.DecimalField(**MONEY)
    compare_at_price = models.DecimalField(**MONEY)
    inventory_quantity = models.IntegerField(null=True, blank=True)
    shopify_created_at = models.DateTimeField(null=True, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    # The values of the product's options 1..3 (Size "M", Color "Red"); see ProductOption.
    option1 = models.CharField(max_length=255, null=True, blank=True)
    option2 = models.CharField(max_length=255, null=True, blank=True)
    option3 = models.CharField(max_length=255, null=True, blank=True)
    # The product image shown for this variant (a ProductMedia's shopify_id; not a key: the image
    # is a sibling child, replaced with the same product version).
    image_shopify_id = models.BigIntegerField(null=True, blank=True)
    # The variant's inventory item (its levels are keyed by this id), whether Shopify tracks its
    # stock, and its cost per unit (contract §8.7).
    inventory_item_shopify_id = models.BigIntegerField(null=True, blank=True)
    inventory_tracked = models.BooleanField(null=True, blank=True)
    unit_cost = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="variant_unique_shop_shopify_id")
        ]

    def __str__(self) -> str:
        return f"Variant {self.shopify_id}"


class ProductOption(models.Model):
    """One option of its product (name, position, values): replaced with the product's set whenever a
    newer version of the product is written."""

    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="options")
    shopify_id = models.BigIntegerField()
    name = models.CharField(max_length=255, null=True, blank=True)
    position = models.IntegerField(null=True, blank=True)
    # Not `values`: a reserved word in SQLite (the write path names columns as they are).
    option_values = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "shopify_id"], name="productoption_unique_shop_shopify_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name or 'Option'} ({self.shopify_id})"
