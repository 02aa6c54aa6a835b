from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("webhooks/", include("webhooks.urls")),
    path("", include("reconciliation.urls")),
    path("", include("shopsync.urls")),
    path("", include("shopsync.web_urls")),
]
