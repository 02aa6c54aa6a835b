from __future__ import annotations

from shopsync.models import Shop


def test_shop_admin_api_url_points_at_configured_base(shop):
    # given
    shop.api_base_url = "http://127.0.0.1:8001/"
    shop.api_version = "2026-01"
    # when
    url = shop.admin_api_url
    # then
    assert url == "http://127.0.0.1:8001/admin/api/2026-01"


def test_access_token_is_encrypted_at_rest(shop):
    # given
    shop.access_token = "shpat_secret_value"
    shop.save()
    # when
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM shopsync_shop WHERE id = %s", [shop.id])
        stored = cursor.fetchone()[0]
    # then
    assert "shpat_secret_value" not in stored
    assert Shop.objects.get(pk=shop.pk).access_token == "shpat_secret_value"
