"""Settings and integrations: the shop's connection, the current run and its stages, the run history,
starting a sync in a chosen mode, the guarded "Force full sync", dead letters, reconciliation, health."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from shopsync.dashboard_selectors import sync_history_list, sync_stage_steps
from shopsync.forms import ForceFullSyncForm, MetafieldNamespacesForm, SyncStartForm
from shopsync.models import Shop, SyncSession
from shopsync.models.sync import SyncKind
from shopsync.services.dead_letters import dead_letter_counts
from shopsync.services.metafields import shop_metafield_namespaces_set
from shopsync.services.sync import EnsureResult, SyncInputError, ensure_sync
from shopsync.views.access import get_required_shop_for_user, page_context


@login_required
@require_GET
def shop_settings(request: HttpRequest) -> HttpResponse:
    shop = get_required_shop_for_user(request)
    return _render(request, shop, sync_form=SyncStartForm(), full_form=ForceFullSyncForm())


@login_required
@require_POST
def sync_start(request: HttpRequest) -> HttpResponse:
    shop = get_required_shop_for_user(request)
    form = SyncStartForm(request.POST)
    if not form.is_valid():
        return _render(request, shop, sync_form=form, full_form=ForceFullSyncForm(), status=400)
    data = form.cleaned_data
    return _ensure_and_redirect(
        request, shop, kind=data["mode"], resources=data["resources"], days=data["days"],
        stale_after_mins=data["stale_after_mins"],
    )  # fmt: skip


@login_required
@require_POST
def sync_full(request: HttpRequest) -> HttpResponse:
    shop = get_required_shop_for_user(request)
    form = ForceFullSyncForm(request.POST)
    if not form.is_valid():
        return _render(request, shop, sync_form=SyncStartForm(), full_form=form, status=400)
    return _ensure_and_redirect(request, shop, kind=SyncKind.FULL)


@login_required
@require_POST
def metafield_namespaces_save(request: HttpRequest) -> HttpResponse:
    shop = get_required_shop_for_user(request)
    form = MetafieldNamespacesForm(request.POST)
    if form.is_valid():
        try:
            chosen = shop_metafield_namespaces_set(shop=shop, namespaces=form.cleaned_data["namespaces"])
        except ValidationError as exc:
            form.add_error("namespaces", exc.messages)
        else:
            shown = ", ".join(chosen) or "none"
            messages.info(
                request, f"Metafield namespaces mirrored: {shown}. Run a full sync to read them all now."
            )
            return redirect(f"{reverse('shop-settings')}?{urlencode({'shop': shop.domain})}")
    return _render(
        request,
        shop,
        sync_form=SyncStartForm(),
        full_form=ForceFullSyncForm(),
        metafields_form=form,
        status=400,
    )


def _ensure_and_redirect(request: HttpRequest, shop: Shop, *, kind: str, **options: object) -> HttpResponse:
    try:
        result = ensure_sync(shop=shop, kind=kind, triggered_by=SyncSession.Trigger.SETTINGS, **options)
    except SyncInputError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, _started_text(result))
    return redirect(f"{reverse('shop-settings')}?{urlencode({'shop': shop.domain})}")


def _started_text(result: EnsureResult) -> str:
    session = result.session
    if result.created:
        return f"{session.get_kind_display()} sync started (#{session.pk})."
    return f"{session.get_kind_display()} sync #{session.pk} is already running: showing it."


def _render(
    request: HttpRequest,
    shop: Shop,
    *,
    sync_form: SyncStartForm,
    full_form: ForceFullSyncForm,
    metafields_form: MetafieldNamespacesForm | None = None,
    status: int = 200,
) -> HttpResponse:
    metafields_form = metafields_form or MetafieldNamespacesForm(
        initial={"namespaces": ", ".join(shop.metafield_namespaces or [])}
    )
    context = page_context(
        request,
        shop,
        sync_form=sync_form,
        full_form=full_form,
        metafields_form=metafields_form,
        nav="settings",
    )
    session = context["indicator"].session
    context.update(
        stage_steps=sync_stage_steps(session=session) if session is not None else [],
        history=sync_history_list(shop=shop),
        dead_letters=dead_letter_counts(shop=shop),
        dead_letters_url=_dead_letters_admin_url(shop),
    )
    return render(request, "shopsync/settings.html", context, status=status)


def _dead_letters_admin_url(shop: Shop) -> str | None:
    try:
        changelist = reverse("admin:shopsync_failedsyncitem_changelist")
    except NoReverseMatch:  # the admin class is not registered (yet)
        return None
    return f"{changelist}?{urlencode({'state': 'exhausted', 'shop__id__exact': shop.pk})}"
