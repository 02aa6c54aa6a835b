"""Reconciliation and health APIs (R3: parse, call a service or selector, render)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reconciliation.models import ReconciliationReport, ResourceName
from reconciliation.selectors import (
    health_overview,
    health_shops_for_user,
    reconciliation_report_get_for_user,
    reconciliation_reports_latest,
    shops_visible_to,
)
from reconciliation.services.reconcile import reconciliation_queue
from shopsync.api_errors import error_responses
from shopsync.domains import normalize_shop_domain
from shopsync.models import Shop


class _ReportSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ReconciliationReport"

    id = serializers.IntegerField()
    shop = serializers.CharField(source="shop.domain")
    resource = serializers.CharField()
    status = serializers.CharField()
    triggered_by = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    snapshot_at = serializers.DateTimeField(allow_null=True)
    shopify_count = serializers.IntegerField(allow_null=True)
    shopify_snapshot_count = serializers.IntegerField(allow_null=True)
    local_count = serializers.IntegerField(allow_null=True)
    count_difference = serializers.IntegerField(allow_null=True)
    missing_count = serializers.IntegerField()
    extra_count = serializers.IntegerField()
    stale_count = serializers.IntegerField()
    missing_ids = serializers.ListField(child=serializers.IntegerField())
    extra_ids = serializers.ListField(child=serializers.IntegerField())
    stale_ids = serializers.ListField(child=serializers.IntegerField())
    content_checked_count = serializers.IntegerField()
    content_mismatch_count = serializers.IntegerField()
    content_mismatch_ids = serializers.ListField(child=serializers.IntegerField())
    heal_requested = serializers.BooleanField()
    healed_at = serializers.DateTimeField(allow_null=True)
    heal_result = serializers.DictField()
    error = serializers.CharField()


class ReconciliationReportListApi(APIView):
    """GET: the latest report per shop and resource, of the shops the user is a member of. POST: queue
    a reconciliation of one shop (all resources, or one), healing if asked; it runs on the
    maintenance worker, and the answer (202) names the queued reports to follow."""

    permission_classes = [IsAdminUser]
    parser_classes = [JSONParser]

    @extend_schema_serializer(component_name="ReconciliationReportListFilter")
    class FilterSerializer(serializers.Serializer):
        shop = serializers.CharField(required=False, allow_blank=True)
        run = serializers.BooleanField(
            default=False, help_text="No longer supported on GET (which only reads): POST to run."
        )

        def validate_run(self, value: bool) -> bool:
            if value:
                raise serializers.ValidationError(
                    "A GET only reads: POST to this URL to run a reconciliation."
                )
            return value

    @extend_schema_serializer(component_name="ReconciliationReportListOutput")
    class OutputSerializer(serializers.Serializer):
        ran = serializers.BooleanField()
        reports = _ReportSerializer(many=True)

    @extend_schema_serializer(component_name="ReconciliationRunInput")
    class InputSerializer(serializers.Serializer):
        shop = serializers.CharField(min_length=1)
        heal = serializers.BooleanField(default=False)
        resource = serializers.ChoiceField(choices=ResourceName.values, required=False)

    @extend_schema_serializer(component_name="ReconciliationRunOutput")
    class QueuedSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="ReconciliationQueuedReport")
        class QueuedReportSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            resource = serializers.CharField()
            status = serializers.CharField()
            url = serializers.CharField(help_text="The report's page.")
            api_url = serializers.CharField(help_text="The report as JSON.")

        reports = QueuedReportSerializer(many=True)

    @extend_schema(
        operation_id="reconciliation_reports_latest",
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, **error_responses(400, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        serializer = self.FilterSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        domain = serializer.validated_data.get("shop")
        shop = _shop_for_user(request, domain) if domain else None
        reports = reconciliation_reports_latest(shop=shop, shops=shops_visible_to(user=request.user))
        return Response(self.OutputSerializer({"ran": False, "reports": reports}).data)

    @extend_schema(
        operation_id="reconciliation_run",
        request=InputSerializer,
        responses={202: QueuedSerializer, **error_responses(400, 403, 404, 415)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        reports = reconciliation_queue(
            shop=_shop_for_user(request, data["shop"]),
            heal=data["heal"],
            resources=[data["resource"]] if data.get("resource") else None,
            triggered_by=ReconciliationReport.Trigger.API,
        )
        queued = [
            {"id": report.pk, "resource": report.resource, "status": report.status,
             "url": reverse("reconciliation-report-detail", args=[report.pk]),
             "api_url": reverse("reconciliation-api-report-detail", args=[report.pk])}
            for report in reports
        ]  # fmt: skip
        return Response(self.QueuedSerializer({"reports": queued}).data, status=status.HTTP_202_ACCEPTED)


class ReconciliationReportDetailApi(APIView):
    """One report: `queued` or `running` until the worker is done with it."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="reconciliation_report_retrieve",
        responses={200: _ReportSerializer, **error_responses(403, 404)},
    )
    def get(self, request: Request, report_id: int) -> Response:
        report = reconciliation_report_get_for_user(user=request.user, report_id=report_id)
        if report is None:
            raise Http404("No such report.")
        return Response(_ReportSerializer(report).data)


class _MetricSerializer(serializers.Serializer):
    kind = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    status = serializers.CharField()
    warning_threshold = serializers.FloatField()
    critical_threshold = serializers.FloatField()
    details = serializers.DictField()
    measured_at = serializers.DateTimeField()


class _IncidentSerializer(serializers.Serializer):
    kind = serializers.CharField()
    summary = serializers.CharField()
    opened_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()


class HealthApi(APIView):
    """The latest health sample of each measure, per shop the user is a member of (superusers: all)."""

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="HealthOutput")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="HealthShop")
        class ShopSerializer(serializers.Serializer):
            shop = serializers.CharField(source="shop.domain")
            status = serializers.CharField()
            metrics = _MetricSerializer(many=True)
            open_incidents = _IncidentSerializer(many=True)

        status = serializers.CharField()
        shops = ShopSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer, **error_responses(403)})
    def get(self, request: Request) -> Response:
        shops = health_overview(shops=health_shops_for_user(user=request.user))
        worst = max((entry.status for entry in shops), key=_STATUS_ORDER.index, default="ok")
        return Response(self.OutputSerializer({"status": worst, "shops": shops}).data)


_STATUS_ORDER = ["ok", "unknown", "warning", "critical"]


def _shop_for_user(request: Request, domain: str) -> Shop:
    """A shop the user may see, else 404 (whether it exists or not is not theirs to learn)."""
    return get_object_or_404(shops_visible_to(user=request.user), domain=normalize_shop_domain(domain))
