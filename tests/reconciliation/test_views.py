from __future__ import annotations

from django.utils import timezone

from reconciliation.models import ReconciliationReport, SyncHealthMetric
from shopsync.models import SyncJob, SyncSession
from tests.factories import FailedSyncItemFactory, UserFactory


def _admin_client(client):
    client.force_login(UserFactory(username="ops", is_staff=True, is_superuser=True))
    return client


def test_healthz_reports_database_and_redis_reachable(client, db):
    # given / when
    response = client.get("/healthz")
    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_is_503_when_redis_is_unreachable(client, db, settings):
    # given: nothing listens on port 1
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "redis": "error"}


def test_metrics_expose_throughput_failures_latency_dead_letters_and_reconciliation(client, shop):
    # given
    session = SyncSession.objects.create(
        shop=shop, kind="initial", triggered_by="install", status="completed"
    )
    SyncJob.objects.create(session=session, shop=shop, resource="orders", mode="initial", status="completed",
                           synced=120, failed=3)  # fmt: skip
    FailedSyncItemFactory.create_batch(2, shop=shop)
    SyncHealthMetric.objects.create(
        shop=shop, kind="webhook_latency", value=7.5, warning_threshold=5, critical_threshold=30, status="warning",
        details={"avg": 2.25, "p95": 7.5, "count": 40}, measured_at=timezone.now(),
    )  # fmt: skip
    ReconciliationReport.objects.create(
        shop=shop, resource="customers", triggered_by="beat", started_at=timezone.now(), status="warning",
        missing_count=4, finished_at=timezone.now(),
    )  # fmt: skip
    # when
    response = _admin_client(client).get("/metrics")
    # then
    text = response.content.decode()
    labels = 'shop="acme.myshopify.com"'
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert f'shopsync_records_synced_total{{resource="orders",{labels}}} 120.0' in text
    assert f'shopsync_records_failed_total{{resource="orders",{labels}}} 3.0' in text
    assert f'shopsync_webhook_latency_seconds{{{labels},stat="p95"}} 7.5' in text
    assert f'shopsync_webhook_latency_seconds{{{labels},stat="avg"}} 2.25' in text
    assert f'shopsync_health_status{{kind="webhook_latency",{labels}}} 1.0' in text
    assert f'shopsync_dead_letters{{{labels},state="open"}} 2.0' in text
    assert (
        f'shopsync_reconciliation_discrepancies{{kind="missing",resource="customers",{labels}}} 4.0' in text
    )


def test_metrics_are_not_public(client, owner):
    # given: a logged-in shop member who is not staff, and an anonymous visitor
    anonymous = client.get("/metrics")
    client.force_login(owner)
    # when
    member = client.get("/metrics")
    # then
    assert anonymous.status_code == 403
    assert member.status_code == 403


def test_metrics_are_not_for_staff_of_one_shop(client, shop):
    # given: staff, member of acme: /metrics names every shop, so it is an operator's page
    member = UserFactory(username="shop-staff", is_staff=True)
    shop.members.add(member)
    client.force_login(member)
    # when
    response = client.get("/metrics")
    # then
    assert response.status_code == 403


def test_report_page_shows_a_queued_report_polling_and_a_finished_one_with_its_findings(client, shop, owner):
    # given
    queued = ReconciliationReport.objects.create(
        shop=shop, resource="orders", triggered_by="api", status="queued", started_at=timezone.now()
    )
    done = ReconciliationReport.objects.create(
        shop=shop, resource="customers", triggered_by="api", status="warning", started_at=timezone.now(),
        finished_at=timezone.now(), shopify_count=12, local_count=11, missing_count=1, missing_ids=[73310],
    )  # fmt: skip
    client.force_login(owner)
    # when
    waiting = client.get(f"/reconciliation/reports/{queued.pk}/").content.decode()
    finished = client.get(f"/reconciliation/reports/{done.pk}/").content.decode()
    # then
    assert 'id="report-status">Queued</span>' in waiting
    assert 'hx-trigger="every 2s"' in waiting
    assert 'id="report-status">Warning</span>' in finished
    assert "73310" in finished
    assert 'hx-trigger="every 2s"' not in finished


def test_report_page_shows_why_a_run_failed(client, shop, owner):
    # given
    failed = ReconciliationReport.objects.create(
        shop=shop, resource="orders", triggered_by="api", status="failed", started_at=timezone.now(),
        finished_at=timezone.now(), error="Shopify could not be reached (or kept failing) after several tries.",
    )  # fmt: skip
    client.force_login(owner)
    # when
    page = client.get(f"/reconciliation/reports/{failed.pk}/").content.decode()
    # then
    assert "Shopify could not be reached (or kept failing) after several tries." in page


def test_report_page_of_another_shop_is_404(client, shop, outsider):
    # given
    report = ReconciliationReport.objects.create(
        shop=shop, resource="orders", triggered_by="api", status="ok", started_at=timezone.now()
    )
    client.force_login(outsider)
    # when
    response = client.get(f"/reconciliation/reports/{report.pk}/")
    # then
    assert response.status_code == 404


def test_metrics_accept_the_configured_bearer_token(client, db, settings):
    # given
    settings.METRICS_BEARER_TOKEN = "scrape-secret"
    # when
    right = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
    # then
    assert right.status_code == 200
    assert b"shopsync_dead_letters" in right.content
    assert wrong.status_code == 403


def test_report_page_says_how_many_records_differed_in_content_and_which(client, shop, owner):
    # given
    report = ReconciliationReport.objects.create(
        shop=shop, resource="orders", triggered_by="api", status="warning", started_at=timezone.now(),
        finished_at=timezone.now(), content_checked_count=200, content_mismatch_count=2,
        content_mismatch_ids=[4401, 4402], heal_requested=True, healed_at=timezone.now(),
        heal_result={"written": 2, "content_rewritten": 2},
    )  # fmt: skip
    clean = ReconciliationReport.objects.create(
        shop=shop, resource="products", triggered_by="api", status="ok", started_at=timezone.now(),
        finished_at=timezone.now(), content_checked_count=1,
    )  # fmt: skip
    client.force_login(owner)
    # when
    page = client.get(f"/reconciliation/reports/{report.pk}/").content.decode()
    matched = client.get(f"/reconciliation/reports/{clean.pk}/").content.decode()
    # then
    assert (
        "Compared 200 records field by field with Shopify's current copy: 2 differed although Shopify did "
        'not change their “updated at” <span class="muted small">(4401, 4402)</span>'
    ) in page
    assert "2 rewritten with Shopify's content" in page
    assert "Compared 1 record field by field with Shopify's current copy: all matched" in matched
