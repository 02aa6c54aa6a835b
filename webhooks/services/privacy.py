"""The mandatory privacy-compliance topics: export a customer's data, erase a customer, erase a shop.

Each one leaves a `PrivacyRequest` row as the record that we complied. All are idempotent: a
delivery processed twice (duplicate, retry) updates the same row and erases nothing new.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from shopsync.models import Customer, FailedSyncItem, Order, Shop
from shopsync.resources import DECLARATIONS, declaration_for_model
from webhooks.models import PrivacyRequest, WebhookLog
from webhooks.selectors import customer_privacy_export

logger = logging.getLogger(__name__)

DELETE_BATCH_SIZE = 2000
# Shopify-owned personal fields, and every field that is ours (CRM notes may be personal too).
CUSTOMER_ERASED: dict[str, Any] = {
    "email": None,
    "phone": None,
    "first_name": None,
    "last_name": None,
    "note": None,
    "default_address": None,
    "local_notes": "",
    "local_tags": [],
    "local_attributes": {},
}
ORDER_ERASED: dict[str, Any] = {"email": None, "phone": None, "note": None, "shipping_address": None}
_FINISHED = [WebhookLog.Status.PROCESSED, WebhookLog.Status.IGNORED, WebhookLog.Status.DEAD]


class PrivacyPayloadError(ValueError):
    """A privacy payload without the ids it must carry."""


def privacy_data_request_fulfil(*, shop: Shop, webhook_log: WebhookLog, payload: dict) -> PrivacyRequest:
    """customers/data_request: assemble what we store about the customer into a PrivacyRequest."""
    customer_id = _customer_id(payload)
    export = customer_privacy_export(
        shop=shop, customer_shopify_id=customer_id, order_ids=_ids(payload.get("orders_requested"))
    )
    data_request = payload.get("data_request")
    export["data_request_id"] = data_request.get("id") if isinstance(data_request, dict) else None
    return _privacy_request_save(
        shop=shop,
        webhook_log=webhook_log,
        topic=PrivacyRequest.Topic.CUSTOMERS_DATA_REQUEST,
        customer_shopify_id=customer_id,
        payload=payload,
        result=export,
    )


def privacy_data_request_email(*, privacy_request: PrivacyRequest) -> bool:
    """Mail the export to the admins and the shop's members, once. Returns whether it was sent."""
    if privacy_request.emailed_at is not None:
        return False
    shop = privacy_request.shop
    recipients = _owner_recipients(shop)
    if not recipients:
        logger.warning("customer data request has nobody to mail to shop_id=%s", shop.pk)
        return False
    customer_id = privacy_request.customer_shopify_id
    message = EmailMessage(
        subject=f"Customer data request for {shop.domain} (customer {customer_id})",
        body=(
            f"Shopify forwarded a customer data request for customer {customer_id} of {shop.domain}.\n"
            "Everything shopsync stores about them is attached; send it to the customer.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach(
        f"customer-{customer_id}-data.json", json.dumps(privacy_request.result, indent=2), "application/json"
    )
    message.send()
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(emailed_at=timezone.now())
    return True


def privacy_customer_redact(*, shop: Shop, webhook_log: WebhookLog, payload: dict) -> PrivacyRequest:
    """customers/redact: erase the customer's personal data on their row and on their orders (by
    customer id and those Shopify listed). Rows stay, anonymised, so counts and totals reconcile.
    Copies of the data go too: finished deliveries' bodies, dead-letter payloads, earlier exports."""
    customer_id = _customer_id(payload)
    listed_order_ids = _ids(payload.get("orders_to_redact"))
    now = timezone.now()
    with transaction.atomic():
        orders = Order.objects.filter(shop=shop).filter(
            Q(customer_shopify_id=customer_id) | Q(shopify_id__in=listed_order_ids)
        )
        order_ids = sorted(set(orders.values_list("shopify_id", flat=True)) | set(listed_order_ids))
        result = {
            "customers": Customer.objects.filter(shop=shop, shopify_id=customer_id).update(
                **CUSTOMER_ERASED, synced_at=now
            ),
            "orders": orders.update(**ORDER_ERASED, synced_at=now),
            # Their address book is personal data through and through: gone (a later customer
            # version from Shopify, if any, brings what Shopify still has).
            **_customer_children_delete(shop=shop, customer_id=customer_id),
            "webhook_logs": _webhook_bodies_redact(
                shop=shop, customer_id=customer_id, order_ids=order_ids, keep=webhook_log
            ),
            "dead_letters": FailedSyncItem.objects.filter(
                shop=shop, shopify_id__in=[customer_id, *order_ids]
            ).update(payload=None, updated_at=now),
            "exports": PrivacyRequest.objects.filter(
                shop=shop, topic=PrivacyRequest.Topic.CUSTOMERS_DATA_REQUEST, customer_shopify_id=customer_id
            ).update(payload={}, result={"redacted": True}, updated_at=now),
            "order_ids": order_ids,
        }
        stripped = _without_contact(payload)
        # The delivery itself names the customer (email, phone): keep only the ids.
        WebhookLog.objects.filter(pk=webhook_log.pk).update(body=json.dumps(stripped).encode())
        return _privacy_request_save(
            shop=shop,
            webhook_log=webhook_log,
            topic=PrivacyRequest.Topic.CUSTOMERS_REDACT,
            customer_shopify_id=customer_id,
            payload=stripped,
            result=result,
        )


def _customer_children_delete(*, shop: Shop, customer_id: int) -> dict[str, int]:
    """Delete the customer's children (each one the customers' declaration lists, their own children
    with them by cascade): {name: count}."""
    deleted = {}
    for child in declaration_for_model(Customer).children:
        parent = child.parent_column.removesuffix("_id")
        rows = child.model.objects.filter(shop=shop, **{f"{parent}__shopify_id": customer_id})
        deleted[child.name] = rows.delete()[0]
    return deleted


def privacy_shop_redact(*, shop: Shop, webhook_log: WebhookLog, payload: dict) -> PrivacyRequest:
    """shop/redact (48 h after uninstall): delete all the shop's records, deliveries and dead
    letters, erase earlier privacy exports and the shop's secrets. The Shop row and the
    PrivacyRequest rows stay as the record of what happened. Deletes run in batches (R11)."""
    result: dict[str, int] = {}
    for declaration in DECLARATIONS.values():
        # Children first (the deepest first), so no delete cascades row by row.
        for child in reversed(list(declaration.all_children())):
            result[child.name] = _delete_in_batches(child.model.objects.filter(shop=shop))
        result[declaration.name] = _delete_in_batches(declaration.model.objects.filter(shop=shop))
    result |= {
        "dead_letters": _delete_in_batches(FailedSyncItem.objects.filter(shop=shop)),
        "webhook_logs": _delete_in_batches(WebhookLog.objects.filter(shop=shop).exclude(pk=webhook_log.pk)),
    }
    now = timezone.now()
    with transaction.atomic():
        result["privacy_requests"] = (
            PrivacyRequest.objects.filter(shop=shop)
            .exclude(topic=PrivacyRequest.Topic.SHOP_REDACT)
            .update(payload={}, result={"redacted": True}, updated_at=now)
        )
        Shop.objects.filter(pk=shop.pk).update(
            access_token="",
            refresh_token="",
            access_token_expires_at=None,
            status=Shop.Status.UNINSTALLED,
            uninstalled_at=shop.uninstalled_at or now,
            updated_at=now,
        )
        return _privacy_request_save(
            shop=shop,
            webhook_log=webhook_log,
            topic=PrivacyRequest.Topic.SHOP_REDACT,
            customer_shopify_id=None,
            payload=payload,
            result=result,
        )


def _privacy_request_save(
    *,
    shop: Shop,
    webhook_log: WebhookLog,
    topic: str,
    customer_shopify_id: int | None,
    payload: dict,
    result: dict,
) -> PrivacyRequest:
    # One row per delivery: keyed by the log, so a re-run updates instead of adding a second.
    request, _ = PrivacyRequest.objects.update_or_create(
        webhook_log=webhook_log,
        defaults={
            "shop": shop,
            "topic": topic,
            "customer_shopify_id": customer_shopify_id,
            "payload": payload,
            "result": result,
            "completed_at": timezone.now(),
        },
    )
    return request


def _webhook_bodies_redact(*, shop: Shop, customer_id: int, order_ids: list[int], keep: WebhookLog) -> int:
    """Replace the stored bodies of finished deliveries about this customer or their orders.
    Unfinished ones are left alone: they still have to be applied."""
    about_customer = Q(topic__startswith="customers/", shopify_id=customer_id)
    about_orders = Q(topic__startswith="orders/", shopify_id__in=order_ids)
    logs = WebhookLog.objects.filter(shop=shop, status__in=_FINISHED).filter(about_customer | about_orders)
    return logs.exclude(pk=keep.pk).update(body=b'{"redacted": true}', updated_at=timezone.now())


def _delete_in_batches(queryset: models.QuerySet, batch_size: int = DELETE_BATCH_SIZE) -> int:
    deleted = 0
    while True:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        with transaction.atomic():
            deleted += (
                queryset.model.objects.filter(pk__in=ids).delete()[1].get(queryset.model._meta.label, 0)
            )


def _owner_recipients(shop: Shop) -> list[str]:
    admins = [admin if isinstance(admin, str) else admin[1] for admin in settings.ADMINS]
    members = shop.members.exclude(email="").values_list("email", flat=True)
    return sorted({*admins, *members})


def _customer_id(payload: dict) -> int:
    customer = payload.get("customer")
    customer_id = customer.get("id") if isinstance(customer, dict) else None
    if not _is_id(customer_id):
        raise PrivacyPayloadError("privacy payload has no customer.id")
    return customer_id


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _ids(raw: Any) -> list[int]:
    if not isinstance(raw, list):
        return []
    return [value for value in raw if _is_id(value)]


def _without_contact(payload: dict) -> dict:
    customer = payload.get("customer")
    if not isinstance(customer, dict):
        return payload
    return {**payload, "customer": {"id": customer.get("id")}}
