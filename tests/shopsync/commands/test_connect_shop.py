from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from shopsync.models import Shop


def test_connect_shop_registers_a_shop_with_its_token(db, settings):
    # given
    out = StringIO()
    # when
    call_command(
        "connect_shop",
        "--shop",
        "demo.myshopify.com",
        "--api-url",
        "http://127.0.0.1:8001",
        "--token",
        "shpat_abc",
        "--api-version",
        "2025-10",
        stdout=out,
    )
    # then
    shop = Shop.objects.get(domain="demo.myshopify.com")
    assert (shop.api_base_url, shop.access_token, shop.api_version, shop.status) == (
        "http://127.0.0.1:8001",
        "shpat_abc",
        "2025-10",
        "installed",
    )
    assert shop.scopes == settings.SHOPIFY_SCOPES
    assert shop.installed_at is not None
    assert "Registered demo.myshopify.com" in out.getvalue()


def test_connect_shop_again_updates_the_token_and_reinstalls(shop):
    # given
    shop.status = Shop.Status.UNINSTALLED
    shop.save()
    # when
    call_command(
        "connect_shop",
        "--shop",
        shop.domain,
        "--api-url",
        "http://127.0.0.1:9",
        "--token",
        "shpat_new",
        stdout=StringIO(),
    )
    # then
    shop.refresh_from_db()
    assert (shop.access_token, shop.api_base_url, shop.status) == (
        "shpat_new",
        "http://127.0.0.1:9",
        "installed",
    )
    assert Shop.objects.count() == 1


def test_connect_shop_refuses_a_domain_that_is_not_a_shop(db):
    # given
    # when
    with pytest.raises(CommandError, match="not a valid shop domain"):
        call_command(
            "connect_shop", "--shop", "evil.example.com", "--api-url", "http://127.0.0.1:9", "--token", "t"
        )
    # then
    assert Shop.objects.count() == 0
