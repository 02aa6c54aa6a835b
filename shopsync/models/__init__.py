from shopsync.models.catalogue import Collection, CollectionProduct, ProductMedia
from shopsync.models.customers import CustomerAddress
from shopsync.models.dead_letters import FailedSyncItem
from shopsync.models.inventory import InventoryLevel, Location
from shopsync.models.metafields import CustomerMetafield, OrderMetafield, ProductMetafield
from shopsync.models.order_children import (
    Fulfillment,
    FulfillmentLineItem,
    OrderAdjustment,
    Refund,
    RefundLineItem,
    RefundShippingLine,
    RefundTransaction,
)
from shopsync.models.records import (
    Customer,
    LineItem,
    Order,
    OrderTransaction,
    Product,
    ProductOption,
    ProductVariant,
)
from shopsync.models.shop import Shop
from shopsync.models.sync import SyncAttempt, SyncCursor, SyncEvent, SyncJob, SyncSeenRecord, SyncSession

__all__ = [
    "Collection",
    "CollectionProduct",
    "Customer",
    "CustomerAddress",
    "CustomerMetafield",
    "FailedSyncItem",
    "Fulfillment",
    "FulfillmentLineItem",
    "InventoryLevel",
    "LineItem",
    "Location",
    "Order",
    "OrderAdjustment",
    "OrderMetafield",
    "OrderTransaction",
    "Product",
    "ProductMedia",
    "ProductMetafield",
    "ProductOption",
    "ProductVariant",
    "Refund",
    "RefundLineItem",
    "RefundShippingLine",
    "RefundTransaction",
    "Shop",
    "SyncAttempt",
    "SyncCursor",
    "SyncEvent",
    "SyncJob",
    "SyncSeenRecord",
    "SyncSession",
]
