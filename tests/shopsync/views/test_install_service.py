"""The install service's pure parts (HMAC, timestamps) and which sync an install asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shopsync.models import SyncSession
from shopsync.services.install import install_sync_ensure, oauth_hmac_is_valid, oauth_timestamp_is_fresh

SHOPIFY_EXAMPLE = {
    "code": ["0907a61c0c8d55e99db179b68161bc00"],
    "shop": ["some-shop.myshopify.com"],
    "state": ["0.6784241404160823"],
    "timestamp": ["1337178173"],
    "hmac": ["700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"],
}


def test_hmac_matches_shopifys_documented_example():
    # when
    valid = oauth_hmac_is_valid(params=SHOPIFY_EXAMPLE, secret="hush")
    # then
    assert valid is True


def test_hmac_matches_the_example_without_state():
    # given
    params = {key: value for key, value in SHOPIFY_EXAMPLE.items() if key != "state"}
    params["hmac"] = ["4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20"]
    # when
    valid = oauth_hmac_is_valid(params=params, secret="hush")
    # then
    assert valid is True


def test_hmac_fails_when_any_parameter_changes_or_the_secret_differs():
    # given
    tampered = {**SHOPIFY_EXAMPLE, "shop": ["other-shop.myshopify.com"]}
    # when / then
    assert oauth_hmac_is_valid(params=tampered, secret="hush") is False
    assert oauth_hmac_is_valid(params=SHOPIFY_EXAMPLE, secret="hush2") is False
    assert oauth_hmac_is_valid(params={**SHOPIFY_EXAMPLE, "hmac": [""]}, secret="hush") is False


def test_signature_parameter_is_not_part_of_the_message():
    # given
    params = {**SHOPIFY_EXAMPLE, "signature": ["whatever"]}
    # when / then
    assert oauth_hmac_is_valid(params=params, secret="hush") is True


def test_timestamp_guard_accepts_24_hours_and_refuses_older_or_far_future():
    # given
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)

    def stamp(delta: timedelta) -> dict[str, list[str]]:
        return {"timestamp": [str(int((now + delta).timestamp()))]}

    # when / then
    assert oauth_timestamp_is_fresh(params=stamp(-timedelta(hours=23, minutes=59)), now=now) is True
    assert oauth_timestamp_is_fresh(params=stamp(-timedelta(hours=24, minutes=1)), now=now) is False
    assert oauth_timestamp_is_fresh(params=stamp(timedelta(hours=1)), now=now) is False
    assert oauth_timestamp_is_fresh(params={"timestamp": ["soon"]}, now=now) is False


def test_new_shop_gets_one_initial_sync_triggered_by_install(shop, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        result = install_sync_ensure(shop=shop, shop_created=True)
    # then
    assert (result.created, result.session.kind, result.session.triggered_by) == (True, "initial", "install")
    assert len(callbacks) == 1


def test_reconnect_after_a_failed_initial_sync_starts_exactly_one_new_initial(
    shop, make_session, django_capture_on_commit_callbacks
):
    # given
    make_session(shop, kind="initial", status="failed", error="boom")
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        first = install_sync_ensure(shop=shop, shop_created=False)
        again = install_sync_ensure(shop=shop, shop_created=False)
    # then
    assert (first.created, first.session.kind, first.session.triggered_by) == (True, "initial", "reconnect")
    assert (again.created, again.session.pk) == (False, first.session.pk)
    assert len(callbacks) == 1
    assert SyncSession.objects.filter(shop=shop, kind="initial").count() == 2


def test_reconnect_after_a_completed_initial_sync_starts_no_new_initial(
    shop, make_session, django_capture_on_commit_callbacks
):
    # given
    make_session(shop, kind="initial", status="completed")
    # when
    with django_capture_on_commit_callbacks():
        result = install_sync_ensure(shop=shop, shop_created=False)
    # then
    assert (result.session.kind, result.session.triggered_by) == ("incremental", "reconnect")
    assert SyncSession.objects.filter(shop=shop, kind="initial").count() == 1


def test_install_while_the_initial_sync_runs_returns_it(shop, make_session):
    # given
    running = make_session(shop, kind="initial", status="running")
    # when
    result = install_sync_ensure(shop=shop, shop_created=False)
    # then
    assert (result.created, result.session.pk) == (False, running.pk)
