"""HTML routes for staff (the JSON API is in `shopsync/urls.py`). Every page needs a login."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from shopsync.views import customers, dashboard, install, orders, products, settings_page, sync_status

urlpatterns: list = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", dashboard.home, name="dashboard-home"),
    path("sync/status", sync_status.sync_status, name="sync-status"),
    path("sync/now", sync_status.sync_now, name="sync-now"),
    path("settings/", settings_page.shop_settings, name="shop-settings"),
    path("settings/sync", settings_page.sync_start, name="shop-settings-sync-start"),
    path("settings/full-sync", settings_page.sync_full, name="shop-settings-full-sync"),
    path("settings/metafields", settings_page.metafield_namespaces_save, name="shop-settings-metafields"),
    path("customers/", customers.customer_list, name="customer-list"),
    path("customers/<int:customer_id>/", customers.customer_detail, name="customer-detail"),
    path("orders/", orders.order_list, name="order-list"),
    path("orders/<int:order_id>/", orders.order_detail, name="order-detail"),
    path("products/", products.product_list, name="product-list"),
    path("products/<int:product_id>/", products.product_detail, name="product-detail"),
    path("shopify/install", install.shopify_install, name="shopify-install"),
    path("shopify/callback", install.shopify_callback, name="shopify-callback"),
]
