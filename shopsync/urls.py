"""shopsync routes: the sync API. HTML pages are added to this same list (names prefixed `sync-`)."""

from __future__ import annotations

from django.urls import path

from shopsync import apis

urlpatterns: list = [
    path("api/shopify/sync/jobs/start", apis.SyncJobStartApi.as_view(), name="sync-api-job-start"),
    path("api/shopify/sync/jobs", apis.SyncJobListApi.as_view(), name="sync-api-job-list"),
    path("api/shopify/sync/status", apis.SyncStatusApi.as_view(), name="sync-api-status"),
    path(
        "api/shopify/sync/failed-batches/retry",
        apis.SyncFailedBatchRetryApi.as_view(),
        name="sync-api-failed-batch-retry",
    ),
    path(
        "api/shopify/sync/sessions/clear", apis.SyncSessionClearApi.as_view(), name="sync-api-session-clear"
    ),
]
