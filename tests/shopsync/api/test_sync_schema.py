from __future__ import annotations

from drf_spectacular.drainage import GENERATOR_STATS
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


def test_the_openapi_schema_renders_without_warnings_and_names_each_sync_serializer_apart(owner):
    # given
    client = APIClient()
    client.force_authenticate(owner)
    GENERATOR_STATS.reset()
    # when
    response = client.get("/api/schema/", {"format": "json"})
    # then
    assert response.status_code == 200
    assert not GENERATOR_STATS, dict(GENERATOR_STATS._warn_cache) | dict(GENERATOR_STATS._error_cache)
    components = set(response.json()["components"]["schemas"])
    assert {
        "SyncJobStartInput", "SyncJobStartOutput", "SyncJobListOutput", "SyncJobListJob", "SyncStatusOutput",
        "SyncFailedBatchRetryInput", "SyncFailedBatchRetryOutput", "SyncSessionClearInput", "SyncSessionClearOutput",
    } <= components  # fmt: skip
    assert not {"Input", "Output"} & components


def test_the_openapi_schema_documents_each_sync_endpoints_errors_and_json_only_bodies(owner):
    # given
    client = APIClient()
    client.force_authenticate(owner)
    # when
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    # then
    documented = {
        f"{method.upper()} {path}": sorted(operation["responses"])
        for path, operations in paths.items()
        if path.startswith("/api/shopify/sync/")
        for method, operation in operations.items()
    }
    assert documented == {
        "POST /api/shopify/sync/jobs/start": ["200", "202", "400", "403", "404", "415"],
        "GET /api/shopify/sync/jobs": ["200", "400", "403", "404"],
        "GET /api/shopify/sync/status": ["200", "400", "403", "404"],
        "POST /api/shopify/sync/failed-batches/retry": ["200", "400", "403", "404", "415"],
        "POST /api/shopify/sync/sessions/clear": ["200", "400", "403", "404", "415"],
    }
    start = paths["/api/shopify/sync/jobs/start"]["post"]
    assert list(start["requestBody"]["content"]) == ["application/json"]
    assert start["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorDetail"
    }
