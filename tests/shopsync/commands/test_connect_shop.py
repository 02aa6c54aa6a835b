from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from shopsync.api_versions import CLIENT_API_VERSION
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


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("2025-07", "API version 2025-07 is older than 2025-10, the oldest the client's queries run on"),
        ("2024-01", "API version 2024-01 is older than 2025-10, the oldest the client's queries run on"),
        ("2025-13", "'2025-13' is not a stable Shopify API version"),
        ("unstable", "'unstable' is not a stable Shopify API version"),
    ],
)
def test_connect_shop_refuses_an_api_version_the_client_cannot_run_on(db, version, message):
    # given
    # when
    with pytest.raises(CommandError) as raised:
        call_command(
            "connect_shop", "--shop", "demo.myshopify.com", "--api-url", "http://127.0.0.1:9",
            "--token", "shpat_abc", "--api-version", version,
        )  # fmt: skip
    # then
    assert str(raised.value).startswith(message)
    assert Shop.objects.count() == 0


def test_connect_shop_refuses_an_old_version_for_an_existing_shop_and_keeps_its_own(shop):
    # given
    before = (shop.api_version, shop.access_token)
    # when
    with pytest.raises(CommandError, match="older than 2025-10"):
        call_command(
            "connect_shop", "--shop", shop.domain, "--api-url", "http://127.0.0.1:9",
            "--token", "shpat_new", "--api-version", "2025-04",
        )  # fmt: skip
    # then
    shop.refresh_from_db()
    assert (shop.api_version, shop.access_token) == before


def test_connect_shop_gives_a_new_shop_the_client_api_version_by_default(db):
    # given
    # when
    call_command(
        "connect_shop", "--shop", "demo.myshopify.com", "--api-url", "http://127.0.0.1:9", "--token", "t",
        stdout=StringIO(),
    )  # fmt: skip
    # then
    assert Shop.objects.get().api_version == CLIENT_API_VERSION == "2026-01"
