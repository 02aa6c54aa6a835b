"""Orders: the list (search, payment and fulfillment status filters, pages), soft-deleted ones hidden,
historical ones marked; one order's page with its line items, its story (placed, paid, fulfilled
with tracking, refunded, in time order), its payment timeline (transactions) and its extras (discounts, shipping, taxes, billing address, note attributes, current totals)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from shopsync.dashboard_selectors import (
    order_customer_get,
    order_line_items_list,
    order_page_get,
    order_transactions_list,
)
from shopsync.metafield_selectors import metafields_list
from shopsync.order_extras_selectors import FINANCIAL_STATUSES, FULFILLMENT_STATUSES, order_extras_get
from shopsync.order_story_selectors import order_story_list
from shopsync.views.access import get_order_for_user, get_shop_for_user, page_context


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    shop = get_shop_for_user(request)
    query = request.GET.get("q", "").strip()
    statuses = {
        "financial_status": request.GET.get("financial", "").strip(),
        "fulfillment_status": request.GET.get("fulfillment", "").strip(),
    }
    page = order_page_get(shop=shop, query=query, page=request.GET.get("page"), **statuses) if shop else None
    context = page_context(
        request, shop, page=page, query=query, nav="orders", financial_statuses=FINANCIAL_STATUSES,
        fulfillment_statuses=FULFILLMENT_STATUSES, **statuses,
    )  # fmt: skip
    return render(request, "shopsync/order_list.html", context)


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = get_order_for_user(request, order_id)
    line_items = order_line_items_list(order=order)
    context = page_context(
        request, order.shop, order=order, line_items=line_items,
        extras=order_extras_get(order=order, line_items=line_items),
        transactions=order_transactions_list(order=order), customer=order_customer_get(order=order),
        metafields=metafields_list(owner=order),
        story=order_story_list(order=order),
        nav="orders",
    )  # fmt: skip
    return render(request, "shopsync/order_detail.html", context)
