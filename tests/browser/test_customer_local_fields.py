"""Staff edit a customer's local notes and tags in the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from shopsync.models import Customer
from tests.factories import CustomerFactory, OrderFactory


@pytest.mark.browser
def test_staff_edits_local_notes_and_tags_from_the_customer_list(
    page, login, screenshot, live_server, staff, shop
):
    # given
    customer = CustomerFactory(
        shop=shop, first_name="Grace", last_name="Hopper", email="grace@example.com", tags=["newsletter"]
    )
    CustomerFactory.create_batch(3, shop=shop)
    OrderFactory(shop=shop, customer_shopify_id=customer.shopify_id, name="#1042", is_historical=True)
    login(staff, path="/customers/")
    # when
    page.get_by_label("Search customers").fill("hopper")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    screenshot("search")
    page.get_by_role("link", name="Grace Hopper").click()
    page.get_by_label("Notes", exact=True).fill("Prefers email. Met at the Boston fair.")
    page.get_by_label("Tags", exact=True).fill("vip, speaker")
    page.get_by_role("button", name="Save notes and tags").click()
    # then
    expect(page.get_by_role("status").filter(has_text="Notes and tags saved.")).to_be_visible()
    expect(page.get_by_label("Notes", exact=True)).to_have_value("Prefers email. Met at the Boston fair.")
    expect(page.get_by_label("Tags", exact=True)).to_have_value("vip, speaker")
    expect(page.get_by_text("Historical")).to_be_visible()
    screenshot("saved")
    customer.refresh_from_db()
    assert (customer.local_notes, customer.local_tags) == (
        "Prefers email. Met at the Boston fair.",
        ["vip", "speaker"],
    )
    assert Customer.objects.get(pk=customer.pk).tags == ["newsletter"]
