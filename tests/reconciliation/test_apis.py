from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from reconciliation.models import AlertIncident, ReconciliationReport, SyncHealthMetric
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


def test_reconciliation_api_lists_the_latest_report_per_shop_and_resource(client, shop):
    # given
    _report(shop, "orders", minutes_ago=60, status="critical")
    latest = _report(shop, "orders", minutes_ago=5, status="warning", missing_count=2, missing_ids=[11, 12])
    customers = _report(shop, "customers", minutes_ago=30)
    other = _report(ShopFactory(domain="zeta.myshopify.com"), "orders", minutes_ago=1)
    client.force_login(UserFactory(username="ops", is_staff=True))
    # when
    everything = client.get("/api/admin/reconciliation").json()
    one_shop = client.get("/api/admin/reconciliation", {"shop": "acme.myshopify.com"}).json()
    # then
    assert everything["ran"] is False
    assert [r["id"] for r in everything["reports"]] == [customers.pk, latest.pk, other.pk]
    assert [r["id"] for r in one_shop["reports"]] == [customers.pk, latest.pk]
    assert one_shop["reports"][1]["missing_ids"] == [11, 12]
    assert one_shop["reports"][1]["status"] == "warning"


def test_running_needs_a_shop_and_a_known_one(client, shop):
    # given
    client.force_login(UserFactory(username="ops", is_staff=True))
    # when
    without_shop = client.get("/api/admin/reconciliation", {"run": "1"})
    unknown_shop = client.get("/api/admin/reconciliation", {"run": "1", "shop": "nope.myshopify.com"})
    # then
    assert without_shop.status_code == 400
    assert "shop" in without_shop.json()
    assert unknown_shop.status_code == 404
    assert not ReconciliationReport.objects.exists()


def test_health_api_shows_members_their_shops_and_staff_every_shop(client, shop, owner):
    # given
    other = ShopFactory(domain="zeta.myshopify.com")
    _metric(shop, "dead_letters", 3, "critical")
    _metric(shop, "order_lag", 0, "ok")
    _metric(other, "order_lag", 0, "ok")
    AlertIncident.objects.create(shop=shop, kind="metric:dead_letters", summary="Open dead letters: 3",
                                 opened_at=timezone.now(), last_seen_at=timezone.now())  # fmt: skip
    client.force_login(owner)
    member_view = client.get("/api/health/").json()
    client.force_login(UserFactory(username="ops", is_staff=True))
    # when
    staff_view = client.get("/api/health/").json()
    # then
    assert member_view["status"] == "critical"
    assert [entry["shop"] for entry in member_view["shops"]] == ["acme.myshopify.com"]
    acme = member_view["shops"][0]
    assert sorted((m["kind"], m["status"]) for m in acme["metrics"]) == [
        ("dead_letters", "critical"),
        ("order_lag", "ok"),
    ]
    assert [i["kind"] for i in acme["open_incidents"]] == ["metric:dead_letters"]
    assert [entry["shop"] for entry in staff_view["shops"]] == ["acme.myshopify.com", "zeta.myshopify.com"]
    assert staff_view["shops"][1]["status"] == "ok"


def test_health_api_needs_a_login(client, shop):
    # given / when
    response = client.get("/api/health/")
    # then
    assert response.status_code == 403
