"""The address book through the write path: replaced with each newer customer, kept by a REST body
that may be cut; the locale kept by a REST body (which has none)."""

from __future__ import annotations

import pytest

from shopsync.models import Customer, CustomerAddress
from shopsync.payloads.records import CustomerAddressRecord
from shopsync.resources import Resource
from shopsync.services.upsert import records_upsert

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _address(shopify_id: int, city: str = "Ottawa") -> CustomerAddressRecord:
    return CustomerAddressRecord(shopify_id=shopify_id, city=city, country_code="CA")


def _book(shop) -> list[tuple[int, str]]:
    return list(
        CustomerAddress.objects.filter(shop=shop).order_by("shopify_id").values_list("shopify_id", "city")
    )


def test_a_newer_customer_replaces_its_addresses_and_says_which_is_the_default(shop, make_customer):
    # given
    records_upsert(shop=shop, resource=Resource.CUSTOMERS,
                   records=[make_customer(1, addresses=[_address(11), _address(12)], default_address_shopify_id=11)])  # fmt: skip
    # when: 11 removed, 12 edited, 13 added and made the default
    records_upsert(shop=shop, resource=Resource.CUSTOMERS, records=[
        make_customer(1, version=1, addresses=[_address(12, "Laval"), _address(13)], default_address_shopify_id=13)
    ])  # fmt: skip
    # then
    assert _book(shop) == [(12, "Laval"), (13, "Ottawa")]
    assert Customer.objects.get(shop=shop, shopify_id=1).default_address_shopify_id == 13


def test_an_older_customer_leaves_the_addresses_alone(shop, make_customer):
    # given
    records_upsert(shop=shop, resource=Resource.CUSTOMERS,
                   records=[make_customer(1, version=2, addresses=[_address(11)])])  # fmt: skip
    # when
    records_upsert(shop=shop, resource=Resource.CUSTOMERS,
                   records=[make_customer(1, version=1, addresses=[])])  # fmt: skip
    # then
    assert _book(shop) == [(11, "Ottawa")]


def test_a_body_without_addresses_or_locale_keeps_them(shop, make_customer):
    # given: from GraphQL
    records_upsert(shop=shop, resource=Resource.CUSTOMERS,
                   records=[make_customer(1, locale="fr", addresses=[_address(11)])])  # fmt: skip
    # when: a newer REST body, no locale and a possibly cut address list (None)
    records_upsert(shop=shop, resource=Resource.CUSTOMERS,
                   records=[make_customer(1, version=1, locale=None, addresses=None, first_name="new")])  # fmt: skip
    # then
    customer = Customer.objects.get(shop=shop, shopify_id=1)
    assert (customer.locale, customer.first_name) == ("fr", "new")
    assert _book(shop) == [(11, "Ottawa")]


def test_a_newer_locale_replaces_the_stored_one(shop, make_customer):
    # given
    records_upsert(shop=shop, resource=Resource.CUSTOMERS, records=[make_customer(1, locale="fr")])
    # when
    records_upsert(shop=shop, resource=Resource.CUSTOMERS, records=[make_customer(1, version=1, locale="de")])
    # then
    assert Customer.objects.get(shop=shop, shopify_id=1).locale == "de"
