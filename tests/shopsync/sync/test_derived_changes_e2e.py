"""End to end: changes Shopify makes without moving `updated_at`. Deleting a product clears the
product and variant ids on the line items that sold it (a deleted variant, its variant id), and the
orders keep their version: the mirror applies it when it learns of the cause (the delete webhook, a
full sync's absence, the product's newer version), against the simulator over HTTP."""

from __future__ import annotations

import orjson
import pytest

from shopsync.models import LineItem, Order, ProductVariant, SyncSession
from shopsync.resources import Resource
from tests.shopsync.sync.test_sync_e2e import _run_inline, assert_db_equals_truth
from tests.webhooks.factories import WebhookLogFactory
from webhooks.services.processing import webhook_log_process

pytestmark = pytest.mark.e2e

CAUGHT_UP = (Resource.ORDERS, Resource.PRODUCTS)


def _synced_shop(sim_shop):
    shop = sim_shop(orders=20, customers=6, products=4)
    assert _run_inline(shop).status == SyncSession.Status.COMPLETED
    return shop


def _best_seller(shop) -> int:
    """The product on the most line items."""
    sold = LineItem.objects.filter(shop=shop, product_shopify_id__isnull=False)
    products = list(sold.values_list("product_shopify_id", flat=True))
    return max(set(products), key=products.count)


def _order_versions(shop, simulator) -> tuple[dict, dict]:
    ours = dict(Order.objects.filter(shop=shop).values_list("shopify_id", "shopify_updated_at"))
    truth = simulator.control.truth("orders", shop=shop.sim_domain)["records"]
    return ours, {row["id"]: row["updated_at"] for row in truth}


def _lines_of(shop, *, product: int | None = None, variants: set[int] | None = None):
    lines = LineItem.objects.filter(shop=shop)
    return (
        lines.filter(product_shopify_id=product)
        if variants is None
        else lines.filter(variant_shopify_id__in=variants)
    )


def test_a_products_delete_webhook_clears_its_line_items_and_no_order_moves(simulator, sim_shop):
    # given: a synced shop; a product sold on some line items is deleted in Shopify
    shop = _synced_shop(sim_shop)
    product = _best_seller(shop)
    lines = list(_lines_of(shop, product=product).values_list("shopify_id", flat=True))
    versions = _order_versions(shop, simulator)
    simulator.control.delete("products", product, shop=shop.sim_domain)
    # when: its webhook is processed
    log = WebhookLogFactory(
        shop=shop, topic="products/delete", shopify_id=product, body=orjson.dumps({"id": product})
    )
    webhook_log_process(webhook_log_id=log.pk)
    # then
    assert lines
    cleared = LineItem.objects.filter(shop=shop, shopify_id__in=lines)
    assert set(cleared.values_list("product_shopify_id", "variant_shopify_id")) == {(None, None)}
    assert _order_versions(shop, simulator) == versions
    assert_db_equals_truth(simulator, shop, CAUGHT_UP)


def test_a_full_sync_that_finds_a_product_gone_clears_its_line_items(simulator, sim_shop):
    # given: a synced shop; a product is deleted in Shopify and its webhook lost
    shop = _synced_shop(sim_shop)
    product = _best_seller(shop)
    assert _lines_of(shop, product=product).exists()
    versions = _order_versions(shop, simulator)
    simulator.control.delete("products", product, shop=shop.sim_domain)
    # when
    session = _run_inline(shop, kind="full", resources=["products"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert session.jobs.get(resource="products").deleted == 1
    assert not _lines_of(shop, product=product).exists()
    assert _order_versions(shop, simulator) == versions
    assert_db_equals_truth(simulator, shop, CAUGHT_UP)


def test_a_product_version_without_some_variants_clears_those_variants_on_line_items(simulator, sim_shop):
    # given: a synced shop; Shopify removes all but one of the best seller's variants
    shop = _synced_shop(sim_shop)
    product = _best_seller(shop)
    variants = set(
        ProductVariant.objects.filter(shop=shop, product__shopify_id=product).values_list(
            "shopify_id", flat=True
        )
    )
    assert len(variants) > 1
    versions = _order_versions(shop, simulator)
    updated = simulator.control.update(
        "products", product, shop=shop.sim_domain, remove_variants=len(variants) - 1
    )
    left = {variant["id"] for variant in updated["variants"]}
    removed_lines = list(_lines_of(shop, variants=variants - left).values_list("shopify_id", flat=True))
    # when: an incremental run reads the product's new version
    session = _run_inline(shop, kind="incremental", resources=["products"])
    # then: the line items of the removed variants keep the product and lose the variant
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert len(left) == 1 and removed_lines
    stored = ProductVariant.objects.filter(shop=shop, product__shopify_id=product)
    assert set(stored.values_list("shopify_id", flat=True)) == left
    cleared = LineItem.objects.filter(shop=shop, shopify_id__in=removed_lines)
    assert set(cleared.values_list("product_shopify_id", "variant_shopify_id")) == {(product, None)}
    assert _order_versions(shop, simulator) == versions
    assert_db_equals_truth(simulator, shop, CAUGHT_UP)
