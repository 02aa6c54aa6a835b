from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from reconciliation.models import AlertIncident, ReconciliationReport, SyncHealthMetric
from shopsync.resources import DECLARATIONS
from tests.factories import ShopFactory, UserFactory


def _report(shop, resource, *, minutes_ago, status="ok", **fields):
    return ReconciliationReport.objects.create(
        shop=shop, resource=resource, triggered_by="beat", status=status,
        started_at=timezone.now() - timedelta(minutes=minutes_ago), **fields,
    )  # fmt: skip


def _metric(shop, kind, value, status):
    return SyncHealthMetric.objects.create(
        shop=shop, kind=kind, value=value, status=status, warning_threshold=1, critical_threshold=2,
        measured_at=timezone.now(),
    )  # fmt: skip


def test_reconciliation_api_is_for_admins_only(client, owner):
    # given
    anonymous = client.get("/api/admin/reconciliation")
    client.force_login(owner)
    # when
    member = client.get("/api/admin/reconciliation")
    # then
    assert anonymous.status_code == 403
    assert member.status_code == 403


def _ops(*shops, superuser=False):
    user = UserFactory(username="root" if superuser else "ops", is_staff=True, is_superuser=superuser)
    for shop in shops:
        shop.members.add(user)
    return user


def test_reconciliation_api_lists_the_latest_report_per_shop_and_resource(client, shop):
    # given
    _report(shop, "orders", minutes_ago=60, status="critical")
    latest = _report(shop, "orders", minutes_ago=5, status="warning", missing_count=2, missing_ids=[11, 12])
    customers = _report(shop, "customers", minutes_ago=30)
    zeta = ShopFactory(domain="zeta.myshopify.com")
    other = _report(zeta, "orders", minutes_ago=1)
    client.force_login(_ops(shop, zeta))
    # when
    everything = client.get("/api/admin/reconciliation").json()
    one_shop = client.get("/api/admin/reconciliation", {"shop": "acme.myshopify.com"}).json()
    # then
    assert everything["ran"] is False
    assert [r["id"] for r in everything["reports"]] == [customers.pk, latest.pk, other.pk]
    assert [r["id"] for r in one_shop["reports"]] == [customers.pk, latest.pk]
    assert one_shop["reports"][1]["missing_ids"] == [11, 12]
    assert one_shop["reports"][1]["status"] == "warning"


def test_reconciliation_api_shows_staff_only_their_shops_and_superusers_all(client, shop):
    # given
    mine = _report(shop, "orders", minutes_ago=5)
    theirs = _report(ShopFactory(domain="zeta.myshopify.com"), "orders", minutes_ago=1)
    client.force_login(_ops(shop))
    # when
    staff_view = client.get("/api/admin/reconciliation").json()
    asked_for_theirs = client.get("/api/admin/reconciliation", {"shop": "zeta.myshopify.com"})
    client.force_login(_ops(superuser=True))
    superuser_view = client.get("/api/admin/reconciliation").json()
    # then
    assert [r["id"] for r in staff_view["reports"]] == [mine.pk]
    assert asked_for_theirs.status_code == 404
    assert [r["id"] for r in superuser_view["reports"]] == [mine.pk, theirs.pk]


def test_a_get_with_run_runs_nothing(client, shop, django_capture_on_commit_callbacks):
    # given
    client.force_login(_ops(shop))
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.get("/api/admin/reconciliation", {"run": 1, "heal": 1, "shop": shop.domain})
    # then
    assert response.status_code == 400
    assert "POST" in response.json()["run"][0]
    assert callbacks == []
    assert not ReconciliationReport.objects.exists()


def test_a_post_queues_one_report_per_resource_and_answers_at_once(
    client, shop, django_capture_on_commit_callbacks
):
    # given: Shopify is unreachable (nothing listens on this loopback port): the request never asks it
    shop.api_base_url = "http://127.0.0.1:9"
    shop.save()
    client.force_login(_ops(shop))
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            "/api/admin/reconciliation", {"shop": shop.domain, "heal": True}, content_type="application/json"
        )
    # then
    reports = list(ReconciliationReport.objects.order_by("pk"))
    assert response.status_code == 202
    assert response.json() == {
        "reports": [
            {"id": report.pk, "resource": report.resource, "status": "queued",
             "url": f"/reconciliation/reports/{report.pk}/", "api_url": f"/api/admin/reconciliation/{report.pk}"}
            for report in reports
        ]
    }  # fmt: skip
    assert [(r.resource, r.status, r.heal_requested, r.triggered_by) for r in reports] == [
        (resource, "queued", True, "api") for resource in DECLARATIONS
    ]
    assert len(callbacks) == len(DECLARATIONS)  # one reconciliation_report_run_task each, sent after commit


def test_a_post_can_ask_for_one_resource(client, shop, django_capture_on_commit_callbacks):
    # given
    client.force_login(_ops(shop))
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            "/api/admin/reconciliation",
            {"shop": shop.domain, "resource": "products"},
            content_type="application/json",
        )
    # then
    report = ReconciliationReport.objects.get()
    assert response.status_code == 202
    assert [entry["id"] for entry in response.json()["reports"]] == [report.pk]
    assert (report.resource, report.heal_requested) == ("products", False)
    assert len(callbacks) == 1


def test_a_post_without_the_csrf_token_is_refused_for_a_session(shop, django_capture_on_commit_callbacks):
    # given: a browser session (the cookie a forged link or form would ride on)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(_ops(shop))
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = browser.post("/api/admin/reconciliation", {"shop": shop.domain, "heal": True})
    # then
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert callbacks == []
    assert not ReconciliationReport.objects.exists()


def test_running_needs_a_shop_and_one_of_the_users(client, shop, django_capture_on_commit_callbacks):
    # given
    ShopFactory(domain="zeta.myshopify.com")
    client.force_login(_ops(shop))
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        without_shop = client.post("/api/admin/reconciliation", {}, content_type="application/json")
        unknown_shop = client.post(
            "/api/admin/reconciliation", {"shop": "nope.myshopify.com"}, content_type="application/json"
        )
        not_a_member = client.post(
            "/api/admin/reconciliation", {"shop": "zeta.myshopify.com"}, content_type="application/json"
        )
    # then
    assert without_shop.status_code == 400
    assert "shop" in without_shop.json()
    assert unknown_shop.status_code == 404
    assert not_a_member.status_code == 404
    assert callbacks == []
    assert not ReconciliationReport.objects.exists()


def test_report_detail_api_shows_a_report_of_the_users_shops_only(client, shop):
    # given
    mine = _report(shop, "orders", minutes_ago=1, status="queued")
    theirs = _report(ShopFactory(domain="zeta.myshopify.com"), "orders", minutes_ago=1)
    client.force_login(_ops(shop))
    # when
    found = client.get(f"/api/admin/reconciliation/{mine.pk}")
    hidden = client.get(f"/api/admin/reconciliation/{theirs.pk}")
    # then
    assert found.status_code == 200
    assert (found.json()["id"], found.json()["status"], found.json()["shop"]) == (
        mine.pk,
        "queued",
        shop.domain,
    )
    assert hidden.status_code == 404


def test_health_api_shows_members_their_shops_and_superusers_every_shop(client, shop, owner):
    # given
    other = ShopFactory(domain="zeta.myshopify.com")
    _metric(shop, "dead_letters", 3, "critical")
    _metric(shop, "order_lag", 0, "ok")
    _metric(other, "order_lag", 0, "ok")
    AlertIncident.objects.create(shop=shop, kind="metric:dead_letters", summary="Open dead letters: 3",
                                 opened_at=timezone.now(), last_seen_at=timezone.now())  # fmt: skip
    client.force_login(owner)
    member_view = client.get("/api/health/").json()
    client.force_login(_ops(shop))
    staff_view = client.get("/api/health/").json()
    client.force_login(_ops(superuser=True))
    # when
    superuser_view = client.get("/api/health/").json()
    # then
    assert member_view["status"] == "critical"
    assert [entry["shop"] for entry in member_view["shops"]] == ["acme.myshopify.com"]
    acme = member_view["shops"][0]
    assert sorted((m["kind"], m["status"]) for m in acme["metrics"]) == [
        ("dead_letters", "critical"),
        ("order_lag", "ok"),
    ]
    assert [i["kind"] for i in acme["open_incidents"]] == ["metric:dead_letters"]
    assert [entry["shop"] for entry in staff_view["shops"]] == ["acme.myshopify.com"]
    assert [entry["shop"] for entry in superuser_view["shops"]] == [
        "acme.myshopify.com",
        "zeta.myshopify.com",
    ]
    assert superuser_view["shops"][1]["status"] == "ok"


def test_health_api_needs_a_login(client, shop):
    # given / when
    response = client.get("/api/health/")
    # then
    assert response.status_code == 403


def test_the_schema_documents_running_as_a_post_answered_202_and_get_as_a_read(client, shop):
    # given
    client.force_login(_ops(shop))
    # when
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    # then
    reports = paths["/api/admin/reconciliation"]
    assert set(reports) == {"get", "post"}
    assert set(reports["post"]["responses"]) == {"202", "400", "403", "404", "415"}
    assert "requestBody" in reports["post"]
    assert "requestBody" not in reports["get"]
    assert {"get"} == set(paths["/api/admin/reconciliation/{report_id}"])
