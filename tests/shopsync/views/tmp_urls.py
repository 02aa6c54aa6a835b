# TEMPORARY: config.urls cannot be imported until shopsync.services.upsert lands (reconciliation imports it).
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("webhooks/", include("webhooks.urls")),
    path("", include("shopsync.web_urls")),
]
