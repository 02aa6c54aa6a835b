from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from reconciliation.models import AlertIncident, ReconciliationReport, SyncHealthMetric
from tests.factories import UserFactory


def test_report_metric_and_incident_pages_render_view_only(client, shop):
    # given
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    report = ReconciliationReport.objects.create(
        shop=shop, resource="orders", triggered_by="beat", started_at=timezone.now(), status="warning",
        missing_count=1, missing_ids=[73310], heal_result={"written": 1},
    )  # fmt: skip
    metric = SyncHealthMetric.objects.create(
        shop=shop, kind="order_lag", value=3, warning_threshold=50, critical_threshold=200, status="ok",
        measured_at=timezone.now(),
    )  # fmt: skip
    incident = AlertIncident.objects.create(shop=shop, kind="reconciliation:orders", summary="Orders: 1 missing",
                                            opened_at=timezone.now(), last_seen_at=timezone.now())  # fmt: skip
    # when
    pages = [
        client.get(reverse("admin:reconciliation_reconciliationreport_change", args=[report.pk])),
        client.get(reverse("admin:reconciliation_synchealthmetric_change", args=[metric.pk])),
        client.get(reverse("admin:reconciliation_alertincident_change", args=[incident.pk])),
    ]
    # then
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert "73310" in pages[0].content.decode()
    assert all('name="_save"' not in page.content.decode() for page in pages)


def test_resolve_action_closes_an_open_incident(client, shop):
    # given
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    incident = AlertIncident.objects.create(shop=shop, kind="metric:order_lag", summary="lag",
                                            opened_at=timezone.now(), last_seen_at=timezone.now())  # fmt: skip
    # when
    client.post(
        reverse("admin:reconciliation_alertincident_changelist"),
        {"action": "resolve", "_selected_action": [incident.pk]},
    )
    # then
    incident.refresh_from_db()
    assert incident.resolved_at is not None
