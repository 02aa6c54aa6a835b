"""Who may see what: every page works on one shop the user is a member of.

The current shop comes from `?shop=<domain>` (which also makes it the session's choice), else the
session's earlier choice, else the user's first shop. A shop the user is not a member of is a 404,
so outsiders learn nothing about which shops exist.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, resolve_url

from shopsync.dashboard_selectors import shops_for_user, sync_indicator_get
from shopsync.domains import normalize_shop_domain
from shopsync.models import Customer, Order, Product, Shop

SESSION_SHOP_KEY = "shopsync_current_shop_id"


def get_shop_for_user(request: HttpRequest) -> Shop | None:
    """The current shop, or None when the user belongs to no shop yet (pages show an empty state)."""
    shops = shops_for_user(user=request.user)
    domain = request.GET.get("shop") or request.POST.get("shop")
    if domain:
        shop = shops.filter(domain=normalize_shop_domain(domain)).first()
        if shop is None:
            raise Http404("No such shop.")
        request.session[SESSION_SHOP_KEY] = shop.pk
        return shop
    chosen = request.session.get(SESSION_SHOP_KEY)
    shop = shops.filter(pk=chosen).first() if chosen else None
    return shop or shops.first()


def get_required_shop_for_user(request: HttpRequest) -> Shop:
    shop = get_shop_for_user(request)
    if shop is None:
        raise Http404("No shop.")
    return shop


def get_customer_for_user(request: HttpRequest, customer_id: int) -> Customer:
    customer = get_object_or_404(
        Customer.objects.select_related("shop"), pk=customer_id, shop__members=request.user
    )
    request.session[SESSION_SHOP_KEY] = customer.shop_id
    return customer


def get_order_for_user(request: HttpRequest, order_id: int) -> Order:
    """An order of a shop the user is a member of (else 404); deleted ones stay viewable as records."""
    order = get_object_or_404(Order.objects.select_related("shop"), pk=order_id, shop__members=request.user)
    request.session[SESSION_SHOP_KEY] = order.shop_id
    return order


def get_product_for_user(request: HttpRequest, product_id: int) -> Product:
    """A product of a shop the user is a member of (else 404); deleted ones stay viewable as records."""
    product = get_object_or_404(
        Product.objects.select_related("shop"), pk=product_id, shop__members=request.user
    )
    request.session[SESSION_SHOP_KEY] = product.shop_id
    return product


def page_context(request: HttpRequest, shop: Shop | None, **extra: Any) -> dict[str, Any]:
    """What the base template needs on every page: the shop switcher and the nav sync indicator."""
    return {
        "shop": shop,
        "shops": list(shops_for_user(user=request.user)),
        "indicator": sync_indicator_get(shop=shop) if shop is not None else None,
        **extra,
    }


def login_required_htmx(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`login_required` that also works for htmx: a poll whose session expired would otherwise be
    redirected to the login page and swap that whole page into the status widget. It gets an
    `HX-Redirect` instead, and htmx sends the browser to the login page."""
    protected = login_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.htmx and not request.user.is_authenticated:
            login_url = redirect_to_login(
                request.htmx.current_url_abs_path or "/", resolve_url(settings.LOGIN_URL)
            ).url
            return HttpResponse(status=204, headers={"HX-Redirect": login_url})
        return protected(request, *args, **kwargs)

    return wrapper
