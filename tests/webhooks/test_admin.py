"""The WebhookLog admin: read-only, filterable, searchable by ids."""

from __future__ import annotations

from django.urls import reverse

from tests.webhooks.factories import WebhookLogFactory
from webhooks.models import WebhookLog


def test_the_changelist_filters_and_searches_by_ids(admin_client, shop):
    # given
    wanted = WebhookLogFactory(shop=shop, event_id="ev-wanted", status=WebhookLog.Status.DEAD)
    WebhookLogFactory(shop=shop, event_id="ev-other")
    url = reverse("admin:webhooks_webhooklog_changelist")
    # when
    by_event = admin_client.get(url, {"q": "ev-wanted"})
    by_status = admin_client.get(
        url, {"status__exact": "dead", "topic": "orders/updated", "shop__id__exact": shop.id}
    )
    # then
    assert by_event.status_code == by_status.status_code == 200
    assert [log.pk for log in by_event.context["cl"].result_list] == [wanted.pk]
    assert [log.pk for log in by_status.context["cl"].result_list] == [wanted.pk]


def test_a_delivery_is_shown_read_only_with_its_body(admin_client, shop):
    # given
    log = WebhookLogFactory(shop=shop, body=b'{"id": 1, "note": "<b>hi</b>"}')
    # when
    response = admin_client.get(reverse("admin:webhooks_webhooklog_change", args=[log.pk]))
    # then
    assert response.status_code == 200
    assert b"&lt;b&gt;hi&lt;/b&gt;" in response.content
    assert b'name="status"' not in response.content
    assert admin_client.post(reverse("admin:webhooks_webhooklog_delete", args=[log.pk])).status_code == 403
    assert WebhookLog.objects.filter(pk=log.pk).exists()
