"""Alerts: one incident per lasting problem, one message per incident.

A critical report or metric opens an incident for (shop, kind) if none is open; the database's
partial unique constraint makes that the dedupe, so two workers judging the same problem at once
open one incident between them. Only the opener enqueues the notification. Later critical readings
only touch `last_seen_at`; a reading of ok resolves the incident, and the next critical one opens a
new incident and sends a new message. Warnings neither open nor resolve.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from django.conf import settings
from django.core.mail import mail_admins
from django.db import IntegrityError, transaction
from django.utils import timezone

from reconciliation import conf
from reconciliation.models import AlertIncident, HealthStatus
from shopsync.enqueue import task_enqueue_on_commit
from shopsync.models import Shop

logger = logging.getLogger(__name__)

MAX_NOTIFY_ERROR_CHARS = 2000


class AlertDeliveryError(Exception):
    """A channel could not be reached; the notify task retries the channels still unsent."""


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    incident: AlertIncident | None
    opened: bool = False
    resolved: bool = False


def alert_evaluate(
    *,
    shop: Shop,
    kind: str,
    status: str,
    summary: str,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AlertOutcome:
    """Feed one reading into the incident for (shop, kind): critical opens or keeps it, ok resolves it."""
    now = now or timezone.now()
    if status == HealthStatus.CRITICAL:
        return alert_incident_open(shop=shop, kind=kind, summary=summary, details=details or {}, now=now)
    if status == HealthStatus.OK:
        resolved = alert_incident_resolve(shop=shop, kind=kind, now=now)
        return AlertOutcome(incident=resolved, resolved=resolved is not None)
    return AlertOutcome(incident=None)


def alert_incident_open(
    *, shop: Shop, kind: str, summary: str, details: dict[str, Any], now: datetime
) -> AlertOutcome:
    open_incidents = AlertIncident.objects.filter(shop=shop, kind=kind, resolved_at__isnull=True)
    if open_incidents.update(last_seen_at=now, details=details, updated_at=now):
        return AlertOutcome(incident=open_incidents.first())
    try:
        with transaction.atomic():
            incident = AlertIncident.objects.create(
                shop=shop, kind=kind, summary=summary[:500], details=details, opened_at=now, last_seen_at=now
            )
    except IntegrityError:
        # Another worker opened it between our update and insert: theirs is the incident.
        open_incidents.update(last_seen_at=now, updated_at=now)
        return AlertOutcome(incident=open_incidents.first())
    logger.warning("alert incident opened shop=%s kind=%s: %s", shop.domain, kind, summary)
    task_enqueue_on_commit("reconciliation.tasks.alert_incident_notify_task", incident.pk)
    return AlertOutcome(incident=incident, opened=True)


def alert_incident_resolve(*, shop: Shop, kind: str, now: datetime) -> AlertIncident | None:
    incident = AlertIncident.objects.filter(shop=shop, kind=kind, resolved_at__isnull=True).first()
    if incident is None:
        return None
    if not AlertIncident.objects.filter(pk=incident.pk, resolved_at__isnull=True).update(
        resolved_at=now, updated_at=now
    ):
        return None
    logger.info("alert incident resolved shop=%s kind=%s", shop.domain, kind)
    incident.refresh_from_db()
    return incident


def alert_incident_notify(*, incident: AlertIncident) -> None:
    """Send the incident's message on every configured channel not yet sent. Each channel is claimed
    with a conditional UPDATE first, so a redelivered task never sends a channel twice; a failed
    send releases its claim and raises, for the task's bounded retry."""
    failures = []
    if settings.ADMINS and _claim_channel(incident, "email_sent_at"):
        failures += _send(incident, "email_sent_at", _send_email)
    if conf.slack_webhook_url() and _claim_channel(incident, "slack_sent_at"):
        failures += _send(incident, "slack_sent_at", _send_slack)
    if failures:
        raise AlertDeliveryError("; ".join(failures))


def alert_message(*, incident: AlertIncident) -> tuple[str, str]:
    subject = f"CRITICAL {incident.shop.domain}: {incident.summary}"
    body = (
        f"{incident.summary}\n\nShop: {incident.shop.domain}\nKind: {incident.kind}\n"
        f"Opened: {incident.opened_at.isoformat()}\n"
        "No further message is sent for this incident; it resolves when the check reads ok again.\n"
    )
    return subject, body


def _claim_channel(incident: AlertIncident, field: str) -> bool:
    return (
        AlertIncident.objects.filter(pk=incident.pk, **{f"{field}__isnull": True}).update(
            **{field: timezone.now()}
        )
        == 1
    )


def _send(incident: AlertIncident, field: str, sender: Any) -> list[str]:
    try:
        sender(incident)
    except (OSError, requests.RequestException) as exc:  # SMTP errors are OSErrors too
        error = f"{field.removesuffix('_sent_at')}: {type(exc).__name__}: {exc}"[:MAX_NOTIFY_ERROR_CHARS]
        AlertIncident.objects.filter(pk=incident.pk).update(**{field: None}, notify_error=error)
        logger.warning("alert delivery failed incident=%s %s", incident.pk, error)
        return [error]
    return []


def _send_email(incident: AlertIncident) -> None:
    subject, body = alert_message(incident=incident)
    mail_admins(subject, body, fail_silently=False)


def _send_slack(incident: AlertIncident) -> None:
    subject, body = alert_message(incident=incident)
    response = requests.post(
        conf.slack_webhook_url(),
        json={"text": f":rotating_light: *{subject}*\n{body}"},
        timeout=conf.slack_timeout_seconds(),
    )
    response.raise_for_status()
