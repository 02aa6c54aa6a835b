"""Reads over webhook deliveries (the receiver's shop lookup, the sweeper's backlog, UI counts)."""

from __future__ import annotations

import json
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q, QuerySet

from shopsync.models import Customer, Order, Shop
from shopsync.resources import declaration_for_model
from webhooks.models import WebhookLog


def webhook_logs_waiting(*, waiting_since: datetime, limit: int) -> list[int]:
    """Ids of deliveries stored before `waiting_since` and still unprocessed: never published
    (no relay ran) or published before `waiting_since` (the message was lost, or the relay died
    between its claim and its publish)."""
    return list(
        WebhookLog.objects.filter(status=WebhookLog.Status.RECEIVED, received_at__lt=waiting_since)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=waiting_since))
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )


def webhook_logs_failed_stalled(*, failed_before: datetime, limit: int) -> list[int]:
    """Ids of failed deliveries whose Celery retry never came (lost with the broker, say)."""
    return list(
        WebhookLog.objects.filter(status=WebhookLog.Status.FAILED, updated_at__lt=failed_before)
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )


def webhook_log_dead_count(*, shop: Shop) -> int:
    """Permanently failed deliveries, shown as a count on the shop's sync page."""
    return WebhookLog.objects.filter(shop=shop, status=WebhookLog.Status.DEAD).count()


def webhook_log_list(*, shop: Shop, status: str | None = None) -> QuerySet[WebhookLog]:
    logs = WebhookLog.objects.filter(shop=shop).defer("body")
    return logs.filter(status=status) if status else logs


def customer_privacy_export(*, shop: Shop, customer_shopify_id: int | None, order_ids: list[int]) -> dict:
    """Everything we store about one customer (customers/data_request): the customer row with our
    local fields, and their orders (by customer id, plus those Shopify listed) with their children.
    JSON-ready: datetimes and decimals become strings."""
    customer = Customer.objects.filter(shop=shop, shopify_id=customer_shopify_id).first()
    # Every child the orders' declaration lists (line items, transactions: what they paid, and how).
    children = [child.name for child in declaration_for_model(Order).children]
    orders = (
        Order.objects.filter(shop=shop)
        .filter(Q(customer_shopify_id=customer_shopify_id) | Q(shopify_id__in=order_ids))
        .prefetch_related(*children)
        .order_by("shopify_id")
    )
    customer_children = [child.name for child in declaration_for_model(Customer).children]
    export = {
        "customer": {
            **_row(customer),
            # Their address book (every child the customers' declaration lists).
            **{name: [_row(item) for item in getattr(customer, name).all()] for name in customer_children},
        }
        if customer
        else None,
        "orders": [
            {
                **_row(order),
                **{name: [_row(item) for item in getattr(order, name).all()] for name in children},
            }
            for order in orders
        ],
    }
    return json.loads(json.dumps(export, cls=DjangoJSONEncoder))


def _row(instance: models.Model) -> dict:
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.attname not in ("shop_id", "order_id", "customer_id")
    }
