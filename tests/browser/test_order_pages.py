"""Orders as staff click through them, and the customers' search box, in a real browser."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.factories import CustomerFactory, LineItemFactory, OrderFactory

# `system-ui` is a different font on every machine (Segoe UI, Roboto, Cantarell, DejaVu Sans here):
# the placeholder must fit with room to spare for one up to a fifth wider than this machine's. It
# fitted here with 5 % to spare, and was cut off on staff's machines.
FONT_WIDTH_MARGIN = 1.2
# How much of the placeholder fits: its text width against the input's content box.
PLACEHOLDER_FIT = """input => {
  const style = getComputedStyle(input);
  const context = document.createElement("canvas").getContext("2d");
  context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const box = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return {text: context.measureText(input.placeholder).width, box};
}"""


@pytest.mark.browser
def test_staff_open_an_order_from_the_list_and_see_its_line_items(
    page, login, screenshot, live_server, staff, shop
):
    # given
    CustomerFactory(shop=shop, shopify_id=555, first_name="Grace", last_name="Hopper")
    order = OrderFactory(
        shop=shop, name="#1042", customer_shopify_id=555, financial_status="partially_refunded",
        fulfillment_status="partially_fulfilled",
    )  # fmt: skip
    LineItemFactory(order=order, title="Blue mug", sku="MUG-B", quantity=2, price=Decimal("9.50"))
    LineItemFactory(order=order, title="Teapot", sku="POT-1", quantity=1, price=Decimal("30.00"))
    login(staff, path="/orders/")
    row = page.locator("tbody tr", has_text="#1042")
    expect(row).to_contain_text("Partially refunded")
    expect(row).to_contain_text("Partially fulfilled")
    expect(page.locator("main")).not_to_contain_text("partially_")
    screenshot("list")
    # when
    row.get_by_role("link", name="#1042").click()
    # then
    page.wait_for_url(f"{live_server.url}/orders/{order.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Order #1042")
    items = page.locator("#line-items tbody tr")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Blue mug")
    expect(items.nth(1)).to_contain_text("Teapot")
    expect(page.get_by_role("link", name="Grace Hopper")).to_be_visible()
    screenshot("detail")


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_the_customer_search_placeholder_is_not_cut_off(page, login, screenshot, staff, shop, width):
    # given
    page.set_viewport_size({"width": width, "height": 860})
    # when
    login(staff, path="/customers/")
    # then
    fit = page.get_by_label("Search customers").evaluate(PLACEHOLDER_FIT)
    assert fit["text"] * FONT_WIDTH_MARGIN <= fit["box"], fit
    screenshot(f"search-{width}")
