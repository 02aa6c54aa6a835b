"""Every state-changing form refuses a POST without the CSRF token."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory


@pytest.mark.parametrize(
    "name", ["sync-now", "shop-settings-sync-start", "shop-settings-full-sync", "logout"]
)
def test_post_without_csrf_token_is_forbidden_and_starts_nothing(client_for, owner, shop, name):
    # given
    client = client_for(owner, enforce_csrf_checks=True)
    # when
    response = client.post(reverse(name), {"shop": shop.domain, "mode": "incremental", "confirm": "on"})
    # then
    assert response.status_code == 403
    assert shop.sync_sessions.count() == 0


def test_customer_note_post_without_csrf_token_is_forbidden_and_changes_nothing(client_for, owner, shop):
    # given
    customer = CustomerFactory(shop=shop, local_notes="before")
    client = client_for(owner, enforce_csrf_checks=True)
    # when
    response = client.post(reverse("customer-detail", args=[customer.pk]), {"local_notes": "after"})
    # then
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.local_notes == "before"


def test_post_with_the_csrf_token_from_the_page_is_accepted(
    client_for, owner, shop, django_capture_on_commit_callbacks
):
    # given
    client = client_for(owner, enforce_csrf_checks=True)
    client.get(reverse("dashboard-home"))
    token = client.cookies["csrftoken"].value
    # when
    with django_capture_on_commit_callbacks():
        response = client.post(reverse("sync-now"), {"shop": shop.domain, "csrfmiddlewaretoken": token})
    # then
    assert response.status_code == 302
    assert shop.sync_sessions.count() == 1
