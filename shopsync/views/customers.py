"""Customers: the list (search, pages; soft-deleted ones hidden) and one customer's page, where staff
edit the notes and tags that are ours and that no sync overwrites."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from shopsync.customer_selectors import customer_addresses_list, customer_consents, customer_countries_list
from shopsync.dashboard_selectors import customer_orders_list, customer_page_get, customer_payments_list
from shopsync.forms import CustomerListFilterForm, CustomerLocalFieldsForm
from shopsync.metafield_selectors import metafields_list
from shopsync.order_extras_selectors import customer_spend_list
from shopsync.services.customers import customer_local_fields_update
from shopsync.views.access import get_customer_for_user, get_shop_for_user, page_context


@login_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    shop = get_shop_for_user(request)
    query = request.GET.get("q", "").strip()
    filter_form = CustomerListFilterForm(request.GET)
    filters = filter_form.filters()
    page = (
        customer_page_get(shop=shop, query=query, page=request.GET.get("page"), filters=filters)
        if shop
        else None
    )
    context = page_context(
        request, shop, page=page, query=query, filters=filters, filter_form=filter_form,
        countries=customer_countries_list(shop=shop) if shop else [], nav="customers",
    )  # fmt: skip
    return render(request, "shopsync/customer_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_customer_for_user(request, customer_id)
    if request.method == "POST":
        form = CustomerLocalFieldsForm(request.POST)
        if form.is_valid():
            try:
                customer_local_fields_update(
                    customer=customer,
                    notes=form.cleaned_data["local_notes"],
                    tags=form.cleaned_data["local_tags"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Notes and tags saved.")
                return redirect("customer-detail", customer_id=customer.pk)
    else:
        form = CustomerLocalFieldsForm(
            initial={"local_notes": customer.local_notes, "local_tags": ", ".join(customer.local_tags)}
        )
    context = page_context(
        request, customer.shop, customer=customer, form=form, orders=customer_orders_list(customer=customer),
        payments=customer_payments_list(customer=customer), spend=customer_spend_list(customer=customer),
        nav="customers",
        addresses=customer_addresses_list(customer=customer), consents=customer_consents(customer=customer),
        metafields=metafields_list(owner=customer),
    )  # fmt: skip
    return render(request, "shopsync/customer_detail.html", context, status=400 if form.errors else 200)
