"""The sync API (R3: parse, call a service or selector, render).

Every endpoint needs an authenticated user who is a member of the shop; any other shop is a 404.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shopsync.api_errors import error_responses
from shopsync.models import SyncSession
from shopsync.models.sync import SyncKind
from shopsync.resources import DECLARATIONS
from shopsync.selectors import shop_get_for_user, sync_session_list, sync_status_get
from shopsync.services.sync import (
    SYNC_MAX_DAYS,
    SYNC_MAX_STALE_AFTER_MINS,
    SyncInputError,
    ensure_sync,
    retry_failed_batches,
    sync_session_clear,
)

JOB_TYPES = ["all", *DECLARATIONS]
# Every endpoint answers 400 for invalid input, 403 without a signed-in user, 404 for a shop the user
# is not a member of; those with a body take JSON only (form data cannot say null, which `days` and
# `staleAfterMins` need) and answer 415 to anything else.
_READ_ERRORS = (400, 403, 404)
_WRITE_ERRORS = (400, 403, 404, 415)


def _resources(job_type: str) -> list[str] | None:
    return None if job_type == "all" else [job_type]


def _query_params(request: Request) -> dict[str, str]:
    """The query string as a plain dict. DRF reads a QueryDict like an HTML form, where an empty value
    means "not given": `?limit=` would silently mean the default instead of answering 400."""
    return request.query_params.dict()


class _ProgressSerializer(serializers.Serializer):
    class Meta:
        ref_name = "SyncProgress"

    synced = serializers.IntegerField()
    total = serializers.IntegerField(allow_null=True)


class SyncJobStartApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SyncJobStartInput"

        shop = serializers.CharField(
            required=False, allow_blank=True, help_text="Shop domain; optional with one shop."
        )
        jobType = serializers.ChoiceField(choices=JOB_TYPES, default="all")
        syncMode = serializers.ChoiceField(choices=SyncKind.values, default=SyncKind.INCREMENTAL)
        days = serializers.IntegerField(required=False, min_value=1, max_value=SYNC_MAX_DAYS, allow_null=True)
        staleAfterMins = serializers.IntegerField(
            required=False, min_value=1, max_value=SYNC_MAX_STALE_AFTER_MINS, allow_null=True
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SyncJobStartOutput"

        sessionId = serializers.IntegerField()
        reused = serializers.BooleanField()
        status = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, 202: OutputSerializer, **error_responses(*_WRITE_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        data = self._parse(request)
        shop = shop_get_for_user(user=request.user, domain=data.get("shop"))
        try:
            result = ensure_sync(
                shop=shop,
                kind=data["syncMode"],
                resources=_resources(data["jobType"]),
                triggered_by=SyncSession.Trigger.API,
                days=data.get("days"),
                stale_after_mins=data.get("staleAfterMins"),
            )
        except SyncInputError as exc:
            raise serializers.ValidationError({"detail": str(exc)}) from exc
        body = {"sessionId": result.session.pk, "reused": not result.created, "status": result.session.status}
        code = status.HTTP_202_ACCEPTED if result.created else status.HTTP_200_OK
        return Response(self.OutputSerializer(body).data, status=code)

    def _parse(self, request: Request) -> dict:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class SyncJobListApi(APIView):
    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SyncJobListFilter"

        shop = serializers.CharField(required=False, allow_blank=True)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SyncJobListOutput"

        class JobSerializer(serializers.Serializer):
            class Meta:
                ref_name = "SyncJobListJob"

            resource = serializers.CharField()
            mode = serializers.CharField()
            status = serializers.CharField()
            synced = serializers.IntegerField()
            total = serializers.IntegerField(allow_null=True)
            created = serializers.IntegerField()
            updated = serializers.IntegerField()
            skipped = serializers.IntegerField()
            failed = serializers.IntegerField()
            deleted = serializers.IntegerField()
            pages = serializers.IntegerField(source="pages_done")
            lines = serializers.IntegerField(source="lines_done")
            apiCalls = serializers.IntegerField(source="api_calls")
            failures = serializers.JSONField()

        sessionId = serializers.IntegerField(source="pk")
        mode = serializers.CharField(source="kind")
        triggeredBy = serializers.CharField(source="triggered_by")
        status = serializers.CharField()
        message = serializers.CharField()
        error = serializers.CharField()
        createdAt = serializers.DateTimeField(source="created_at")
        startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
        finishedAt = serializers.DateTimeField(source="finished_at", allow_null=True)
        durationSeconds = serializers.SerializerMethodField()
        resources = serializers.ListField(child=serializers.CharField())
        days = serializers.IntegerField(allow_null=True)
        staleAfterMins = serializers.IntegerField(source="stale_after_mins", allow_null=True)
        jobs = JobSerializer(many=True)

        def get_durationSeconds(self, session: SyncSession) -> float | None:
            duration = session.duration
            return round(duration.total_seconds(), 3) if duration is not None else None

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True), **error_responses(*_READ_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=_query_params(request))
        filters.is_valid(raise_exception=True)
        shop = shop_get_for_user(user=request.user, domain=filters.validated_data.get("shop"))
        sessions = sync_session_list(shop=shop, limit=filters.validated_data["limit"])
        return Response(self.OutputSerializer(sessions, many=True).data)


class SyncStatusApi(APIView):
    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SyncStatusFilter"

        shop = serializers.CharField(required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SyncStatusOutput"

        status = serializers.CharField()
        stage = serializers.CharField()
        mode = serializers.CharField(source="kind", allow_null=True)
        progress = serializers.DictField(child=_ProgressSerializer())
        page = serializers.IntegerField()
        message = serializers.CharField()
        updatedAt = serializers.DateTimeField(source="updated_at", allow_null=True)
        sessionId = serializers.IntegerField(source="session_id", allow_null=True)
        lastCompletedAt = serializers.DateTimeField(source="last_completed_at", allow_null=True)
        failures = serializers.ListField(child=serializers.DictField())
        failedBatches = serializers.IntegerField(source="failed_batches")

    @extend_schema(
        parameters=[FilterSerializer], responses={200: OutputSerializer, **error_responses(*_READ_ERRORS)}
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=_query_params(request))
        filters.is_valid(raise_exception=True)
        shop = shop_get_for_user(user=request.user, domain=filters.validated_data.get("shop"))
        return Response(self.OutputSerializer(sync_status_get(shop=shop)).data)


class SyncFailedBatchRetryApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SyncFailedBatchRetryInput"

        shop = serializers.CharField(required=False, allow_blank=True)
        jobType = serializers.ChoiceField(choices=JOB_TYPES, default="all")
        limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SyncFailedBatchRetryOutput"

        retriedCount = serializers.IntegerField(source="retried_count")
        stillFailedCount = serializers.IntegerField(source="still_failed_count")

    @extend_schema(
        request=InputSerializer, responses={200: OutputSerializer, **error_responses(*_WRITE_ERRORS)}
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        shop = shop_get_for_user(user=request.user, domain=data.get("shop"))
        result = retry_failed_batches(shop=shop, resources=_resources(data["jobType"]), limit=data["limit"])
        return Response(self.OutputSerializer(result).data)


class SyncSessionClearApi(APIView):
    """Clear a stuck run (staff only): the session ends cancelled and its checkpoints are dropped."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SyncSessionClearInput"

        shop = serializers.CharField(required=False, allow_blank=True)
        sessionId = serializers.IntegerField()
        reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SyncSessionClearOutput"

        sessionId = serializers.IntegerField(source="pk")
        cleared = serializers.BooleanField()
        status = serializers.CharField()

    @extend_schema(
        request=InputSerializer, responses={200: OutputSerializer, **error_responses(*_WRITE_ERRORS)}
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        shop = shop_get_for_user(user=request.user, domain=data.get("shop"))
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can clear a sync run.")
        session = shop.sync_sessions.filter(pk=data["sessionId"]).first()
        if session is None:
            return Response({"detail": "No such session."}, status=status.HTTP_404_NOT_FOUND)
        cleared = sync_session_clear(session=session, reason=data["reason"] or f"cleared by {request.user}")
        body = {"pk": session.pk, "cleared": cleared, "status": session.status}
        return Response(self.OutputSerializer(body).data)
