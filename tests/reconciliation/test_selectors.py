"""The newest report per (shop, resource) and the newest health sample per (shop, kind), on either
backend (these are in the SQLite lane: DISTINCT ON, PostgreSQL's only, once made them fail there)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciliation.models import ReconciliationReport, SyncHealthMetric
from reconciliation.selectors import (
    health_metrics_latest,
    health_metrics_latest_all,
    reconciliation_reports_latest,
)
from tests.factories import ShopFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _report(shop, resource, *, minute):
    return ReconciliationReport.objects.create(
        shop=shop,
        resource=resource,
        triggered_by="beat",
        status="ok",
        started_at=T0 + timedelta(minutes=minute),
    )


def _metric(shop, kind, *, minute):
    return SyncHealthMetric.objects.create(
        shop=shop, kind=kind, value=minute, status="ok", warning_threshold=1, critical_threshold=2,
        measured_at=T0 + timedelta(minutes=minute),
    )  # fmt: skip


def test_reports_latest_is_the_newest_of_each_shop_and_resource_ties_going_to_the_later_row():
    # given
    acme, zeta = ShopFactory(domain="acme.myshopify.com"), ShopFactory(domain="zeta.myshopify.com")
    _report(acme, "orders", minute=1)
    acme_orders = _report(acme, "orders", minute=9)
    _report(acme, "customers", minute=5)
    acme_customers = _report(acme, "customers", minute=5)
    _report(zeta, "orders", minute=20)
    zeta_orders = _report(zeta, "orders", minute=30)
    ShopFactory(domain="empty.myshopify.com")
    # when
    everyone = reconciliation_reports_latest()
    one_shop = reconciliation_reports_latest(shop=acme)
    # then
    assert everyone == [acme_customers, acme_orders, zeta_orders]
    assert one_shop == [acme_customers, acme_orders]


def test_health_metrics_latest_is_the_newest_sample_of_each_kind_per_shop_in_kind_order():
    # given
    acme, zeta = ShopFactory(domain="acme.myshopify.com"), ShopFactory(domain="zeta.myshopify.com")
    _metric(acme, "order_lag", minute=1)
    acme_lag = _metric(acme, "order_lag", minute=2)
    acme_dead = _metric(acme, "dead_letters", minute=1)
    _metric(zeta, "error_rate", minute=3)
    zeta_errors = _metric(zeta, "error_rate", minute=3)
    quiet = ShopFactory(domain="quiet.myshopify.com")
    # when
    by_shop = health_metrics_latest(shops=[acme, zeta, quiet])
    only_acme = health_metrics_latest(shops=type(acme).objects.filter(pk=acme.pk))
    everyone = health_metrics_latest_all()
    # then
    assert by_shop == {acme.pk: [acme_dead, acme_lag], zeta.pk: [zeta_errors]}
    assert only_acme == {acme.pk: [acme_dead, acme_lag]}
    assert everyone == [acme_dead, acme_lag, zeta_errors]
    assert everyone[2].shop.domain == "zeta.myshopify.com"


def test_health_metrics_latest_of_no_shops_is_empty():
    # given
    _metric(ShopFactory(), "order_lag", minute=1)
    # when / then
    assert health_metrics_latest(shops=[]) == {}
