from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from shopsync.models import (
    Customer,
    CustomerAddress,
    Fulfillment,
    FulfillmentLineItem,
    OrderTransaction,
    ProductMetafield,
    ProductOption,
    Refund,
    RefundLineItem,
    RefundTransaction,
)
from tests.factories import (
    CollectionProductFactory,
    CustomerFactory,
    InventoryLevelFactory,
    LineItemFactory,
    OrderFactory,
    ProductFactory,
    ProductMediaFactory,
    ProductVariantFactory,
)


def test_order_page_shows_its_line_items_read_only(superuser_client, shop):
    # given
    order = OrderFactory(shop=shop, name="#1042")
    LineItemFactory(order=order, title="Blue widget")
    LineItemFactory(order=order, title="Red widget")
    # when
    listing = superuser_client.get(reverse("admin:shopsync_order_changelist"))
    detail = superuser_client.get(reverse("admin:shopsync_order_change", args=[order.pk]))
    # then
    [row] = listing.context["cl"].result_list
    page = detail.content.decode()
    assert row.line_item_total == 2
    assert "Blue widget" in page and "Red widget" in page
    assert 'name="_save"' not in page


def test_owner_pages_show_their_metafields(superuser_client, shop):
    # given
    product = ProductFactory(shop=shop)
    ProductMetafield.objects.create(
        shop=shop, product=product, shopify_id=9, namespace="erp", key="sku_ref", value="R-1"
    )
    # when
    response = superuser_client.get(reverse("admin:shopsync_product_change", args=[product.pk]))
    # then
    assert response.status_code == 200
    assert "sku_ref" in response.content.decode()
    assert "R-1" in response.content.decode()


def test_product_page_shows_its_variants(superuser_client, shop):
    # given
    variant = ProductVariantFactory(product__shop=shop, title="Large / Green")
    # when
    detail = superuser_client.get(reverse("admin:shopsync_product_change", args=[variant.product.pk]))
    # then
    assert detail.status_code == 200
    assert "Large / Green" in detail.content.decode()


def test_order_page_shows_its_transactions_and_product_page_its_options(superuser_client, shop):
    # given: children declared with their resources get an inline each
    order = OrderFactory(shop=shop)
    OrderTransaction.objects.create(
        shop=shop, order=order, shopify_id=91, kind="authorization", gateway="bogus-gw"
    )
    variant = ProductVariantFactory(product__shop=shop, option1="Large", option2="Green")
    ProductOption.objects.create(shop=shop, product=variant.product, shopify_id=71, name="Fabric-size",
                                 position=1, option_values=["Large"])  # fmt: skip
    # when
    order_page = superuser_client.get(
        reverse("admin:shopsync_order_change", args=[order.pk])
    ).content.decode()
    product_page = superuser_client.get(reverse("admin:shopsync_product_change", args=[variant.product.pk]))
    # then
    assert "bogus-gw" in order_page and "authorization" in order_page
    assert "Fabric-size" in product_page.content.decode()
    assert "Green" in product_page.content.decode()


def test_customer_local_fields_are_editable_and_shopify_fields_are_not(superuser_client, shop):
    # given
    customer = CustomerFactory(shop=shop, email="ada@example.com")
    url = reverse("admin:shopsync_customer_change", args=[customer.pk])
    # when
    response = superuser_client.post(
        url, {"local_notes": "Prefers phone", "local_tags": '["vip"]', "local_attributes": "{}",
              "email": "changed@example.com",
              # The read-only inlines' management forms, as the page sends them.
              "addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0",
              "metafields-TOTAL_FORMS": "0", "metafields-INITIAL_FORMS": "0"},
    )  # fmt: skip
    # then
    customer = Customer.objects.get(pk=customer.pk)
    assert response.status_code == 302
    assert customer.local_notes == "Prefers phone"
    assert customer.local_tags == ["vip"]
    assert customer.email == "ada@example.com"


def test_records_cannot_be_added_or_deleted_through_the_admin(superuser_client, shop):
    # given
    order = OrderFactory(shop=shop)
    # when
    add = superuser_client.get(reverse("admin:shopsync_order_add"))
    delete = superuser_client.post(reverse("admin:shopsync_order_delete", args=[order.pk]), {"post": "yes"})
    # then
    assert add.status_code == 403
    assert delete.status_code == 403


def test_customer_page_shows_its_address_book_and_the_list_filters_by_email_consent(superuser_client, shop):
    # given
    customer = CustomerFactory(shop=shop, email_marketing_state="subscribed", default_address_shopify_id=51)
    CustomerFactory(shop=shop, email_marketing_state="unsubscribed")
    CustomerAddress.objects.create(shop=shop, customer=customer, shopify_id=51, city="Gatineau")
    CustomerAddress.objects.create(shop=shop, customer=customer, shopify_id=52, city="Halifax")
    # when
    page = superuser_client.get(
        reverse("admin:shopsync_customer_change", args=[customer.pk])
    ).content.decode()
    listing = superuser_client.get(
        reverse("admin:shopsync_customer_changelist"), {"email_marketing_state": "subscribed"}
    )
    # then
    assert "Gatineau" in page and "Halifax" in page
    assert [row.pk for row in listing.context["cl"].result_list] == [customer.pk]


def test_order_page_shows_its_extras_and_the_list_filters_by_fulfillment(superuser_client, shop):
    # given
    order = OrderFactory(
        shop=shop, fulfillment_status="fulfilled", source_name="pos", discount_codes=["SAVE10"],
        tax_lines=[{"title": "VAT", "rate": 0.25, "price": "7.50"}],
    )  # fmt: skip
    OrderFactory(shop=shop, fulfillment_status="unfulfilled")
    LineItemFactory(
        order=order, discount_allocations=[{"amount": "3.00", "application": {"index": 0, "code": "SAVE10"}}]
    )
    # when
    listing = superuser_client.get(
        reverse("admin:shopsync_order_changelist"), {"fulfillment_status": "fulfilled"}
    )
    detail = superuser_client.get(reverse("admin:shopsync_order_change", args=[order.pk]))
    # then
    assert [row.pk for row in listing.context["cl"].result_list] == [order.pk]
    page = detail.content.decode()
    assert "SAVE10" in page and "pos" in page and "VAT" in page
    assert "Discount allocations" in page and "&quot;amount&quot;: &quot;3.00&quot;" in page


def test_collection_page_lists_its_members_and_product_page_its_images(superuser_client, shop):
    # given
    member = CollectionProductFactory(
        collection__shop=shop, collection__title="Summer picks", shopify_id=4242
    )
    image = ProductMediaFactory(product__shop=shop, alt="Front view")
    # when
    listing = superuser_client.get(reverse("admin:shopsync_collection_changelist"))
    detail = superuser_client.get(reverse("admin:shopsync_collection_change", args=[member.collection.pk]))
    product_page = superuser_client.get(reverse("admin:shopsync_product_change", args=[image.product.pk]))
    # then
    [row] = listing.context["cl"].result_list
    assert row.member_total == 1
    assert "Summer picks" in detail.content.decode() and "4242" in detail.content.decode()
    assert "Front view" in product_page.content.decode()


def test_location_page_counts_its_levels_and_levels_are_listed_read_only(superuser_client, shop):
    # given
    level = InventoryLevelFactory(location__shop=shop, location__name="Main warehouse", shopify_id=5151,
                                  available=7)  # fmt: skip
    InventoryLevelFactory(location=level.location)
    # when
    listing = superuser_client.get(reverse("admin:shopsync_location_changelist"))
    detail = superuser_client.get(reverse("admin:shopsync_location_change", args=[level.location.pk]))
    levels = superuser_client.get(reverse("admin:shopsync_inventorylevel_changelist"), {"q": "5151"})
    # then
    [row] = listing.context["cl"].result_list
    assert row.level_total == 2
    assert "Main warehouse" in detail.content.decode() and 'name="_save"' not in detail.content.decode()
    assert list(levels.context["cl"].result_list) == [level]


def test_order_page_links_its_refunds_and_fulfillments_whose_pages_show_their_parts(superuser_client, shop):
    # given
    order = OrderFactory(shop=shop)
    refund = Refund.objects.create(shop=shop, order=order, shopify_id=70, note="chipped mug")
    RefundLineItem.objects.create(shop=shop, refund=refund, shopify_id=71, quantity=1, restock_type="return")
    fulfillment = Fulfillment.objects.create(shop=shop, order=order, shopify_id=60, tracking_number="1Z999")
    FulfillmentLineItem.objects.create(shop=shop, fulfillment=fulfillment, shopify_id=61, quantity=3)
    # when
    order_page = superuser_client.get(
        reverse("admin:shopsync_order_change", args=[order.pk])
    ).content.decode()
    refund_page = superuser_client.get(reverse("admin:shopsync_refund_change", args=[refund.pk]))
    fulfillment_page = superuser_client.get(
        reverse("admin:shopsync_fulfillment_change", args=[fulfillment.pk])
    )
    # then
    assert "chipped mug" in order_page and "1Z999" in order_page
    assert reverse("admin:shopsync_refund_change", args=[refund.pk]) in order_page
    assert refund_page.status_code == fulfillment_page.status_code == 200
    assert "return" in refund_page.content.decode()
    assert 'name="_save"' not in refund_page.content.decode()
    assert "Fulfillment line items" in fulfillment_page.content.decode()


def test_a_refund_page_shows_the_transactions_that_paid_it_back_and_the_order_page_links_them(
    superuser_client, shop
):
    # given: a refund paid back by a transaction we hold and one not synced yet
    order = OrderFactory(shop=shop)
    refund = Refund.objects.create(shop=shop, order=order, shopify_id=70)
    RefundTransaction.objects.create(shop=shop, refund=refund, shopify_id=41)
    RefundTransaction.objects.create(shop=shop, refund=refund, shopify_id=42)
    OrderTransaction.objects.create(shop=shop, order=order, shopify_id=41, kind="refund", status="success",
                                    amount=Decimal("20.00"), currency="USD", gateway="bogus")  # fmt: skip
    OrderTransaction.objects.create(shop=shop, order=order, shopify_id=40, kind="sale", status="success",
                                    amount=Decimal("58.00"), currency="USD")  # fmt: skip
    # when
    refund_page = superuser_client.get(
        reverse("admin:shopsync_refund_change", args=[refund.pk])
    ).content.decode()
    order_page = superuser_client.get(
        reverse("admin:shopsync_order_change", args=[order.pk])
    ).content.decode()
    # then: the refund names its transactions as held; the order's refund transaction links the refund
    assert "refund 20.00 USD via bogus (success)" in refund_page
    assert "not synced yet" in refund_page
    link = reverse("admin:shopsync_refund_change", args=[refund.pk])
    assert f'<a href="{link}">Refund 70</a>' in order_page
    assert order_page.count("Refund 70</a>") == 1  # the sale paid no refund back
