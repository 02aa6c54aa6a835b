from __future__ import annotations

from tests.factories import ShopFactory
from tests.webhooks.factories import WebhookLogFactory
from webhooks.models import WebhookLog
from webhooks.selectors import webhook_log_dead_count, webhook_log_list


def test_dead_count_counts_only_this_shops_dead_deliveries(shop):
    # given
    WebhookLogFactory.create_batch(2, shop=shop, status=WebhookLog.Status.DEAD)
    WebhookLogFactory(shop=shop, status=WebhookLog.Status.FAILED)
    WebhookLogFactory(shop=ShopFactory(), status=WebhookLog.Status.DEAD)
    # when / then
    assert webhook_log_dead_count(shop=shop) == 2


def test_list_filters_by_status(shop):
    # given
    processed = WebhookLogFactory(shop=shop, status=WebhookLog.Status.PROCESSED)
    WebhookLogFactory(shop=shop, status=WebhookLog.Status.DEAD)
    # when / then
    assert list(webhook_log_list(shop=shop, status="processed")) == [processed]
    assert webhook_log_list(shop=shop).count() == 2
