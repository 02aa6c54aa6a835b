from __future__ import annotations

from datetime import UTC, datetime

from rest_framework.test import APIClient

from shopsync.models import Customer, FailedSyncItem
from shopsync.payloads.records import CustomerRecord
from shopsync.services.sync.record_codec import record_to_json

URL = "/api/shopify/sync/failed-batches/retry"


def _failed_batch(shop, shopify_id: int) -> FailedSyncItem:
    record = CustomerRecord(shopify_id=shopify_id, shopify_created_at=None,
                            shopify_updated_at=datetime(2025, 5, 1, tzinfo=UTC), email=f"c{shopify_id}@example.com")  # fmt: skip
    return FailedSyncItem.objects.create(
        shop=shop, entity_type="batch", error_message="deadlock",
        payload={"resource": "customers", "mode": "latest_wins", "format": "records",
                 "records": [record_to_json(record)]},
    )  # fmt: skip


def test_retry_writes_the_failed_batches_and_reports_counts(owner, shop):
    # given
    batches = [_failed_batch(shop, 1), _failed_batch(shop, 2)]
    client = APIClient()
    client.force_authenticate(owner)
    # when
    response = client.post(URL, {"shop": shop.domain}, format="json")
    # then
    assert response.status_code == 200
    assert response.json() == {"retriedCount": 2, "stillFailedCount": 0}
    assert sorted(Customer.objects.filter(shop=shop).values_list("shopify_id", flat=True)) == [1, 2]
    assert {b.resolution for b in FailedSyncItem.objects.filter(pk__in=[b.pk for b in batches])} == {
        "success"
    }


def test_retry_only_touches_the_chosen_resource(owner, shop):
    # given
    _failed_batch(shop, 1)
    client = APIClient()
    client.force_authenticate(owner)
    # when
    response = client.post(URL, {"shop": shop.domain, "jobType": "orders"}, format="json")
    # then
    assert response.json() == {"retriedCount": 0, "stillFailedCount": 0}
    assert Customer.objects.count() == 0


def test_retry_for_another_shop_is_404(outsider, shop):
    # given
    _failed_batch(shop, 1)
    client = APIClient()
    client.force_authenticate(outsider)
    # when
    response = client.post(URL, {"shop": shop.domain}, format="json")
    # then
    assert response.status_code == 404
    assert Customer.objects.count() == 0
