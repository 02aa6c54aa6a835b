from __future__ import annotations

from django.urls import path

from reconciliation import apis, views

urlpatterns = [
    path(
        "api/admin/reconciliation",
        apis.ReconciliationReportListApi.as_view(),
        name="reconciliation-api-reports",
    ),
    path(
        "api/admin/reconciliation/<int:report_id>",
        apis.ReconciliationReportDetailApi.as_view(),
        name="reconciliation-api-report-detail",
    ),
    path("api/health/", apis.HealthApi.as_view(), name="reconciliation-api-health"),
    path(
        "reconciliation/reports/<int:report_id>/",
        views.report_detail,
        name="reconciliation-report-detail",
    ),
    path("healthz", views.healthz, name="reconciliation-healthz"),
    path("metrics", views.metrics, name="reconciliation-metrics"),
]
