"""Reconciliation and health APIs (R3: parse, call a service or selector, render)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reconciliation.models import ReconciliationReport, ResourceName
from reconciliation.selectors import health_overview, health_shops_for_user, reconciliation_reports_latest
from reconciliation.services.reconcile import reconciliation_run
from shopsync.api_errors import error_responses
from shopsync.domains import normalize_shop_domain
from shopsync.models import Shop


class _ReportSerializer(serializers.Serializer):
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
    heal_requested = serializers.BooleanField()
    healed_at = serializers.DateTimeField(allow_null=True)
    heal_result = serializers.DictField()
    error = serializers.CharField()


class ReconciliationReportListApi(APIView):
    """Latest reports per shop and resource. `?run=1&shop=DOMAIN[&heal=1][&resource=orders]` runs a
    reconciliation first, in the request (it waits on Shopify's export: meant for operators and small
    stores; the daily beat run and `manage.py reconcile` cover the rest)."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="ReconciliationReportListInput")
    class InputSerializer(serializers.Serializer):
        shop = serializers.CharField(required=False, allow_blank=True)
        run = serializers.BooleanField(default=False)
        heal = serializers.BooleanField(default=False)
        resource = serializers.ChoiceField(choices=ResourceName.values, required=False)

        def validate(self, attrs: dict) -> dict:
            if attrs["run"] and not attrs.get("shop"):
                raise serializers.ValidationError({"shop": "run=1 needs the shop's domain."})
            return attrs

    @extend_schema_serializer(component_name="ReconciliationReportListOutput")
    class OutputSerializer(serializers.Serializer):
        ran = serializers.BooleanField()
        reports = _ReportSerializer(many=True)

    @extend_schema(
        parameters=[InputSerializer], responses={200: OutputSerializer, **error_responses(400, 403, 404)}
    )
    def get(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        shop = _shop_by_domain(data["shop"]) if data.get("shop") else None
        if data["run"] and shop is not None:
            resources = [data["resource"]] if data.get("resource") else None
            reports = reconciliation_run(
                shop=shop,
                heal=data["heal"],
                resources=resources,
                triggered_by=ReconciliationReport.Trigger.API,
            )
        else:
            reports = reconciliation_reports_latest(shop=shop)
        return Response(self.OutputSerializer({"ran": data["run"], "reports": reports}).data)


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
    """The latest health sample of each measure, per shop the user may see (staff: all)."""

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


def _shop_by_domain(domain: str) -> Shop:
    return get_object_or_404(Shop, domain=normalize_shop_domain(domain))
