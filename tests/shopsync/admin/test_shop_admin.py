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
