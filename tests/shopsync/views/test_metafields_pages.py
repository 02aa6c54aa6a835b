"""Metafields on the staff pages: the settings page chooses the namespaces (validated, shown back,
a dropped namespace's rows deleted, the webhook subscriptions registered again), and the order,
customer and product pages show their owner's metafields."""

from __future__ import annotations

from django.urls import reverse

from shopsync.enqueue import TaskMessage
from shopsync.models import CustomerMetafield, OrderMetafield, ProductMetafield, Shop
from tests.factories import CustomerFactory, OrderFactory, ProductFactory


def _metafield(model, owner, shopify_id: int, namespace: str, key: str, value: str):
    owner_field = {OrderMetafield: "order", CustomerMetafield: "customer", ProductMetafield: "product"}[model]
    return model.objects.create(shop=owner.shop, shopify_id=shopify_id, namespace=namespace, key=key,
                                value=value, type="single_line_text_field", **{owner_field: owner})  # fmt: skip


def test_settings_page_shows_that_no_namespace_is_mirrored_by_default(client_for, owner, shop):
    # when
    response = client_for(owner).get(reverse("shop-settings"), {"shop": shop.domain})
    # then
    assert response.status_code == 200
    assert shop.metafield_namespaces == []
    assert response.context["metafields_form"]["namespaces"].value() == ""


def test_saving_namespaces_stores_them_cleaned_drops_the_others_rows_and_registers_webhooks(
    client_for, owner, shop, django_capture_on_commit_callbacks
):
    # given: a shop mirroring erp and loyalty
    Shop.objects.filter(pk=shop.pk).update(metafield_namespaces=["erp", "loyalty"])
    product = ProductFactory(shop=shop)
    _metafield(ProductMetafield, product, 1, "erp", "external_id", "ERP-1")
    _metafield(ProductMetafield, product, 2, "loyalty", "points", "10")
    # when: loyalty dropped, custom added (spaces, a repeat and a line break as staff type them)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(owner).post(
            reverse("shop-settings-metafields"), {"shop": shop.domain, "namespaces": " erp, custom\nerp "}
        )
    # then
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.metafield_namespaces == ["custom", "erp"]
    assert list(ProductMetafield.objects.filter(shop=shop).values_list("shopify_id", flat=True)) == [1]
    assert callbacks == [TaskMessage("webhooks.tasks.webhook_subscriptions_register_task", (shop.pk,))]
    page = client_for(owner).get(reverse("shop-settings"), {"shop": shop.domain})
    assert page.context["metafields_form"]["namespaces"].value() == "custom, erp"


def test_an_invalid_namespace_is_refused_with_a_field_error_and_nothing_changes(
    client_for, owner, shop, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(owner).post(
            reverse("shop-settings-metafields"), {"shop": shop.domain, "namespaces": "erp, bad name!"}
        )
    # then
    assert response.status_code == 400
    assert "&#x27;bad name!&#x27; is not a metafield namespace" in response.text
    shop.refresh_from_db()
    assert shop.metafield_namespaces == []
    assert callbacks == []


def test_saving_the_same_namespaces_again_changes_nothing(
    client_for, owner, shop, django_capture_on_commit_callbacks
):
    # given
    Shop.objects.filter(pk=shop.pk).update(metafield_namespaces=["erp"])
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(owner).post(
            reverse("shop-settings-metafields"), {"shop": shop.domain, "namespaces": "erp"}
        )
    # then
    assert response.status_code == 302
    assert callbacks == []


def test_order_customer_and_product_pages_show_their_own_metafields(client_for, staff, shop):
    # given
    order, customer, product = OrderFactory(shop=shop), CustomerFactory(shop=shop), ProductFactory(shop=shop)
    _metafield(OrderMetafield, order, 11, "erp", "synced", "true")
    _metafield(OrderMetafield, OrderFactory(shop=shop), 12, "erp", "other_order", "x")
    _metafield(CustomerMetafield, customer, 21, "loyalty", "tier", "gold")
    _metafield(ProductMetafield, product, 32, "custom", "material", "wool")
    _metafield(ProductMetafield, product, 31, "custom", "care_guide", "Dry flat.")
    client = client_for(staff)
    # when
    pages = {
        "order": client.get(reverse("order-detail", args=[order.pk])),
        "customer": client.get(reverse("customer-detail", args=[customer.pk])),
        "product": client.get(reverse("product-detail", args=[product.pk])),
    }
    # then
    shown = {
        name: [(m.namespace, m.key, m.value) for m in page.context["metafields"]]
        for name, page in pages.items()
    }
    assert shown == {
        "order": [("erp", "synced", "true")],
        "customer": [("loyalty", "tier", "gold")],
        "product": [("custom", "care_guide", "Dry flat."), ("custom", "material", "wool")],
    }
    assert (
        '<td>material</td><td class="muted">single_line_text_field</td><td>wool</td>' in pages["product"].text
    )
    assert "other_order" not in pages["order"].text
