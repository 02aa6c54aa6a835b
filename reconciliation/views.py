"""Plain views: a reconciliation report's page, liveness (`/healthz`) and the Prometheus exposition
(`/metrics`)."""

from __future__ import annotations

import hmac
import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from reconciliation import conf
from reconciliation.metrics import metrics_exposition
from reconciliation.selectors import reconciliation_report_get_for_user
from shopsync.views.access import login_required_htmx, page_context

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 1.0


@login_required_htmx
@require_GET
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    """One report; while it is queued or running the page polls itself (htmx) until it is done."""
    report = reconciliation_report_get_for_user(user=request.user, report_id=report_id)
    if report is None:
        raise Http404("No such report.")
    context = page_context(request, report.shop, report=report, nav="settings")
    return render(request, "reconciliation/report_detail.html", context)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Cheap and unauthenticated: can we reach the database and the broker? 200 or 503."""
    checks = {"database": _database_check(), "redis": _redis_check()}
    healthy = all(result in ("ok", "skipped") for result in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus scrape, an operator's endpoint: a bearer token when METRICS_BEARER_TOKEN is set,
    else a superuser's session (it covers every shop: staff of one shop may not read it)."""
    if not _may_scrape(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)


def _may_scrape(request: HttpRequest) -> bool:
    token = conf.metrics_bearer_token()
    if token:
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(offered.encode(), token.encode())
    return bool(request.user.is_authenticated and request.user.is_superuser)


def _database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down"; the reason goes to the log
        logger.warning("healthz: database unreachable: %s", exc)
        return "error"
    return "ok"


def _redis_check() -> str:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return "skipped"  # the filesystem broker of a dev machine has nothing to ping
    try:
        client = redis.Redis.from_url(
            url, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        logger.warning("healthz: redis unreachable: %s", exc)
        return "error"
    return "ok"
