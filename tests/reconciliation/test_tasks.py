"""The reconciliation tasks, called directly as the worker would (R14)."""

from __future__ import annotations

from django.utils import timezone

from reconciliation.models import ReconciliationReport
from reconciliation.services.reconcile import reconciliation_queue
from reconciliation.tasks import reconciliation_report_run_task


def _queued(shop, resource="orders"):
    return ReconciliationReport.objects.create(
        shop=shop, resource=resource, triggered_by="api", status="queued", started_at=timezone.now()
    )


def test_a_queued_report_whose_shopify_is_unreachable_ends_failed_with_a_plain_message(shop, settings):
    # given: nothing listens on this loopback port; one attempt, so the test does not wait out backoff
    settings.SHOPIFY_HTTP_MAX_ATTEMPTS = 1
    shop.api_base_url = "http://127.0.0.1:9"
    shop.save()
    report = _queued(shop)
    # when
    reconciliation_report_run_task(report.pk)
    # then
    report.refresh_from_db()
    assert report.status == "failed"
    assert report.error.startswith(
        "Shopify could not be reached (or kept failing) after several tries; try again later. Detail: "
    )
    assert report.finished_at is not None
    assert report.shopify_count is None


def test_a_report_that_is_no_longer_queued_is_not_run_again(shop):
    # given: a redelivered task for a report another worker already finished
    report = ReconciliationReport.objects.create(
        shop=shop, resource="orders", triggered_by="api", status="ok", started_at=timezone.now(),
        finished_at=timezone.now(), shopify_count=3, local_count=3,
    )  # fmt: skip
    # when
    reconciliation_report_run_task(report.pk)
    reconciliation_report_run_task(report.pk + 1000)  # and one for a report that is gone
    # then
    report.refresh_from_db()
    assert (report.status, report.shopify_count, report.error) == ("ok", 3, "")


def test_a_shop_without_the_inventory_scopes_gets_no_locations_report(shop):
    # given: the app was never granted read_inventory nor read_locations (its locations job is skipped)
    shop.scopes = "read_orders,read_all_orders,read_customers,read_products"
    shop.save()
    # when
    reports = reconciliation_queue(shop=shop, triggered_by="api")
    # then: every other resource is compared, locations are not (Shopify would deny the reads)
    assert sorted(report.resource for report in reports) == ["collections", "customers", "orders", "products"]


def test_a_shop_with_the_inventory_scopes_gets_every_report(shop):
    # given
    shop.scopes = "read_orders,read_customers,read_products,read_inventory"
    shop.save()
    # when
    reports = reconciliation_queue(shop=shop, triggered_by="api")
    # then
    assert sorted(r.resource for r in reports) == [
        "collections",
        "customers",
        "locations",
        "orders",
        "products",
    ]
