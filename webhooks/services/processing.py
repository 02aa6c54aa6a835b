"""Applying a stored delivery: claim it, run its topic's handler, record the outcome.

Handlers write only through the shared write path (`shopsync.services.upsert`): last write wins by
Shopify's `updated_at` and deletes leave tombstones, so deliveries may arrive in any order, twice,
or a day late, and the store still ends at its newest version. Webhook handling never starts a sync.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models.functions import Length
from django.utils import timezone

from shopsync.enqueue import task_send
from shopsync.models import FailedSyncItem, Shop
from shopsync.payloads.cleaning import loads_without_nul
from shopsync.payloads.rest import rest_parent_id
from shopsync.resources import ChildDeclaration, Resource, ResourceDeclaration, TopicAction, WebhookTopic
from shopsync.services.dead_letters import dead_letter_record
from shopsync.services.sync import bulk_operation_finished, records_fetch_by_ids
from shopsync.services.sync.units import node_parse_salvaging
from shopsync.services.upsert import (
    child_records_delete,
    child_records_insert,
    child_records_upsert,
    records_soft_delete,
    records_upsert,
)
from shopsync.shopify import ShopifyClient
from webhooks import topics
from webhooks.models import PrivacyRequest, WebhookLog
from webhooks.services.claiming import db_timestamp, webhook_logs_claim
from webhooks.services.privacy import (
    privacy_customer_redact,
    privacy_data_request_email,
    privacy_data_request_fulfil,
    privacy_shop_redact,
)
from webhooks.services.shops import shop_app_is_installed, shop_uninstalled_mark

logger = logging.getLogger(__name__)


class WebhookRetryableError(Exception):
    """A transient failure (database, network, broker): Celery retries the delivery with backoff."""


# Counted over Celery retries and sweeper re-queues alike: after this many claims it is dead.
MAX_ATTEMPTS = 6
MAX_ERROR_CHARS = 4000
# A batch keeps one worker for at most this long, then hands its remaining ids to a new task, so a
# slow batch neither starves the queue nor runs into the task's time limit.
BATCH_TIME_BUDGET_SECONDS = 30.0
# The first retry of a delivery that failed inside a batch; its own task backs off from there.
BATCH_RETRY_COUNTDOWN_SECONDS = 2
# Record updates written together hold their bodies and parsed records in memory at once: a run
# stops growing at this many bytes of bodies (a single larger delivery is a run of its own).
RUN_MAX_BODY_BYTES = 8 * 1024 * 1024


class WebhookPayloadError(ValueError):
    """The delivery's body cannot be applied (not JSON, wrong shape): retrying will not help."""


class WebhookNotApplied(Exception):
    """A handler's decision not to apply an authentic delivery (the reason is its message): the
    delivery is recorded as ignored, with the reason shown where its error would be."""


# Transient by nature: a retry a few seconds later can succeed. Anything else is permanent.
_RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,  # includes deadlocks and serialization failures
    InterfaceError,
    IntegrityError,  # a concurrent insert won a race the write path did not absorb
    smtplib.SMTPException,
    ConnectionError,
    TimeoutError,
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a handler sees: the claimed log, its shop, and its body (raw, or parsed on demand)."""

    log: WebhookLog
    shop: Shop

    @property
    def body(self) -> bytes:
        return bytes(self.log.body)

    @property
    def payload(self) -> Any:
        return _parse(self.log)

    @property
    def happened_at(self) -> datetime:
        """When Shopify triggered it: a retry carries the original trigger time, so it orders
        deletes. The header is not covered by the signature, so it never counts as later than
        our own receipt (the receiver quarantines deliveries whose trigger time is implausible)."""
        triggered_at, received_at = self.log.triggered_at, self.log.received_at
        return min(triggered_at, received_at) if triggered_at is not None else received_at


def webhook_log_process(*, webhook_log_id: int, is_last_attempt: bool = False) -> WebhookLog | None:
    """Process one stored delivery. Returns the log, or None when someone else has it or it is
    already done. Raises `WebhookRetryableError` for a transient failure with attempts left (the
    task retries it); a permanent failure, or the last attempt, ends in a dead letter."""
    claimed = _claim([webhook_log_id])
    if not claimed:
        logger.info("webhook delivery not claimable (done or taken) webhook_log_id=%s", webhook_log_id)
        return None
    [log] = claimed
    _apply_claimed(log, is_last_attempt=is_last_attempt)
    return log


def _apply_claimed(log: WebhookLog, *, is_last_attempt: bool = False) -> None:
    try:
        _apply(log)
    except Exception as exc:
        _settle_failure(log, exc, is_last_attempt=is_last_attempt)


def _settle_failure(log: WebhookLog, exc: BaseException, *, is_last_attempt: bool = False) -> None:
    """A transient failure with attempts left is marked failed and raised as
    `WebhookRetryableError` (for a retry); anything else ends in a dead letter."""
    if _is_retryable(exc) and not (is_last_attempt or log.attempts >= MAX_ATTEMPTS):
        _mark_failed(log, exc)
        raise WebhookRetryableError(f"{type(exc).__name__}: {exc}") from exc
    _dead_letter(log, exc)


def webhook_logs_process(
    *, webhook_log_ids: Sequence[int], time_budget_seconds: float = BATCH_TIME_BUDGET_SECONDS
) -> None:
    """Process a batch of deliveries in order (the relay's message).

    Consecutive record updates of one shop and resource (orders/create, orders/updated and
    orders/cancelled of one shop, say) are applied as one write through the write path, which
    keeps the newest version of each record, so a burst costs one write per run instead of one
    per delivery; every other delivery is applied alone, in its place. Ids already done or taken
    are skipped. A delivery that fails transiently is handed to its own retrying task
    (`webhook_log_process_task`, Celery's backoff) and the batch carries on; if that publish fails
    too, the delivery stays `failed` and the sweeper re-queues it."""
    started = time.monotonic()
    runs = _runs(webhook_log_ids)
    for index, run in enumerate(runs):
        # At least one run per batch, so a batch always makes progress.
        if index and time.monotonic() - started > time_budget_seconds:
            remaining = [webhook_log_id for later in runs[index:] for webhook_log_id in later]
            logger.info("webhook batch over its time budget, handing on %s deliveries", len(remaining))
            # If this publish fails the task fails; the rows are still `received` and get swept.
            task_send("webhooks.tasks.webhook_logs_process_task", remaining)
            return
        logs = _claim(run)
        if len(logs) > 1 and logs[0].topic in CHILD_UPSERTS:
            _apply_child_updates(logs)
            continue
        if len(logs) > 1:
            _apply_record_updates(logs)
            continue
        for log in logs:
            _apply_claimed_in_batch(log)


def _runs(webhook_log_ids: Sequence[int]) -> list[list[int]]:
    """The ids in order, cut into runs: consecutive record updates of one shop and resource share
    a run, up to RUN_MAX_BODY_BYTES of bodies; every other delivery (and an id not found) is a run
    of its own."""
    unique_ids = list(dict.fromkeys(webhook_log_ids))
    rows = WebhookLog.objects.filter(pk__in=unique_ids).values_list("pk", "shop_id", "topic", Length("body"))
    kinds = {pk: (_run_kind(shop_id, topic), size) for pk, shop_id, topic, size in rows}
    runs: list[list[int]] = []
    previous, run_bytes = None, 0
    for webhook_log_id in unique_ids:
        kind, size = kinds.get(webhook_log_id, (None, 0))
        if kind is not None and kind == previous and run_bytes + size <= RUN_MAX_BODY_BYTES:
            runs[-1].append(webhook_log_id)
            run_bytes += size
        else:
            runs.append([webhook_log_id])
            run_bytes = size
        previous = kind
    return runs


def _run_kind(shop_id: int, topic: str) -> tuple[int, str] | None:
    """Deliveries of one kind may share a run: record updates of one shop and resource, or child
    updates (inventory levels) of one shop and child."""
    if topic in RECORD_UPSERTS:
        return shop_id, RECORD_UPSERTS[topic][0].value
    if topic in CHILD_UPSERTS:
        declaration, child = CHILD_UPSERTS[topic]
        return shop_id, f"{declaration.name}.{child.name}"
    return None


def _apply_child_updates(logs: list[WebhookLog]) -> None:
    """Claimed child updates of one shop and child (inventory levels), in one write: last write wins
    per child on its own `updated_at`. A delivery whose body does not parse fails alone; one whose
    parent is not stored is applied alone (its handler fetches the parent); if the write fails,
    each delivery is applied on its own."""
    shop = logs[0].shop
    if _shop_is_redacted(shop):
        for log in logs:
            _apply_claimed_in_batch(log)
        return
    declaration, child = CHILD_UPSERTS[logs[0].topic]
    assert child.parse_rest is not None  # a CHILD_UPSERT topic is declared with its parser
    parsed: list[tuple[WebhookLog, int, Any]] = []
    for log in logs:
        try:
            parent_id = _rest_parent_id(bytes(log.body), child, log.topic)
            parsed.append((log, parent_id, child.parse_rest(bytes(log.body))))
        except Exception as exc:
            with _retried_alone_if_retryable(log):
                _settle_failure(log, exc)
    by_parent: dict[int, list[Any]] = {}
    for _, parent_id, record in parsed:
        by_parent.setdefault(parent_id, []).append(record)
    try:
        missing = child_records_upsert(
            shop=shop, resource=declaration.name, child=child.name, records_by_parent=by_parent
        )
    except Exception:
        logger.info("webhook child batch write failed, applying its %s deliveries one by one", len(parsed),
                    exc_info=True)  # fmt: skip
        for log, _, _ in parsed:
            _apply_claimed_in_batch(log)
        return
    _mark_processed([log for log, parent_id, _ in parsed if parent_id not in missing])
    for log, parent_id, _ in parsed:
        if parent_id in missing:
            _apply_claimed_in_batch(log)


def _rest_parent_id(body: bytes, child: ChildDeclaration, topic: str) -> int:
    parent_id = rest_parent_id(body, child.rest_parent_key)
    if parent_id is None:
        raise WebhookPayloadError(f"{topic} body has no numeric {child.rest_parent_key}")
    return parent_id


def _apply_record_updates(logs: list[WebhookLog]) -> None:
    """Claimed record updates of one shop and resource, in one write. A delivery whose body does
    not parse fails alone; if the write itself fails, each delivery is applied on its own, so a
    bad record fails only its own delivery."""
    shop = logs[0].shop
    if _shop_is_redacted(shop):
        for log in logs:
            _apply_claimed_in_batch(log)
        return
    resource, parse = RECORD_UPSERTS[logs[0].topic]
    parsed: list[tuple[WebhookLog, Any]] = []
    for log in logs:
        try:
            parsed.append((log, parse(bytes(log.body))))
        except Exception as exc:
            with _retried_alone_if_retryable(log):
                _settle_failure(log, exc)
    if not parsed:
        return
    try:
        records_upsert(shop=shop, resource=resource, records=[record for _, record in parsed])
    except Exception:
        logger.info(
            "webhook batch write failed, applying its %s deliveries one by one", len(parsed), exc_info=True
        )
        for log, _ in parsed:
            _apply_claimed_in_batch(log)
        return
    _mark_processed([log for log, _ in parsed])


@contextlib.contextmanager
def _retried_alone_if_retryable(log: WebhookLog) -> Iterator[None]:
    """Inside a batch, a delivery asking for a retry gets its own retrying task; the batch goes on."""
    try:
        yield
    except WebhookRetryableError:
        _retry_alone(log.pk)


def _apply_claimed_in_batch(log: WebhookLog) -> None:
    with _retried_alone_if_retryable(log):
        _apply_claimed(log)


def _retry_alone(webhook_log_id: int) -> None:
    try:
        task_send(
            "webhooks.tasks.webhook_log_process_task",
            webhook_log_id,
            countdown=BATCH_RETRY_COUNTDOWN_SECONDS,
            retry=False,
        )
    except Exception:  # the broker's errors vary by transport
        logger.warning(
            "webhook retry not queued, the sweeper will webhook_log_id=%s", webhook_log_id, exc_info=True
        )


def webhook_log_reprocess(*, webhook_log: WebhookLog) -> WebhookLog:
    """Run a delivery again now, whatever its state (the dead-letter admin's "Retry now").
    Raises the handler's error on failure, leaving the log dead; the caller records the failed
    retry on its dead letter. Safe to repeat: handlers are idempotent."""
    now = timezone.now()
    WebhookLog.objects.filter(pk=webhook_log.pk).exclude(status=WebhookLog.Status.PROCESSING).update(
        status=WebhookLog.Status.RECEIVED, attempts=0, updated_at=now
    )
    claimed = _claim([webhook_log.pk])
    if not claimed:
        raise WebhookRetryableError(f"webhook delivery {webhook_log.pk} is being processed right now")
    [log] = claimed
    try:
        _apply(log)
    except Exception as exc:
        _mark(log, WebhookLog.Status.DEAD, error=exc)
        raise
    return log


def _claim(webhook_log_ids: Sequence[int]) -> list[WebhookLog]:
    """Claim those of the deliveries that are waiting (received, or failed and due a retry) and
    nobody else holds, in the order given. Rows another worker is claiming are skipped, not waited
    for. One autocommitted statement (as the relay's claim), then one read of the claimed rows."""
    unique_ids = list(dict.fromkeys(webhook_log_ids))
    if not unique_ids:
        return []
    stamp = db_timestamp("claimed_at", timezone.now())
    placeholders = ", ".join(["%s"] * len(unique_ids))
    claimable = webhook_logs_claim(
        assignments="status = %s, attempts = attempts + 1, claimed_at = %s, updated_at = %s",
        assignment_params=[WebhookLog.Status.PROCESSING, stamp, stamp],
        selection=f"id IN ({placeholders}) AND status IN (%s, %s)",
        selection_params=[*unique_ids, WebhookLog.Status.RECEIVED, WebhookLog.Status.FAILED],
    )
    if not claimable:
        return []
    claimed = WebhookLog.objects.select_related("shop").in_bulk(claimable)
    return [claimed[pk] for pk in unique_ids if pk in claimed]


def _apply(log: WebhookLog) -> None:
    handler = HANDLERS.get(log.topic)
    if handler is None:
        logger.info("webhook topic not handled topic=%r webhook_log_id=%s", log.topic, log.pk)
        _mark(log, WebhookLog.Status.IGNORED)
        return
    if log.topic in topics.RECORD_TOPICS and _shop_is_redacted(log.shop):
        # A delivery arriving after shop/redact must not bring the erased data back.
        logger.info("webhook for a redacted shop ignored topic=%r shop_id=%s", log.topic, log.shop_id)
        _mark(log, WebhookLog.Status.IGNORED)
        return
    try:
        handler(Delivery(log=log, shop=log.shop))
    except WebhookNotApplied as outcome:
        logger.info("webhook not applied webhook_log_id=%s topic=%r: %s", log.pk, log.topic, outcome)
        _mark(log, WebhookLog.Status.IGNORED, reason=str(outcome))
        return
    _mark(log, WebhookLog.Status.PROCESSED)


def _mark(log: WebhookLog, status: str, *, error: BaseException | None = None, reason: str = "") -> None:
    now = timezone.now()
    log.status = status
    log.last_error = _describe(error) if error is not None else reason[:MAX_ERROR_CHARS]
    finished = status in (WebhookLog.Status.PROCESSED, WebhookLog.Status.IGNORED)
    values: dict[str, Any] = {"status": status, "last_error": log.last_error, "updated_at": now}
    if finished:
        values["processed_at"] = log.processed_at = now
    WebhookLog.objects.filter(pk=log.pk).update(**values)


def _mark_processed(logs: list[WebhookLog]) -> None:
    now = timezone.now()
    WebhookLog.objects.filter(pk__in=[log.pk for log in logs]).update(
        status=WebhookLog.Status.PROCESSED, last_error="", updated_at=now, processed_at=now
    )
    for log in logs:
        log.status, log.last_error, log.processed_at = WebhookLog.Status.PROCESSED, "", now


def _mark_failed(log: WebhookLog, exc: BaseException) -> None:
    logger.info(
        "webhook processing failed, will retry webhook_log_id=%s attempt=%s: %s", log.pk, log.attempts, exc
    )
    _mark(log, WebhookLog.Status.FAILED, error=exc)


def _dead_letter(log: WebhookLog, exc: BaseException) -> None:
    logger.warning("webhook dead-lettered webhook_log_id=%s topic=%r: %s", log.pk, log.topic, exc)
    with transaction.atomic():
        dead_letter_record(
            shop=log.shop,
            entity_type=FailedSyncItem.EntityType.WEBHOOK,
            source=FailedSyncItem.Source.WEBHOOK,
            source_ref=str(log.pk),
            shopify_id=log.shopify_id,
            payload=_payload_for_dead_letter(log),
            error=exc,
        )
        _mark(log, WebhookLog.Status.DEAD, error=exc)


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, _RETRYABLE_ERRORS):
        return True
    # Shopify client errors (and anything else) that classify themselves, as R7 asks.
    return bool(getattr(exc, "retryable", False))


def _parse(log: WebhookLog) -> Any:
    """The body decoded, NULs removed from its text (every topic's payload may end in JSONB)."""
    try:
        return loads_without_nul(bytes(log.body))
    except orjson.JSONDecodeError as exc:
        raise WebhookPayloadError(f"body is not valid JSON: {exc}") from exc


def _payload_for_dead_letter(log: WebhookLog) -> Any:
    try:
        payload = orjson.loads(bytes(log.body))
    except orjson.JSONDecodeError:
        return {"topic": log.topic, "raw": log.body_text[:10_000].replace("\x00", "\ufffd")}
    # JSONB cannot hold "\u0000"; the raw bytes stay intact on the log.
    return orjson.loads(orjson.dumps(payload).replace(b"\\u0000", b"\\ufffd"))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]


def _shop_is_redacted(shop: Shop) -> bool:
    if shop.is_installed:
        return False
    return PrivacyRequest.objects.filter(shop=shop, topic=PrivacyRequest.Topic.SHOP_REDACT).exists()


def _payload_object(delivery: Delivery) -> dict:
    if not isinstance(delivery.payload, dict):
        raise WebhookPayloadError(f"{delivery.log.topic} body is not a JSON object")
    return delivery.payload


def _payload_id(delivery: Delivery) -> int:
    shopify_id = _payload_object(delivery).get("id")
    if isinstance(shopify_id, bool) or not isinstance(shopify_id, int) or shopify_id <= 0:
        raise WebhookPayloadError(f"{delivery.log.topic} body has no numeric id")
    return shopify_id


# --- handlers, one per topic family ------------------------------------------------------------


def _record_upsert(resource: Resource, parse: Callable[[Any], Any]) -> Callable[[Delivery], None]:
    def handle(delivery: Delivery) -> None:
        # The raw bytes: the parser's NUL check is then a byte search instead of a walk.
        record = parse(delivery.body)
        records_upsert(shop=delivery.shop, resource=resource, records=[record])

    return handle


def _record_delete(resource: Resource) -> Callable[[Delivery], None]:
    def handle(delivery: Delivery) -> None:
        records_soft_delete(
            shop=delivery.shop,
            resource=resource,
            shopify_ids=[_payload_id(delivery)],
            deleted_at=delivery.happened_at,
        )

    return handle


def _child_create(declaration: ResourceDeclaration, child: ChildDeclaration) -> Callable[[Delivery], None]:
    """One new child (a transaction): added to its stored parent, its siblings and any stored copy
    left as they are (they came from a parent version at least as new). A parent not stored yet is
    fetched from Shopify by id, complete with its children, and written; one Shopify no longer has
    is not applied."""

    def handle(delivery: Delivery) -> None:
        assert child.parse_rest is not None  # a CHILD_CREATE topic is declared with its parser
        record = child.parse_rest(delivery.body)
        parent_id = rest_parent_id(delivery.body, child.rest_parent_key)
        if parent_id is None:
            raise WebhookPayloadError(f"{delivery.log.topic} body has no numeric {child.rest_parent_key}")
        if child_records_insert(shop=delivery.shop, resource=declaration.name, child=child.name,
                                parent_shopify_id=parent_id, records=[record]):  # fmt: skip
            return
        _parent_fetch(delivery, declaration, parent_id)

    return handle


def _child_upsert(declaration: ResourceDeclaration, child: ChildDeclaration) -> Callable[[Delivery], None]:
    """One child's new version with its own clock (an inventory level): upserted under its stored
    parent, last write wins on the child's `updated_at`. A parent not stored yet is fetched from
    Shopify by id, complete with its children (this one as Shopify has it now), and written."""

    def handle(delivery: Delivery) -> None:
        assert child.parse_rest is not None  # a CHILD_UPSERT topic is declared with its parser
        parent_id = _rest_parent_id(delivery.body, child, delivery.log.topic)
        record = child.parse_rest(delivery.body)
        missing = child_records_upsert(shop=delivery.shop, resource=declaration.name, child=child.name,
                                       records_by_parent={parent_id: [record]})  # fmt: skip
        if missing:
            _parent_fetch(delivery, declaration, parent_id)

    return handle


def _child_delete(declaration: ResourceDeclaration, child: ChildDeclaration) -> Callable[[Delivery], None]:
    """One child gone (an inventory level disconnected): its row is removed, unless stored newer. A
    stored version in the removal's own second (whole-second clocks cannot order them) is settled by
    Shopify: the parent is fetched by id, with the children it has now."""

    def handle(delivery: Delivery) -> None:
        parent_id = _rest_parent_id(delivery.body, child, delivery.log.topic)
        shopify_id = rest_parent_id(delivery.body, child.rest_id_key)
        if shopify_id is None:
            raise WebhookPayloadError(f"{delivery.log.topic} body does not name the {child.label}")
        result = child_records_delete(shop=delivery.shop, resource=declaration.name, child=child.name,
                                      parent_shopify_id=parent_id, shopify_id=shopify_id,
                                      deleted_at=delivery.happened_at)  # fmt: skip
        if result.ambiguous:
            _parent_fetch(delivery, declaration, parent_id)

    return handle


def _parent_refetch(
    declaration: ResourceDeclaration, child: ChildDeclaration, topic: WebhookTopic
) -> Callable[[Delivery], None]:
    """A body naming a child by one of its columns, not its parent (an inventory item): the parent
    of the stored child is fetched by id, complete, and written."""

    def handle(delivery: Delivery) -> None:
        value = _payload_object(delivery).get(topic.id_key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise WebhookPayloadError(f"{delivery.log.topic} body has no numeric {topic.id_key}")
        parent = child.parent_column.removesuffix("_id")
        parent_ids = set(
            child.model.objects.filter(shop=delivery.shop, **{topic.lookup_column: value}).values_list(
                f"{parent}__shopify_id", flat=True
            )
        )
        if not parent_ids:
            raise WebhookNotApplied(
                f"no stored {child.label} has {topic.lookup_column} {value}; its {declaration.singular}'s "
                "next version brings it"
            )
        for parent_id in sorted(parent_ids):
            _parent_fetch(delivery, declaration, parent_id)

    return handle


def _record_refetch(declaration: ResourceDeclaration, id_key: str) -> Callable[[Delivery], None]:
    """A body that names a record without being its new version (a consent change): the record is
    fetched from Shopify by id, complete, and written (last write wins as ever)."""

    def handle(delivery: Delivery) -> None:
        shopify_id = _payload_object(delivery).get(id_key)
        if isinstance(shopify_id, bool) or not isinstance(shopify_id, int) or shopify_id <= 0:
            raise WebhookPayloadError(f"{delivery.log.topic} body has no numeric {id_key}")
        _parent_fetch(delivery, declaration, shopify_id)

    return handle


def _parent_fetch(delivery: Delivery, declaration: ResourceDeclaration, parent_id: int) -> None:
    # Outside any transaction (R11); Shopify's errors classify themselves (R7): a throttle or an
    # outage is retried with the delivery, a permanent error dead-letters it.
    client = ShopifyClient.for_shop(delivery.shop)
    unit = records_fetch_by_ids(client=client, resource=declaration.name, shopify_ids=[parent_id]).get(
        parent_id
    )
    if unit is None:
        raise WebhookNotApplied(
            f"{declaration.singular} {parent_id} is not in Shopify (deleted?); nothing to write"
        )
    # A malformed refund or fulfillment: the rest of the order is written, and the delivery is
    # dead-lettered with its payload all the same (the error is raised after the write).
    record, error = node_parse_salvaging(declaration.name, unit["node"], unit.get("children"))
    if record is not None:
        records_upsert(shop=delivery.shop, resource=declaration.name, records=[record])
    if error is not None:
        raise error


def _app_uninstalled(delivery: Delivery) -> None:
    """Only what Shopify confirms: a signed app/uninstalled body can be replayed (its headers,
    trigger time included, are not signed), so the shop is marked uninstalled only once Shopify
    refuses its token. A shop already uninstalled needs no question."""
    shop = delivery.shop
    if not shop.is_installed:
        return
    if shop_app_is_installed(shop=shop):
        raise WebhookNotApplied(
            "app/uninstalled not confirmed: Shopify still accepts the shop's access token, so the app "
            "is installed (a replayed delivery, or one from before a reinstall); the shop was left installed"
        )
    shop_uninstalled_mark(shop=shop, uninstalled_at=delivery.happened_at)


def _bulk_operation_finish(delivery: Delivery) -> None:
    payload = _payload_object(delivery)
    operation_id, status = payload.get("admin_graphql_api_id"), payload.get("status")
    if not isinstance(operation_id, str) or not isinstance(status, str):
        raise WebhookPayloadError("bulk_operations/finish body lacks admin_graphql_api_id or status")
    bulk_operation_finished(shop=delivery.shop, bulk_operation_id=operation_id, status=status)


def _customers_data_request(delivery: Delivery) -> None:
    request = privacy_data_request_fulfil(
        shop=delivery.shop, webhook_log=delivery.log, payload=_payload_object(delivery)
    )
    # Outside any transaction (R11): a mail failure is retried; the export is not rebuilt twice.
    privacy_data_request_email(privacy_request=request)


def _customers_redact(delivery: Delivery) -> None:
    privacy_customer_redact(shop=delivery.shop, webhook_log=delivery.log, payload=_payload_object(delivery))


def _shop_redact(delivery: Delivery) -> None:
    privacy_shop_redact(shop=delivery.shop, webhook_log=delivery.log, payload=_payload_object(delivery))


# The topics that write a record's new version: the resource and the body's parser. A batch applies
# consecutive ones of a shop and resource together (`_apply_record_updates`).
RECORD_UPSERTS: dict[str, tuple[Resource, Callable[[Any], Any]]] = {
    name: (Resource(declaration.name), declaration.parse_rest)
    for name, (declaration, child, topic) in topics.RESOURCE_TOPICS.items()
    if topic.action is TopicAction.UPSERT and child is None
}


# The topics that write one child's new version (inventory levels): batched per shop and child
# (`_apply_child_updates`).
CHILD_UPSERTS: dict[str, tuple[ResourceDeclaration, ChildDeclaration]] = {
    name: (declaration, child)
    for name, (declaration, child, topic) in topics.RESOURCE_TOPICS.items()
    if topic.action is TopicAction.CHILD_UPSERT and child is not None
}


def _resource_handler(declaration: ResourceDeclaration, child: ChildDeclaration | None, topic: WebhookTopic):
    action = topic.action
    if action is TopicAction.CHILD_UPSERT and child is not None:
        return _child_upsert(declaration, child)
    if action is TopicAction.CHILD_DELETE and child is not None:
        return _child_delete(declaration, child)
    if action is TopicAction.REFETCH_PARENT and child is not None:
        return _parent_refetch(declaration, child, topic)
    if action is TopicAction.DELETE:
        return _record_delete(Resource(declaration.name))
    if action is TopicAction.CHILD_CREATE and child is not None:
        return _child_create(declaration, child)
    if action is TopicAction.REFETCH:
        return _record_refetch(declaration, topic.id_key)
    return _record_upsert(Resource(declaration.name), declaration.parse_rest)


HANDLERS: dict[str, Callable[[Delivery], None]] = {
    **{
        name: _resource_handler(declaration, child, topic)
        for name, (declaration, child, topic) in topics.RESOURCE_TOPICS.items()
    },
    topics.APP_UNINSTALLED: _app_uninstalled,
    topics.BULK_OPERATIONS_FINISH: _bulk_operation_finish,
    topics.CUSTOMERS_DATA_REQUEST: _customers_data_request,
    topics.CUSTOMERS_REDACT: _customers_redact,
    topics.SHOP_REDACT: _shop_redact,
}
