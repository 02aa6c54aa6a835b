from __future__ import annotations

import pytest
from django.core import mail

from reconciliation.models import AlertIncident
from reconciliation.services.alerts import AlertDeliveryError, alert_evaluate, alert_incident_notify
from reconciliation.tasks import alert_incident_notify_task

KIND = "metric:dead_letters"


def _critical(shop, django_capture_on_commit_callbacks, summary="Open dead letters: 150"):
    with django_capture_on_commit_callbacks() as callbacks:
        outcome = alert_evaluate(shop=shop, kind=KIND, status="critical", summary=summary)
    return outcome, callbacks


def test_a_lasting_problem_sends_one_message_per_channel_per_incident(
    shop, alert_channels, django_capture_on_commit_callbacks
):
    # given: a critical reading, delivered
    first, first_callbacks = _critical(shop, django_capture_on_commit_callbacks)
    alert_incident_notify_task(first.incident.pk)
    # when: it stays critical for two more runs, recovers, then breaks again
    second, second_callbacks = _critical(shop, django_capture_on_commit_callbacks)
    third, third_callbacks = _critical(shop, django_capture_on_commit_callbacks)
    recovered = alert_evaluate(shop=shop, kind=KIND, status="ok", summary="Open dead letters: 0")
    again, again_callbacks = _critical(
        shop, django_capture_on_commit_callbacks, summary="Open dead letters: 170"
    )
    alert_incident_notify_task(again.incident.pk)
    # then
    assert (first.opened, second.opened, third.opened, again.opened) == (True, False, False, True)
    assert (len(first_callbacks), len(second_callbacks), len(third_callbacks), len(again_callbacks)) == (
        1,
        0,
        0,
        1,
    )
    assert second.incident.pk == third.incident.pk == first.incident.pk
    assert recovered.resolved is True
    assert [m.subject for m in mail.outbox] == [
        "[shopsync] CRITICAL acme.myshopify.com: Open dead letters: 150",
        "[shopsync] CRITICAL acme.myshopify.com: Open dead letters: 170",
    ]
    assert mail.outbox[0].to == ["ops@example.com"]
    slack_texts = [post["json"]["text"] for post in alert_channels.posts]
    assert len(slack_texts) == 2
    assert "Open dead letters: 150" in slack_texts[0]
    assert "Open dead letters: 170" in slack_texts[1]
    assert [(i.resolved_at is None) for i in AlertIncident.objects.filter(shop=shop).order_by("pk")] == [
        False,
        True,
    ]


def test_a_redelivered_notify_task_sends_nothing_twice(
    shop, alert_channels, django_capture_on_commit_callbacks
):
    # given
    outcome, _ = _critical(shop, django_capture_on_commit_callbacks)
    alert_incident_notify_task(outcome.incident.pk)
    # when
    alert_incident_notify_task(outcome.incident.pk)
    # then
    assert len(mail.outbox) == 1
    assert len(alert_channels.posts) == 1


def test_warning_neither_opens_nor_resolves(shop, alert_channels, django_capture_on_commit_callbacks):
    # given
    opened, _ = _critical(shop, django_capture_on_commit_callbacks)
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        warning = alert_evaluate(shop=shop, kind=KIND, status="warning", summary="Open dead letters: 30")
        other_kind = alert_evaluate(shop=shop, kind="metric:order_lag", status="warning", summary="lag 60")
    # then
    opened.incident.refresh_from_db()
    assert warning.incident is None
    assert other_kind.incident is None
    assert callbacks == []
    assert opened.incident.resolved_at is None
    assert AlertIncident.objects.filter(shop=shop).count() == 1


def test_a_failing_slack_is_retried_without_mailing_again(
    shop, alert_channels, django_capture_on_commit_callbacks
):
    # given: Slack answers 500 the first time
    outcome, _ = _critical(shop, django_capture_on_commit_callbacks)
    alert_channels.status = 500
    with pytest.raises(AlertDeliveryError, match="slack"):
        alert_incident_notify(incident=outcome.incident)
    failed = AlertIncident.objects.get(pk=outcome.incident.pk)
    # when
    alert_channels.status = 200
    alert_incident_notify(incident=failed)
    # then
    delivered = AlertIncident.objects.get(pk=outcome.incident.pk)
    assert failed.slack_sent_at is None
    assert "500" in failed.notify_error
    assert delivered.slack_sent_at is not None
    assert delivered.email_sent_at is not None
    assert len(mail.outbox) == 1
    assert len(alert_channels.posts) == 2


def test_without_channels_configured_nothing_is_sent(
    shop, settings, http_receiver, django_capture_on_commit_callbacks
):
    # given
    settings.ADMINS = []
    settings.SLACK_WEBHOOK_URL = ""
    outcome, _ = _critical(shop, django_capture_on_commit_callbacks)
    # when
    alert_incident_notify(incident=outcome.incident)
    # then
    outcome.incident.refresh_from_db()
    assert mail.outbox == []
    assert http_receiver.requests == []
    assert outcome.incident.email_sent_at is None
    assert outcome.incident.slack_sent_at is None
