"""The customer pages: the address book and consent on a customer's page, the list filtered by
country (the default address's) and by email-marketing consent."""

from __future__ import annotations

from datetime import UTC, datetime

from django.urls import reverse

from shopsync.models import CustomerAddress
from tests.factories import CustomerFactory, ShopFactory


def _customer(shop, *, email, country=None, consent=None, **fields):
    address = (
        {"country": {"CA": "Canada", "FR": "France"}[country], "country_code": country} if country else None
    )
    return CustomerFactory(
        shop=shop, email=email, default_address=address, email_marketing_state=consent, **fields
    )


def test_customer_page_shows_every_address_the_default_first_and_the_consent(client_for, staff, shop):
    # given
    customer = _customer(
        shop, email="ada@example.com", consent="subscribed", email_marketing_opt_in_level="confirmed_opt_in",
        email_marketing_updated_at=datetime(2025, 4, 1, 9, 30, tzinfo=UTC), sms_marketing_state="unsubscribed",
        sms_marketing_collected_from="shopify", locale="fr", default_address_shopify_id=62,
    )  # fmt: skip
    CustomerAddress.objects.create(
        shop=shop, customer=customer, shopify_id=61, city="Halifax", country="Canada"
    )
    CustomerAddress.objects.create(shop=shop, customer=customer, shopify_id=62, city="Lyon", country="France")
    # when
    response = client_for(staff).get(reverse("customer-detail", args=[customer.pk]))
    # then
    page = response.text
    assert [a.shopify_id for a, _ in response.context["addresses"]] == [62, 61]
    assert page.index("Lyon") < page.index("Halifax")
    assert page.count('<span class="badge">Default</span>') == 1
    assert "Subscribed (confirmed opt-in)" in page and "since 2025-04-01 09:30" in page
    assert "Unsubscribed" in page and "(collected by Shopify)" in page
    assert "<dd>fr</dd>" in page


def test_customer_list_filters_by_country_and_email_marketing(client_for, staff, shop):
    # given
    canadian_subscriber = _customer(shop, email="a@example.com", country="CA", consent="subscribed")
    _customer(shop, email="b@example.com", country="CA", consent="unsubscribed")
    french_subscriber = _customer(shop, email="c@example.com", country="FR", consent="subscribed")
    _customer(shop, email="d@example.com")
    _customer(ShopFactory(), email="e@example.com", country="CA", consent="subscribed")
    client = client_for(staff)
    # when
    both = client.get(reverse("customer-list"), {"country": "CA", "email_marketing": "subscribed"})
    subscribed = client.get(reverse("customer-list"), {"email_marketing": "subscribed"})
    canadians = client.get(reverse("customer-list"), {"country": "ca"})
    bad = client.get(reverse("customer-list"), {"email_marketing": "nonsense", "country": "CA"})
    # then
    assert list(both.context["page"].object_list) == [canadian_subscriber]
    assert set(subscribed.context["page"].object_list) == {canadian_subscriber, french_subscriber}
    assert len(canadians.context["page"].object_list) == 2
    assert len(bad.context["page"].object_list) == 2  # the invalid filter dropped, the other kept
    assert both.context["countries"] == [("CA", "Canada"), ("FR", "France")]
    assert '<option value="CA" selected>Canada</option>' in both.text
    assert '<option value="subscribed" selected>Subscribed</option>' in both.text


def test_a_filtered_list_pages_with_its_filters_and_says_when_nothing_matches(client_for, staff, shop):
    # given
    for n in range(27):
        _customer(shop, email=f"s{n}@example.com", country="FR", consent="subscribed")
    client = client_for(staff)
    # when
    second = client.get(reverse("customer-list"), {"country": "FR", "page": "2"})
    none = client.get(reverse("customer-list"), {"email_marketing": "pending"})
    # then
    assert len(second.context["page"].object_list) == 2
    assert "?country=FR&amp;page=1" in second.text
    assert "No customers match these filters." in none.text
