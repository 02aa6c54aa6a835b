"""Store install and reconnect: the redirect to Shopify's authorize page, and its callback."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from shopsync.services.install import (
    OAUTH_SESSION_KEY,
    InstallError,
    PendingInstall,
    install_begin,
    install_complete,
)
from shopsync.views.access import page_context

ERROR_TEMPLATE = "shopsync/install_error.html"


@login_required
@require_GET
def shopify_install(request: HttpRequest) -> HttpResponse:
    try:
        start = install_begin(raw_domain=request.GET.get("shop", ""), api_url=request.GET.get("api_url"))
    except InstallError as exc:
        return _error(request, str(exc))
    request.session[OAUTH_SESSION_KEY] = start.pending.as_session_value()
    return redirect(start.authorize_url)


@login_required
@require_GET
def shopify_callback(request: HttpRequest) -> HttpResponse:
    # The nonce is single-use: popped before anything else, so a replayed callback finds none.
    pending = PendingInstall.from_session_value(request.session.pop(OAUTH_SESSION_KEY, None))
    try:
        result = install_complete(params=dict(request.GET.lists()), pending=pending, user=request.user)
    except InstallError as exc:
        return _error(request, str(exc))
    shop, sync = result.shop, result.sync
    verb = "installed" if result.shop_created else "reconnected"
    if sync.created:
        messages.success(
            request, f"{shop.domain} {verb}; {sync.session.get_kind_display().lower()} sync started."
        )
    else:
        messages.success(request, f"{shop.domain} {verb}; its sync is already running (#{sync.session.pk}).")
    if result.webhooks_error:
        messages.warning(request, f"Webhooks could not be registered: {result.webhooks_error}")
    return redirect(f"{reverse('dashboard-home')}?shop={shop.domain}")


def _error(request: HttpRequest, message: str) -> HttpResponse:
    context = page_context(request, None, error_message=message)
    return render(request, ERROR_TEMPLATE, context, status=400)
