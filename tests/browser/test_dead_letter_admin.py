"""The dead-letter admin at 1280 px: the list fits the window, one line per row; the detail page
names the source once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shopsync.models import FailedSyncItem
from tests.factories import FailedSyncItemFactory, UserFactory

LONG_ERROR = (
    "ShopifyPermanentError: order 5000000001 could not be parsed: line_items.0.price: Input should be a valid "
    "decimal [type=decimal_parsing, input_value='twelve', input_type=str] " * 6
)
LONG_REF = "sync-session-4711/orders/bulk-operation/gid://shopify/BulkOperation/123456789012/line-8812"


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def _clipped_columns(page) -> list[str]:
    """Header cells of the result list that end beyond the visible part of its scroll box."""
    return page.evaluate(
        """() => {
            const box = document.querySelector('#changelist .results');
            const right = box.getBoundingClientRect().right;
            return [...document.querySelectorAll('#result_list thead th')]
                .filter(th => th.getBoundingClientRect().right > right + 1)
                .map(th => th.innerText.trim());
        }"""
    )


@pytest.mark.browser
def test_dead_letter_list_fits_1280_px_and_the_detail_names_the_source_once(
    page, login, screenshot, live_server, shop
):
    # given
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    FailedSyncItemFactory.create_batch(3, shop=shop, error_message=LONG_ERROR, payload={"note": "x" * 4000})
    FailedSyncItemFactory(shop=shop, entity_type=FailedSyncItem.EntityType.BATCH, shopify_id=None,
                          source_ref=LONG_REF, error_message=LONG_ERROR)  # fmt: skip
    FailedSyncItemFactory(shop=shop, retry_count=5, max_retries=5, resolved_at=timezone.now(),
                          resolution=FailedSyncItem.Resolution.SUCCESS, error_message=LONG_ERROR)  # fmt: skip
    webhook = FailedSyncItemFactory(
        shop=shop, entity_type=FailedSyncItem.EntityType.WEBHOOK, source=FailedSyncItem.Source.WEBHOOK,
        source_ref="42", error_message=LONG_ERROR,
    )  # fmt: skip
    login(root, path="/admin/shopsync/failedsyncitem/")
    # when
    list_overflow = _overflow(page)
    clipped = _clipped_columns(page)
    headers = page.locator("#result_list thead th").all_inner_texts()
    row_heights = page.locator("#result_list tbody tr").evaluate_all("rows => rows.map(r => r.offsetHeight)")
    screenshot("list")
    page.goto(f"{live_server.url}/admin/shopsync/failedsyncitem/{webhook.pk}/change/")
    screenshot("detail")
    detail_overflow = _overflow(page)
    labels = page.locator("#content-main .form-row label").all_inner_texts()
    # then
    assert page.viewport_size["width"] == 1280
    assert list_overflow <= 0
    assert clipped == []
    assert [h.strip().lower() for h in headers[1:]] == [
        "id", "shop", "entity type", "record", "state", "error", "created",
    ]  # fmt: skip
    assert len(row_heights) == 6
    assert max(row_heights) < 60  # one line of text per row
    assert [label for label in labels if label.lower().startswith("source")] == ["Source:"]
    assert page.locator("#content-main").get_by_text("Webhook: webhook log 42").count() == 1
    assert detail_overflow <= 0
