"""The real URLconf plus `/bench/bare/`: a Django view that reads the body and answers 200, the
baseline the receiver is compared with (same server, same middleware, same process model)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as project_urlpatterns


@csrf_exempt
@require_POST
def bare(request: HttpRequest) -> HttpResponse:
    request.read()
    return HttpResponse(status=200)


urlpatterns = [path("bench/bare/", bare), *project_urlpatterns]
