"""A customer in full through webhooks (contract §8.6, §8.14): a consent topic names the customer,
which is fetched by id; `customers/update` carries the address book and the consent."""

from __future__ import annotations

import uuid

import pytest

from shopsync.models import Customer, CustomerAddress
from tests.factories import ShopFactory
from tests.webhooks.factories import delivery_process
from webhooks.models import WebhookLog

EMAIL_TOPIC = "customers_email_marketing_consent/update"
SMS_TOPIC = "customers_marketing_consent/update"


@pytest.fixture
def sim_shop(simulator, db):
    domain = f"cu-{uuid.uuid4().hex[:8]}.myshopify.com"
    token = f"shpat_{uuid.uuid4().hex}"
    simulator.control.create_shop(domain, token=token, orders=0, customers=6, products=0, seed=11)
    shop = ShopFactory(domain=domain, access_token=token, api_base_url=f"{simulator.base_url}/shops/{domain}",
                       api_version="2026-01")  # fmt: skip
    shop.control = lambda method, path, **body: simulator.control.call(
        method, f"/shops/{domain}{path}", json=body or None
    )
    shop.truth = lambda: {
        row["id"]: row for row in simulator.control.truth("customers", full=True, shop=domain)["records"]
    }
    yield shop
    simulator.control.delete_shop(domain)


@pytest.mark.e2e
def test_an_email_consent_change_fetches_the_customer_with_its_consent_and_addresses(sim_shop):
    # given: a customer with an email and more addresses than the first page of a by-id query (5),
    # its consent changed in Shopify
    customer_id = next(i for i, row in sim_shop.truth().items() if row["record"]["email"])
    for n in range(6):
        sim_shop.control(
            "POST", f"/customers/{customer_id}/addresses", address1=f"{n} Bay St", city="Toronto"
        )
    changed = sim_shop.control("POST", f"/customers/{customer_id}/marketing_consent",
                               channel="email", state="unsubscribed", opt_in_level="confirmed_opt_in")["customer"]  # fmt: skip
    # when: the consent topic, whose body names only the customer
    log = delivery_process(
        sim_shop, EMAIL_TOPIC, {"customer_id": customer_id, "email_address": changed["email"]}
    )
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    stored = Customer.objects.get(shop=sim_shop, shopify_id=customer_id)
    assert (stored.email_marketing_state, stored.email_marketing_opt_in_level) == (
        "unsubscribed",
        "confirmed_opt_in",
    )
    assert stored.email_marketing_updated_at is not None and stored.locale
    truth = sim_shop.truth()[customer_id]
    assert sorted(
        CustomerAddress.objects.filter(customer=stored).values_list("shopify_id", flat=True)
    ) == sorted(a["id"] for a in truth["beyond_rest"]["addresses"])


@pytest.mark.e2e
def test_a_consent_change_of_a_customer_shopify_does_not_have_is_not_applied(sim_shop):
    # when
    log = delivery_process(sim_shop, SMS_TOPIC, {"customer_id": 999_999_999, "phone_number": "+15550000000"})
    # then
    assert log.status == WebhookLog.Status.IGNORED
    assert "999999999" in log.last_error
    assert not Customer.objects.filter(shop=sim_shop).exists()


def test_a_consent_body_without_a_customer_id_is_dead_lettered(shop):
    # when
    log = delivery_process(shop, EMAIL_TOPIC, {"email_address": "a@example.com"})
    # then
    assert log.status == WebhookLog.Status.DEAD
    assert "customer_id" in log.last_error


@pytest.mark.e2e
def test_customers_update_replaces_the_address_book_and_moves_the_default(sim_shop):
    # given: the customer stored with its addresses, then one added as the default in Shopify
    customer_id = next(iter(sim_shop.truth()))
    truth = sim_shop.truth()[customer_id]
    delivery_process(sim_shop, "customers/update", truth["record"])
    added = sim_shop.control("POST", f"/customers/{customer_id}/addresses",
                             address1="5 New Rd", city="Regina", country_code="CA", default=True)["customer_address"]  # fmt: skip
    # when
    log = delivery_process(sim_shop, "customers/update", sim_shop.truth()[customer_id]["record"])
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    stored = Customer.objects.get(shop=sim_shop, shopify_id=customer_id)
    assert stored.default_address_shopify_id == added["id"]
    assert CustomerAddress.objects.get(customer=stored, shopify_id=added["id"]).city == "Regina"
    assert (
        CustomerAddress.objects.filter(customer=stored).count() == len(truth["beyond_rest"]["addresses"]) + 1
    )
