from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from shopsync.models import Customer
from shopsync.payloads.rest import parse_customer_rest
from shopsync.services.upsert import records_upsert
from tests.factories import BASE_TIME, CustomerFactory, OrderFactory


def test_customer_page_shows_shopify_fields_beside_local_ones(client_for, staff, shop):
    # given
    customer = CustomerFactory(
        shop=shop, email="ada@example.com", tags=["shopify-tag"], local_tags=["vip"], local_notes="Call first"
    )
    OrderFactory(shop=shop, customer_shopify_id=customer.shopify_id, name="#1001")
    # when
    response = client_for(staff).get(reverse("customer-detail", args=[customer.pk]))
    # then
    assert response.status_code == 200
    assert "ada@example.com" in response.text
    assert '<span class="tag">shopify-tag</span>' in response.text
    assert "Call first</textarea>" in response.text
    assert 'value="vip"' in response.text
    assert "#1001" in response.text


def test_staff_edits_local_notes_and_tags_and_only_those_change(client_for, staff, shop):
    # given
    customer = CustomerFactory(shop=shop, email="ada@example.com", note="shopify note")
    # A sync writes the Shopify fields after the page was read: the save must not put them back.
    Customer.objects.filter(pk=customer.pk).update(email="new@example.com")
    # when
    response = client_for(staff).post(
        reverse("customer-detail", args=[customer.pk]),
        {"local_notes": "  Prefers email  ", "local_tags": "vip, wholesale, VIP ,"},
    )
    # then
    customer.refresh_from_db()
    assert response.status_code == 302
    assert (customer.local_notes, customer.local_tags) == ("Prefers email", ["vip", "wholesale"])
    assert (customer.email, customer.note) == ("new@example.com", "shopify note")


def test_deleted_customer_page_says_it_was_deleted(client_for, staff, shop):
    # given
    customer = CustomerFactory(shop=shop, deleted_at=timezone.now())
    # when
    response = client_for(staff).get(reverse("customer-detail", args=[customer.pk]))
    # then
    assert "Deleted in Shopify" in response.text


def test_too_long_notes_are_refused_and_nothing_is_saved(client_for, staff, shop):
    # given
    customer = CustomerFactory(shop=shop, local_notes="before")
    # when
    response = client_for(staff).post(
        reverse("customer-detail", args=[customer.pk]), {"local_notes": "x" * 10_001, "local_tags": ""}
    )
    # then
    customer.refresh_from_db()
    assert response.status_code == 400
    assert customer.local_notes == "before"


def test_outsider_cannot_edit_another_shops_customer(client_for, outsider, shop):
    # given
    customer = CustomerFactory(shop=shop, local_notes="before")
    # when
    response = client_for(outsider).post(
        reverse("customer-detail", args=[customer.pk]), {"local_notes": "pwned"}
    )
    # then
    customer.refresh_from_db()
    assert response.status_code == 404
    assert customer.local_notes == "before"


def test_local_notes_and_tags_survive_a_resync_of_the_customer(client_for, staff, shop):
    # given
    customer = CustomerFactory(shop=shop, email="old@example.com", shopify_updated_at=BASE_TIME)
    client_for(staff).post(
        reverse("customer-detail", args=[customer.pk]),
        {"local_notes": "Met at the fair", "local_tags": "vip"},
    )
    newer = parse_customer_rest(
        {
            "id": customer.shopify_id,
            "updated_at": "2025-06-01T00:00:00Z",
            "email": "new@example.com",
            "note": "hi",
        }
    )
    # when
    records_upsert(shop=shop, resource="customers", records=[newer])
    # then
    customer.refresh_from_db()
    assert (customer.email, customer.note) == ("new@example.com", "hi")
    assert (customer.local_notes, customer.local_tags) == ("Met at the fair", ["vip"])
