from __future__ import annotations

from rest_framework.test import APIClient


def test_the_openapi_schema_includes_the_sync_endpoints(owner):
    # given
    client = APIClient()
    client.force_authenticate(owner)
    # when
    response = client.get("/api/schema/", {"format": "json"})
    # then
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"post"} <= set(paths["/api/shopify/sync/jobs/start"])
    assert {"get"} <= set(paths["/api/shopify/sync/jobs"])
    assert {"get"} <= set(paths["/api/shopify/sync/status"])
    assert {"post"} <= set(paths["/api/shopify/sync/failed-batches/retry"])
    start = paths["/api/shopify/sync/jobs/start"]["post"]
    assert "requestBody" in start
