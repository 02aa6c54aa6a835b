from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from tests.factories import CustomerFactory, ShopFactory


def test_customer_list_hides_deleted_and_other_shops_customers(client_for, staff, shop):
    # given
    kept = CustomerFactory(shop=shop, email="kept@example.com")
    CustomerFactory(shop=shop, email="gone@example.com", deleted_at=timezone.now())
    CustomerFactory(shop=ShopFactory(), email="foreign@example.com")
    # when
    response = client_for(staff).get(reverse("customer-list"))
    # then
    assert list(response.context["page"].object_list) == [kept]
    assert "gone@example.com" not in response.text
    assert "foreign@example.com" not in response.text


def test_customer_search_matches_name_email_and_local_notes(client_for, staff, shop):
    # given
    grace = CustomerFactory(shop=shop, first_name="Grace", last_name="Hopper", email="gh@example.com")
    noted = CustomerFactory(shop=shop, first_name="Alan", local_notes="Prefers phone calls")
    CustomerFactory(shop=shop, first_name="Edsger")
    client = client_for(staff)
    # when
    by_name = client.get(reverse("customer-list"), {"q": "hopper"})
    by_note = client.get(reverse("customer-list"), {"q": "phone calls"})
    nothing = client.get(reverse("customer-list"), {"q": "zzz"})
    # then
    assert list(by_name.context["page"].object_list) == [grace]
    assert list(by_note.context["page"].object_list) == [noted]
    assert "No customers match “zzz”." in nothing.text


def test_customer_list_paginates_25_per_page_keeping_the_query(client_for, staff, shop):
    # given
    CustomerFactory.create_batch(30, shop=shop, last_name="Smith")
    # when
    response = client_for(staff).get(reverse("customer-list"), {"q": "smith", "page": "2"})
    # then
    assert len(response.context["page"].object_list) == 5
    assert "Page 2 of 2" in response.text
    assert "?q=smith&amp;page=1" in response.text


def test_empty_customer_list_says_so(client_for, staff, shop):
    # when
    response = client_for(staff).get(reverse("customer-list"))
    # then
    assert "No customers yet." in response.text
