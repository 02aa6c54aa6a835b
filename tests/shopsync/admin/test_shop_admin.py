from __future__ import annotations

from django.urls import reverse

from shopsync.models import Shop
from tests.factories import FailedSyncItemFactory


def test_shop_pages_never_show_the_tokens(superuser_client, shop):
    # given
    shop.access_token = "shpat_top_secret_token"
    shop.refresh_token = "shprt_top_secret_refresh"
    shop.save()
    # when
    change = superuser_client.get(reverse("admin:shopsync_shop_change", args=[shop.pk]))
    listing = superuser_client.get(reverse("admin:shopsync_shop_changelist"))
    # then
    for response in (change, listing):
        assert response.status_code == 200
        assert "shpat_top_secret_token" not in response.content.decode()
        assert "shprt_top_secret_refresh" not in response.content.decode()


def test_shop_list_counts_open_dead_letters(superuser_client, shop):
    # given
    FailedSyncItemFactory.create_batch(3, shop=shop)
    # when
    response = superuser_client.get(reverse("admin:shopsync_shop_changelist"))
    # then
    [row] = response.context["cl"].result_list
    assert row.open_dead_letter_count == 3


def test_only_the_name_of_a_shop_is_editable(superuser_client, shop):
    # given
    url = reverse("admin:shopsync_shop_change", args=[shop.pk])
    # when
    response = superuser_client.post(
        url, {"name": "Acme Renamed", "domain": "evil.myshopify.com", "api_base_url": "http://evil.example"}
    )
    # then
    shop = Shop.objects.get(pk=shop.pk)
    assert response.status_code == 302
    assert shop.name == "Acme Renamed"
    assert shop.domain == "acme.myshopify.com"
    assert shop.api_base_url == ""


def test_the_metafield_namespaces_are_edited_through_the_setting(
    superuser_client, shop, django_capture_on_commit_callbacks
):
    # given
    url = reverse("admin:shopsync_shop_change", args=[shop.pk])
    # when: an invalid one is refused on its field, a valid list is stored cleaned
    refused = superuser_client.post(url, {"name": shop.name, "metafield_namespaces": "erp, no way"})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        saved = superuser_client.post(url, {"name": shop.name, "metafield_namespaces": "loyalty, erp"})
    # then
    assert refused.status_code == 200
    assert "&#x27;no way&#x27; is not a metafield namespace" in refused.content.decode()
    assert saved.status_code == 302
    assert Shop.objects.get(pk=shop.pk).metafield_namespaces == ["erp", "loyalty"]
    assert [callback.name for callback in callbacks] == ["webhooks.tasks.webhook_subscriptions_register_task"]
