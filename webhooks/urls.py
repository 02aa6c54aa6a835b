from __future__ import annotations

from django.urls import path

from webhooks import views

urlpatterns = [
    path("shopify/", views.shopify_receive, name="webhooks-shopify-receive"),
]
