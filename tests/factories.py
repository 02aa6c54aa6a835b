"""factory_boy factories for every model (apps add theirs here as they grow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from shopsync.models import (
    Collection,
    CollectionProduct,
    Customer,
    FailedSyncItem,
    InventoryLevel,
    LineItem,
    Location,
    Order,
    Product,
    ProductMedia,
    ProductVariant,
    Shop,
    SyncJob,
    SyncSession,
)
from shopsync.models.sync import SyncKind

BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("password")


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    domain = factory.Sequence(lambda n: f"shop-{n}.myshopify.com")
    name = factory.Sequence(lambda n: f"Shop {n}")
    access_token = "shpat_test_token"
    scopes = "read_orders,read_all_orders,read_customers,read_products,read_inventory,read_locations"
    currency = "USD"
    installed_at = factory.LazyFunction(timezone.now)


class _SyncedRecordFactory(factory.django.DjangoModelFactory):
    shop = factory.SubFactory(ShopFactory)
    shopify_id = factory.Sequence(lambda n: 7_000_000_000 + n)
    shopify_created_at = BASE_TIME
    shopify_updated_at = factory.Sequence(lambda n: BASE_TIME + timedelta(minutes=n))
    synced_at = factory.LazyFunction(timezone.now)


class CustomerFactory(_SyncedRecordFactory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = "Ada"
    last_name = "Lovelace"
    state = "enabled"
    amount_spent = Decimal("10.00")
    amount_spent_currency = "USD"


class OrderFactory(_SyncedRecordFactory):
    class Meta:
        model = Order

    name = factory.Sequence(lambda n: f"#{1000 + n}")
    currency = "USD"
    financial_status = "paid"
    fulfillment_status = "unfulfilled"
    total_price = Decimal("42.00")


class LineItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LineItem

    order = factory.SubFactory(OrderFactory)
    shop = factory.SelfAttribute("order.shop")
    shopify_id = factory.Sequence(lambda n: 8_000_000_000 + n)
    title = "Widget"
    quantity = 1
    price = Decimal("14.00")


class ProductFactory(_SyncedRecordFactory):
    class Meta:
        model = Product

    title = factory.Sequence(lambda n: f"Product {n}")
    handle = factory.Sequence(lambda n: f"product-{n}")
    status = "active"


class ProductVariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductVariant

    product = factory.SubFactory(ProductFactory)
    shop = factory.SelfAttribute("product.shop")
    shopify_id = factory.Sequence(lambda n: 9_000_000_000 + n)
    title = "Default Title"
    price = Decimal("14.00")


class FailedSyncItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FailedSyncItem

    shop = factory.SubFactory(ShopFactory)
    entity_type = FailedSyncItem.EntityType.ORDER
    shopify_id = factory.Sequence(lambda n: 5_000_000_000 + n)
    payload = factory.LazyAttribute(lambda item: {"id": item.shopify_id})
    error_message = "boom"
    next_retry_at = factory.LazyFunction(timezone.now)


class SyncSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncSession

    shop = factory.SubFactory(ShopFactory)
    kind = SyncKind.INITIAL
    status = SyncSession.Status.QUEUED
    triggered_by = SyncSession.Trigger.INSTALL
    resources = factory.LazyFunction(lambda: ["orders", "customers", "products"])
    queued_at = factory.LazyFunction(timezone.now)
    enqueued_at = factory.LazyFunction(timezone.now)


class SyncJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncJob

    session = factory.SubFactory(SyncSessionFactory)
    shop = factory.SelfAttribute("session.shop")
    resource = "orders"
    mode = factory.SelfAttribute("session.kind")


class CollectionFactory(_SyncedRecordFactory):
    class Meta:
        model = Collection

    title = factory.Sequence(lambda n: f"Collection {n}")
    handle = factory.Sequence(lambda n: f"collection-{n}")
    kind = Collection.Kind.CUSTOM


class CollectionProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollectionProduct

    collection = factory.SubFactory(CollectionFactory)
    shop = factory.SelfAttribute("collection.shop")
    shopify_id = factory.Sequence(lambda n: 7_100_000_000 + n)


class ProductMediaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductMedia

    product = factory.SubFactory(ProductFactory)
    shop = factory.SelfAttribute("product.shop")
    shopify_id = factory.Sequence(lambda n: 3_000_000_000 + n)
    position = 1
    url = factory.LazyAttribute(lambda image: f"https://cdn.example.com/{image.shopify_id}.jpg")
    alt = "Front"
    width = 800
    height = 600


class LocationFactory(_SyncedRecordFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Location {n}")
    is_active = True


class InventoryLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InventoryLevel

    location = factory.SubFactory(LocationFactory)
    shop = factory.SelfAttribute("location.shop")
    shopify_id = factory.Sequence(lambda n: 1_000_000_000_000 + n)
