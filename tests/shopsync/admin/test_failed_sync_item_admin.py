from __future__ import annotations

from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from shopsync.models import FailedSyncItem, Order
from tests.factories import FailedSyncItemFactory, ShopFactory, UserFactory

CHANGELIST = reverse("admin:shopsync_failedsyncitem_changelist")

REST_ORDER = {
    "id": 4401,
    "name": "#4401",
    "created_at": "2025-03-01T10:00:00Z",
    "updated_at": "2025-03-02T10:00:00Z",
    "line_items": [{"id": 99, "quantity": 1, "title": "Widget"}],
}


def _ids(response) -> set[int]:
    return {item.pk for item in response.context["cl"].result_list}


def _act(client, action, items):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [item.pk for item in items]}, follow=True
    )


def test_changelist_filters_by_state_entity_type_resolution_and_shop(superuser_client, shop):
    # given
    retrying = FailedSyncItemFactory(shop=shop)
    exhausted = FailedSyncItemFactory(shop=shop, retry_count=5, max_retries=5, next_retry_at=None)
    resolved = FailedSyncItemFactory(shop=shop, resolved_at=timezone.now(),
                                     resolution=FailedSyncItem.Resolution.ABANDONED)  # fmt: skip
    webhook = FailedSyncItemFactory(shop=shop, entity_type=FailedSyncItem.EntityType.WEBHOOK, source_ref="17")
    elsewhere = FailedSyncItemFactory(shop=ShopFactory())
    # when
    by_state = {
        state: _ids(superuser_client.get(CHANGELIST, {"state": state}))
        for state in ("retrying", "exhausted", "resolved")
    }
    by_type = _ids(superuser_client.get(CHANGELIST, {"entity_type__exact": "webhook"}))
    by_resolution = _ids(superuser_client.get(CHANGELIST, {"resolution__exact": "abandoned"}))
    by_shop = _ids(superuser_client.get(CHANGELIST, {"shop__id__exact": shop.pk}))
    # then
    assert by_state == {
        "retrying": {retrying.pk, webhook.pk, elsewhere.pk},
        "exhausted": {exhausted.pk},
        "resolved": {resolved.pk},
    }
    assert by_type == {webhook.pk}
    assert by_resolution == {resolved.pk}
    assert by_shop == {retrying.pk, exhausted.pk, resolved.pk, webhook.pk}


def test_changelist_searches_by_shopify_id(superuser_client, shop):
    # given
    wanted = FailedSyncItemFactory(shop=shop, shopify_id=820982911946154508)
    FailedSyncItemFactory(shop=shop, shopify_id=820982911946154509)
    # when
    found = superuser_client.get(CHANGELIST, {"q": "820982911946154508"})
    nonsense = superuser_client.get(CHANGELIST, {"q": "not-a-number"})
    # then
    assert _ids(found) == {wanted.pk}
    assert _ids(nonsense) == set()


def test_retry_now_writes_the_record_and_resolves_the_item(superuser_client, shop):
    # given
    item = FailedSyncItemFactory(shop=shop, shopify_id=4401, payload=REST_ORDER)
    # when
    response = _act(superuser_client, "retry_now", [item])
    # then
    item.refresh_from_db()
    assert response.status_code == 200
    assert "1 succeeded" in response.content.decode()
    assert item.resolution == FailedSyncItem.Resolution.SUCCESS
    assert Order.objects.get(shop=shop, shopify_id=4401).name == "#4401"


def test_retry_now_of_a_broken_payload_counts_a_failed_retry(superuser_client, shop):
    # given: the refetch goes to a loopback port where nothing listens (never beyond this machine)
    shop.api_base_url = "http://127.0.0.1:9"
    shop.save()
    item = FailedSyncItemFactory(shop=shop, shopify_id=4401, payload={"id": 4401})
    # when
    response = _act(superuser_client, "retry_now", [item])
    # then
    item.refresh_from_db()
    assert "1 failed again" in response.content.decode()
    assert item.retry_count == 1
    assert item.resolved_at is None
    assert not Order.objects.filter(shop=shop, shopify_id=4401).exists()


def test_mark_resolved_and_abandon_close_the_selected_items_only(superuser_client, shop):
    # given
    fixed, given_up, untouched = FailedSyncItemFactory.create_batch(3, shop=shop)
    listing = superuser_client.get(CHANGELIST)
    # when
    _act(superuser_client, "mark_resolved", [fixed])
    _act(superuser_client, "abandon", [given_up])
    # then
    states = {
        item.pk: item.resolution
        for item in FailedSyncItem.objects.filter(pk__in=[fixed.pk, given_up.pk, untouched.pk])
    }
    assert 'value="abandon"' in listing.content.decode()
    assert states == {fixed.pk: "manual", given_up.pk: "abandoned", untouched.pk: ""}


def test_detail_page_shows_pretty_payload_and_the_error_trace(superuser_client, shop):
    # given
    item = FailedSyncItemFactory(
        shop=shop, payload={"id": 7, "note": "<script>alert(1)</script>"}, error_message="parse failed",
        error_trace="Traceback (most recent call last):\n  File \"x.py\"\nValueError: bad",
    )  # fmt: skip
    # when
    response = superuser_client.get(reverse("admin:shopsync_failedsyncitem_change", args=[item.pk]))
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "&quot;note&quot;: &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;" in page
    assert "<script>alert(1)</script>" not in page
    assert "ValueError: bad" in page
    assert "parse failed" in page
    assert 'name="_save"' not in page  # view-only: nothing to edit


def test_webhook_dead_letter_links_to_its_delivery(superuser_client, shop):
    # given
    item = FailedSyncItemFactory(shop=shop, entity_type=FailedSyncItem.EntityType.WEBHOOK, source_ref="42")
    # when
    response = superuser_client.get(reverse("admin:shopsync_failedsyncitem_change", args=[item.pk]))
    # then
    assert reverse("admin:webhooks_webhooklog_change", args=[42]) in response.content.decode()


def test_staff_without_the_change_permission_cannot_act(client, shop):
    # given
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_failedsyncitem"))
    shop.members.add(viewer)
    client.force_login(viewer)
    item = FailedSyncItemFactory(shop=shop)
    # when
    listing = client.get(CHANGELIST)
    _act(client, "abandon", [item])
    # then
    item.refresh_from_db()
    assert listing.status_code == 200
    assert _ids(listing) == {item.pk}
    assert 'value="abandon"' not in listing.content.decode()
    assert item.resolved_at is None
