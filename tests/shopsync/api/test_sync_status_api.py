from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shopsync.models import SyncSession
from tests.factories import SyncJobFactory, SyncSessionFactory

URL = "/api/shopify/sync/status"


@pytest.fixture
def api(staff):
    client = APIClient()
    client.force_authenticate(staff)
    return client


def test_status_of_a_never_synced_shop_is_idle(api, shop):
    # given
    # when
    response = api.get(URL, {"shop": shop.domain})
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["sessionId"], body["progress"], body["lastCompletedAt"]) == (
        "idle",
        None,
        {},
        None,
    )


def test_status_shows_the_running_session_progress_per_resource(api, shop):
    # given
    done = SyncSessionFactory(
        shop=shop, status=SyncSession.Status.COMPLETED, finished_at=timezone.now() - timedelta(hours=1)
    )
    running = SyncSessionFactory(
        shop=shop,
        kind="incremental",
        status=SyncSession.Status.RUNNING,
        stage="fetching",
        message="Fetching orders: page 3",
    )
    SyncJobFactory(
        session=running,
        resource="orders",
        synced=750,
        total=5000,
        pages_done=3,
        failures=[{"page": 2, "shopify_id": 9, "reason": "bad total"}],
    )
    SyncJobFactory(session=running, resource="customers", synced=0, total=None)
    # when
    response = api.get(URL, {"shop": shop.domain})
    # then
    body = response.json()
    assert body["status"] == "running"
    assert body["stage"] == "fetching"
    assert body["sessionId"] == running.pk
    assert body["progress"] == {
        "orders": {"synced": 750, "total": 5000},
        "customers": {"synced": 0, "total": None},
    }
    assert body["page"] == 3
    assert body["message"] == "Fetching orders: page 3"
    assert body["failures"] == [{"page": 2, "shopify_id": 9, "reason": "bad total", "resource": "orders"}]
    assert body["lastCompletedAt"] is not None and body["updatedAt"] is not None
    assert done.pk != running.pk


def test_status_of_another_shop_is_404(outsider, shop):
    # given
    client = APIClient()
    client.force_authenticate(outsider)
    # when
    response = client.get(URL, {"shop": shop.domain})
    # then
    assert response.status_code == 404
