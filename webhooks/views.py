from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from webhooks.services.receiving import (
    RecordOutcome,
    WebhookDelivery,
    WebhookHeaderError,
    webhook_event_record,
    webhook_signature_is_valid,
)

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def shopify_receive(request: HttpRequest) -> HttpResponse:
    """Verify, record, enqueue, answer 200 (R9). 401 tells Shopify (and an attacker) nothing more
    than "not accepted"; the reason goes to the log only."""
    declared_length = request.META.get("CONTENT_LENGTH") or "0"
    if not (declared_length.isascii() and declared_length.isdigit()):
        return HttpResponse(status=400)
    body = _read_body_within_limit(request, declared_length=int(declared_length))
    if body is None:
        logger.warning("webhook rejected: body over %s bytes", settings.WEBHOOK_MAX_BODY_BYTES)
        return HttpResponse(status=413)
    headers = _EnvironHeaders(request.META)
    if not webhook_signature_is_valid(body=body, signature=headers.get("X-Shopify-Hmac-Sha256")):
        logger.warning("webhook rejected: bad or missing HMAC topic=%r", headers.get("X-Shopify-Topic"))
        return HttpResponse(status=401)
    try:
        delivery = WebhookDelivery.from_headers(headers=headers, body=body)
    except WebhookHeaderError as exc:
        logger.warning("webhook rejected: %s", exc)
        return HttpResponse(status=400)
    if webhook_event_record(delivery=delivery) == RecordOutcome.UNKNOWN_SHOP:
        logger.warning("webhook rejected: unknown shop %r topic=%r", delivery.shop_domain, delivery.topic)
        return HttpResponse(status=401)
    return HttpResponse(status=200)


def _read_body_within_limit(request: HttpRequest, *, declared_length: int) -> bytes | None:
    """The raw body, or None when it exceeds WEBHOOK_MAX_BODY_BYTES. The declared length is
    checked first; the read itself is bounded too (never more than the limit plus one byte), so a
    lying or absent Content-Length cannot make us buffer unbounded data."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    if declared_length > limit:
        return None
    # Not `request.body`: that would apply DATA_UPLOAD_MAX_MEMORY_SIZE (a 400) instead of our limit.
    body = request.read(limit + 1)
    return None if len(body) > limit else body


class _EnvironHeaders(Mapping[str, str]):
    """Case-insensitive read access to the request's headers straight from the WSGI environ.

    `request.headers` would first copy every header of the request into a new dict, which costs
    the receiver more than all the header lookups it makes."""

    def __init__(self, meta: Mapping[str, str]) -> None:
        self._meta = meta

    def __getitem__(self, name: str) -> str:
        return self._meta["HTTP_" + name.upper().replace("-", "_")]

    def __iter__(self) -> Iterator[str]:
        return (key[5:].replace("_", "-").title() for key in self._meta if key.startswith("HTTP_"))

    def __len__(self) -> int:
        return sum(1 for _ in self)
