"""Products: the list (search, pages), soft-deleted ones hidden; one product's page with its variants
and their options, their stock per location, its images and the collections it is in."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from shopsync.catalogue_selectors import (
    product_collections_list,
    product_media_list,
    product_options_list,
    product_page_get,
    product_stock_get,
    product_variant_rows,
)
from shopsync.metafield_selectors import metafields_list
from shopsync.views.access import get_product_for_user, get_shop_for_user, page_context


@login_required
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    shop = get_shop_for_user(request)
    query = request.GET.get("q", "").strip()
    page = product_page_get(shop=shop, query=query, page=request.GET.get("page")) if shop else None
    context = page_context(request, shop, page=page, query=query, nav="products")
    return render(request, "shopsync/product_list.html", context)


@login_required
@require_GET
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    product = get_product_for_user(request, product_id)
    options = product_options_list(product=product)
    media = product_media_list(product=product)
    variants = product_variant_rows(product=product, options=options, media=media)
    context = page_context(
        request, product.shop, product=product, options=options, media=media, variants=variants,
        stock=product_stock_get(product=product, variants=variants),
        collections=product_collections_list(product=product), metafields=metafields_list(owner=product),
        nav="products",
    )  # fmt: skip
    return render(request, "shopsync/product_detail.html", context)
