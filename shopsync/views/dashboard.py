"""The home page: the current shop at a glance, its sync, and how to connect one when there is none."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from shopsync.dashboard_selectors import record_counts_get
from shopsync.forms import ShopInstallForm
from shopsync.services.install import custom_api_url_allowed
from shopsync.services.sync import sync_first_run_ensure
from shopsync.views.access import get_shop_for_user, page_context


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    shop = get_shop_for_user(request)
    if shop is not None:
        sync_first_run_ensure(shop=shop)  # auto on first run: the page then shows its live progress
    context = page_context(
        request, shop, install_form=ShopInstallForm(), nav="home", with_records=True,
        custom_api_url_allowed=custom_api_url_allowed(),
    )  # fmt: skip
    if shop is not None:
        context["counts"] = record_counts_get(shop=shop, indicator=context["indicator"])
    return render(request, "shopsync/dashboard.html", context)
