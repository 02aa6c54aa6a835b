from shopsync.models.dead_letters import FailedSyncItem
from shopsync.models.records import Customer, LineItem, Order, Product, ProductVariant
from shopsync.models.shop import Shop

__all__ = ["Customer", "FailedSyncItem", "LineItem", "Order", "Product", "ProductVariant", "Shop"]
