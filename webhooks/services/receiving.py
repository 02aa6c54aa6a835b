"""Receiving a delivery: verify its signature, record it once.

Nothing here calls Shopify, applies the payload or talks to the broker; the request must be
answered within Shopify's 5 s deadline and cheaply. The stored row is the outbox: the relay
(`webhooks.services.relaying`) publishes it to the `webhooks` queue in batches, after commit by
construction (it only ever sees committed rows), and the sweeper is the safety net behind it.
"""

from __future__ import annotations

import base64
import enum
import functools
import hashlib
import hmac
import logging
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import psycopg
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from shopsync.domains import is_valid_shop_domain, normalize_shop_domain
from shopsync.models import FailedSyncItem, Shop
from shopsync.services.dead_letters import dead_letter_record
from webhooks import topics
from webhooks.models import WebhookLog

logger = logging.getLogger(__name__)

# Header values we store: printable ASCII only (Shopify sends UUIDs, topic names, versions), so
# nothing odd (control characters, NUL that PostgreSQL text rejects) reaches the database.
_TOPIC = re.compile(r"[A-Za-z0-9_./-]{1,100}")
_ID_VALUE = re.compile(r"[\x21-\x7e]{1,255}")
# Extra headers some topics carry with the resource id (used when the body has no top-level id).
_RESOURCE_ID_HEADERS = ("X-Shopify-Order-Id", "X-Shopify-Product-Id", "X-Shopify-Customer-Id")
# X-Shopify-Triggered-At is not covered by the signature: a captured body can be replayed with any
# trigger time. A genuine delivery was triggered before we receive it (allowing for clock skew) and
# within Shopify's retry window (8 retries over 4 h since 2024-09; 19 over 48 h before, and the docs
# warn of deliveries up to a day late: the widest of these is the bound). Anything else is kept, not
# applied (contract §4.3, §4.4).
TRIGGER_CLOCK_SKEW = timedelta(minutes=5)
TRIGGER_MAX_AGE = timedelta(hours=48)


class WebhookHeaderError(ValueError):
    """The delivery's headers cannot be stored (missing topic, oversized ids)."""


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    topic: str
    shop_domain: str
    event_id: str | None
    webhook_id: str | None
    api_version: str
    triggered_at: datetime | None
    resource_id_header: str | None
    body: bytes

    @classmethod
    def from_headers(cls, *, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        """`headers` must be case-insensitive (Django's `request.headers` is): Shopify warns
        against relying on header casing."""
        topic = (headers.get("X-Shopify-Topic") or "").strip()
        if not _TOPIC.fullmatch(topic):
            raise WebhookHeaderError("missing or invalid X-Shopify-Topic")
        return cls(
            topic=topic,
            shop_domain=(headers.get("X-Shopify-Shop-Domain") or "").strip().lower(),
            event_id=_id_header(headers, "X-Shopify-Event-Id"),
            webhook_id=_id_header(headers, "X-Shopify-Webhook-Id"),
            api_version=_printable(headers.get("X-Shopify-API-Version"))[:32],
            triggered_at=_parse_timestamp(headers.get("X-Shopify-Triggered-At")),
            resource_id_header=next((headers[h] for h in _RESOURCE_ID_HEADERS if h in headers), None),
            body=body,
        )


class RecordOutcome(enum.StrEnum):
    UNKNOWN_SHOP = "unknown_shop"
    # Stored for processing: the relay publishes it.
    STORED = "stored"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    MALFORMED = "malformed"
    # Stored for inspection, never applied: its trigger time is implausible.
    QUARANTINED = "quarantined"


def webhook_signature_is_valid(*, body: bytes, signature: str | None) -> bool:
    """HMAC-SHA256 of the raw body with the app's API secret, base64, compared in constant time."""
    if not signature:
        return False
    digest = hmac.new(settings.SHOPIFY_API_SECRET.encode(), body, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    return hmac.compare_digest(expected, signature.strip().encode("latin-1", errors="replace"))


def webhook_event_record(*, delivery: WebhookDelivery) -> RecordOutcome:
    """Store an authentic delivery once, for the relay to publish.

    The insert is `INSERT ... ON CONFLICT DO NOTHING RETURNING id` on the unique (shop, topic,
    event_id) and (shop, webhook_id) keys, so concurrent copies of one delivery cannot both be
    stored: the copy that gets no id back is the duplicate and does nothing. The same statement
    looks the shop up: a delivery for a shop we do not know is not stored (UNKNOWN_SHOP).
    """
    shop_domain = normalize_shop_domain(delivery.shop_domain)
    # Validated before any SQL, so header junk (NUL, control characters) never reaches the database.
    if not is_valid_shop_domain(shop_domain):
        return RecordOutcome.UNKNOWN_SHOP
    payload, parse_error = _parse_body(delivery.body)
    if parse_error is not None:
        # Shopify would retry a non-2xx forever with the same bytes: keep them, dead-letter, answer 200.
        with transaction.atomic():
            shop_id, log_id = _insert_once(
                shop_domain=shop_domain, delivery=delivery, payload=None, status=WebhookLog.Status.DEAD
            )
            if shop_id is None or log_id is None:
                return RecordOutcome.UNKNOWN_SHOP if shop_id is None else RecordOutcome.DUPLICATE
            _dead_letter_malformed(shop_id=shop_id, log_id=log_id, delivery=delivery, error=parse_error)
        return RecordOutcome.MALFORMED
    handled = delivery.topic in topics.HANDLED_TOPICS
    now = timezone.now()
    quarantine_reason = trigger_time_implausibility(triggered_at=delivery.triggered_at, received_at=now)
    status = WebhookLog.Status.RECEIVED if handled else WebhookLog.Status.IGNORED
    if handled and quarantine_reason:
        status = WebhookLog.Status.QUARANTINED
    # One autocommitted statement: the row is durable before we answer, with no extra round trips.
    shop_id, log_id = _insert_once(
        shop_domain=shop_domain,
        delivery=delivery,
        payload=payload,
        status=status,
        now=now,
        last_error=quarantine_reason if status == WebhookLog.Status.QUARANTINED else "",
    )
    if shop_id is None:
        return RecordOutcome.UNKNOWN_SHOP
    if log_id is None:
        logger.info(
            "webhook duplicate ignored topic=%r shop_id=%s event_id=%r",
            delivery.topic,
            shop_id,
            delivery.event_id,
        )
        return RecordOutcome.DUPLICATE
    if not handled:
        logger.info(
            "webhook topic not handled, stored as ignored topic=%r shop_id=%s", delivery.topic, shop_id
        )
        return RecordOutcome.IGNORED
    if status == WebhookLog.Status.QUARANTINED:
        logger.warning(
            "webhook quarantined topic=%r shop_id=%s webhook_log_id=%s: %s",
            delivery.topic,
            shop_id,
            log_id,
            quarantine_reason,
        )
        return RecordOutcome.QUARANTINED
    # No publish here (it cost more CPU than the rest of the request): the committed row with
    # `queued_at` NULL is what the relay picks up, within its poll interval.
    return RecordOutcome.STORED


def trigger_time_implausibility(*, triggered_at: datetime | None, received_at: datetime) -> str:
    """Why a delivery's trigger time cannot be genuine, or "" when it can (or is absent: the
    receipt time then stands in for it)."""
    if triggered_at is None:
        return ""
    if triggered_at > received_at + TRIGGER_CLOCK_SKEW:
        return (
            f"X-Shopify-Triggered-At {triggered_at.isoformat()} is more than {TRIGGER_CLOCK_SKEW} after "
            f"its receipt ({received_at.isoformat()}): not applied (the header is not signed)"
        )
    if triggered_at < received_at - TRIGGER_MAX_AGE:
        return (
            f"X-Shopify-Triggered-At {triggered_at.isoformat()} is more than {TRIGGER_MAX_AGE} before "
            f"its receipt ({received_at.isoformat()}), beyond Shopify's retries: not applied"
        )
    return ""


def resource_id_from_payload(*, topic: str, payload: Any) -> int | None:
    """The Shopify id the delivery is about: the record for record topics, the customer for
    customer privacy topics, the shop for shop topics, the operation for bulk_operations/finish."""
    if not isinstance(payload, dict):
        return None
    if topic in (topics.CUSTOMERS_DATA_REQUEST, topics.CUSTOMERS_REDACT):
        customer = payload.get("customer")
        return _as_id(customer.get("id")) if isinstance(customer, dict) else None
    if topic == topics.SHOP_REDACT:
        return _as_id(payload.get("shop_id"))
    if topic == topics.BULK_OPERATIONS_FINISH:
        gid = payload.get("admin_graphql_api_id")
        return _as_id(gid.rsplit("/", 1)[-1]) if isinstance(gid, str) else None
    return _as_id(payload.get("id"))


_INSERT_FIELDS = (
    "created_at",
    "updated_at",
    "topic",
    "event_id",
    "webhook_id",
    "shopify_id",
    "body",
    "api_version",
    "triggered_at",
    "received_at",
    "processed_at",
    "status",
    "attempts",
    "last_error",
)


def _insert_once(
    *,
    shop_domain: str,
    delivery: WebhookDelivery,
    payload: Any,
    status: str,
    now: datetime | None = None,
    last_error: str = "",
) -> tuple[int | None, int | None]:
    """Insert the delivery for the shop with this domain. Returns (shop id, log id): no shop id
    for an unknown shop (nothing stored), no log id for a duplicate (nothing stored)."""
    now = now or timezone.now()
    shopify_id = resource_id_from_payload(topic=delivery.topic, payload=payload)
    if shopify_id is None:
        shopify_id = _as_id(delivery.resource_id_header)
    values = (
        now,
        now,
        delivery.topic,
        delivery.event_id,
        delivery.webhook_id,
        shopify_id,
        delivery.body,
        delivery.api_version,
        delivery.triggered_at,
        now,
        now if status == WebhookLog.Status.IGNORED else None,
        status,
        0,
        last_error,
    )
    if connection.vendor != "postgresql":
        # SQLite (local development) has no data-modifying CTEs: look the shop up first.
        shop_id = Shop.objects.filter(domain=shop_domain).values_list("pk", flat=True).first()
        if shop_id is None:
            return None, None
        fields = [WebhookLog._meta.get_field(name) for name in _INSERT_FIELDS]
        params = [
            field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)
        ]
        row = _fetch_one(_insert_sql(connection.vendor), [shop_id, *params])
        return shop_id, (row[0] if row else None)
    # psycopg adapts these Python values (str, int, bytes, aware datetimes, None) to the statement's
    # casts itself; Django's per-field preparation would only hand the same values back, slower.
    row = _fetch_one_idempotent(_insert_sql(connection.vendor), [shop_domain, *values])
    return (row[0], row[1]) if row else (None, None)


@functools.cache
def _insert_sql(vendor: str) -> str:
    """The insert statement, built once per process. No conflict target: DO NOTHING then covers
    both partial unique indexes."""
    fields = [WebhookLog._meta.get_field(name) for name in _INSERT_FIELDS]
    quote = connection.ops.quote_name
    table, shop_table = quote(WebhookLog._meta.db_table), quote(Shop._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    if vendor != "postgresql":
        placeholders = ", ".join(["%s"] * len(fields))
        return (
            f"INSERT INTO {table} (shop_id, {columns}) VALUES (%s, {placeholders}) "  # noqa: S608 (identifiers only)
            "ON CONFLICT DO NOTHING RETURNING id"
        )
    # One round trip for lookup and insert. INSERT ... SELECT does not infer parameter types from
    # the target columns, hence the casts.
    casts = ", ".join(f"CAST(%s AS {_unbounded_type(field)})" for field in fields)
    return (
        f"WITH shop AS (SELECT id FROM {shop_table} WHERE domain = %s), "  # noqa: S608 (identifiers only)
        f"inserted AS (INSERT INTO {table} (shop_id, {columns}) SELECT shop.id, {casts} FROM shop "
        "ON CONFLICT DO NOTHING RETURNING id) "
        "SELECT shop.id, inserted.id FROM shop LEFT JOIN inserted ON TRUE"
    )


def _unbounded_type(field: Any) -> str:
    """The column's type without its length: an explicit CAST to varchar(n) silently cuts an
    overlong value, where storing it into the column refuses it."""
    return re.sub(r"\(\d+\)", "", field.db_type(connection))


def _fetch_one(sql: str, params: list[Any]) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _fetch_one_prepared(sql: str, params: list[Any]) -> tuple | None:
    """PostgreSQL only: the statement as a server-side prepared statement, so PostgreSQL stops
    parsing and planning the CTE on every delivery (pgbench on this machine: 1,000 -> 1,700
    inserts/s) and the body travels as binary instead of an escaped literal. Django's connections
    bind client-side and never prepare (a project-wide choice this path leaves alone), so this
    uses a psycopg server-side cursor on Django's connection, with Django's error translation.
    When queries are being logged (DEBUG, query-counting tests) it runs through Django's cursor
    instead, so it is logged like any other. Behind PgBouncer in transaction mode this needs
    PgBouncer >= 1.21 (prepared statement support)."""
    if connection.queries_logged:
        return _fetch_one(sql, params)
    connection.ensure_connection()
    raw_connection = connection.connection
    if raw_connection.prepare_threshold is None:
        # Django connects with preparing switched off (threshold None), which psycopg applies
        # even to `prepare=True`. An unreachable threshold allows our explicit prepare and still
        # never auto-prepares anything else (Django's client-side cursors never prepare at all).
        raw_connection.prepare_threshold = sys.maxsize
    with connection.wrap_database_errors, psycopg.Cursor(raw_connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchone()


def _fetch_one_idempotent(sql: str, params: list[Any]) -> tuple | None:
    """Run an idempotent statement (insert-or-ignore on the delivery's ids) without Django's
    per-request connection health check: CONN_HEALTH_CHECKS spends a `SELECT 1` round trip before
    the first query of every request, which on this path doubles the round trips. If the reused
    connection turns out dead, reconnect and run the statement once more; a statement that did
    commit before the connection died comes back as a duplicate the second time."""
    if connection.in_atomic_block:
        return _fetch_one(sql, params)
    connection.health_check_done = True
    try:
        return _fetch_one_prepared(sql, params)
    except (InterfaceError, OperationalError):
        logger.info("webhook insert: the database connection was lost, retrying on a new one")
        connection.close()
        return _fetch_one_prepared(sql, params)


def _dead_letter_malformed(*, shop_id: int, log_id: int, delivery: WebhookDelivery, error: str) -> None:
    raw_text = delivery.body[:10_000].decode("utf-8", errors="replace")
    WebhookLog.objects.filter(pk=log_id).update(last_error=error)
    dead_letter_record(
        shop=Shop(pk=shop_id),
        entity_type=FailedSyncItem.EntityType.WEBHOOK,
        source=FailedSyncItem.Source.WEBHOOK,
        source_ref=str(log_id),
        shopify_id=_as_id(delivery.resource_id_header),
        # JSONB cannot hold NUL characters.
        payload={"topic": delivery.topic, "raw": raw_text.replace("\x00", "\ufffd")},
        error=error,
    )
    logger.warning(
        "webhook body is not JSON, dead-lettered topic=%r webhook_log_id=%s", delivery.topic, log_id
    )


def _parse_body(body: bytes) -> tuple[Any, str | None]:
    try:
        return orjson.loads(body), None
    except orjson.JSONDecodeError as exc:
        return None, f"body is not valid JSON: {exc}"


def _id_header(headers: Mapping[str, str], name: str) -> str | None:
    value = (headers.get(name) or "").strip()
    if not value:
        return None
    if not _ID_VALUE.fullmatch(value):
        raise WebhookHeaderError(f"invalid {name}")
    return value


def _printable(raw: str | None) -> str:
    return "".join(ch for ch in (raw or "") if "\x20" < ch < "\x7f")


def _parse_timestamp(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        # Python 3.11+ reads "Z" and truncates Shopify's nanoseconds to microseconds.
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return value if timezone.is_aware(value) else None


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
        number = int(value)
        return number if 0 < number < 2**63 else None
    return None
