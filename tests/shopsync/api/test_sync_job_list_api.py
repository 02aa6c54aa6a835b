from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import ShopFactory, SyncJobFactory, SyncSessionFactory

URL = "/api/shopify/sync/jobs"


@pytest.fixture
def api(owner):
    client = APIClient()
    client.force_authenticate(owner)
    return client


def test_history_lists_the_shops_sessions_newest_first_with_counts_and_duration(api, shop):
    # given
    started = timezone.now() - timedelta(minutes=10)
    older = SyncSessionFactory(
        shop=shop, status="completed", started_at=started, finished_at=started + timedelta(seconds=90)
    )
    SyncJobFactory(
        session=older, resource="orders", status="completed", synced=10, created=7, updated=2, skipped=1
    )
    newer = SyncSessionFactory(shop=shop, kind="update", stale_after_mins=60, triggered_by="api")
    SyncSessionFactory(shop=ShopFactory())  # another shop's
    # when
    response = api.get(URL, {"shop": shop.domain})
    # then
    assert response.status_code == 200
    body = response.json()
    assert [row["sessionId"] for row in body] == [newer.pk, older.pk]
    assert (
        body[0]["mode"],
        body[0]["triggeredBy"],
        body[0]["staleAfterMins"],
        body[0]["durationSeconds"],
    ) == ("update", "api", 60, None)
    assert body[1]["durationSeconds"] == 90.0
    (job,) = body[1]["jobs"]
    assert (job["resource"], job["synced"], job["created"], job["updated"], job["skipped"]) == (
        "orders",
        10,
        7,
        2,
        1,
    )


def test_history_of_another_shop_is_404(outsider, shop):
    # given
    client = APIClient()
    client.force_authenticate(outsider)
    # when
    response = client.get(URL, {"shop": shop.domain})
    # then
    assert response.status_code == 404


@pytest.mark.parametrize("query", ["limit=", "limit=abc"])
def test_history_with_a_limit_that_is_not_a_number_is_400(api, shop, query):
    # given: DRF reads a query string like a form, where `limit=` would have meant "not given"
    # when
    response = api.get(f"{URL}?shop={shop.domain}&{query}")
    # then
    assert response.status_code == 400
    assert response.json() == {"limit": ["A valid integer is required."]}
