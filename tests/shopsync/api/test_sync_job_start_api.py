from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from shopsync.models import SyncSession
from tests.factories import ShopFactory

URL = "/api/shopify/sync/jobs/start"


@pytest.fixture
def api(owner):
    client = APIClient()
    client.force_authenticate(owner)
    return client


def test_start_creates_a_session_for_the_users_shop(api, shop, django_capture_on_commit_callbacks):
    # given
    body = {"shop": shop.domain, "jobType": "orders", "syncMode": "populate", "days": 365}
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(URL, body, format="json")
    # then
    session = SyncSession.objects.get()
    assert response.status_code == 202
    assert response.json() == {"sessionId": session.pk, "reused": False, "status": "queued"}
    assert (session.kind, session.resources, session.days, session.triggered_by) == (
        "populate",
        ["orders"],
        365,
        "api",
    )
    assert len(callbacks) == 1


def test_start_again_reuses_the_active_session(api, shop):
    # given
    first = api.post(URL, {"shop": shop.domain, "syncMode": "initial"}, format="json").json()
    # when
    response = api.post(URL, {"shop": shop.domain, "syncMode": "initial"}, format="json")
    # then
    assert response.status_code == 200
    assert response.json() == {"sessionId": first["sessionId"], "reused": True, "status": "queued"}


def test_start_without_shop_uses_the_users_only_shop(api, shop):
    # given
    # when
    response = api.post(URL, {"syncMode": "update", "staleAfterMins": 60}, format="json")
    # then
    assert response.status_code == 202
    session = SyncSession.objects.get()
    assert (session.shop_id, session.kind, session.stale_after_mins) == (shop.pk, "update", 60)
    assert session.resources == ["orders", "customers", "products", "collections", "locations"]


def test_start_without_shop_is_404_when_the_user_has_several(api, owner, shop):
    # given
    ShopFactory().members.add(owner)
    # when
    response = api.post(URL, {"syncMode": "incremental"}, format="json")
    # then
    assert response.status_code == 404
    assert SyncSession.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"syncMode": "update"}, "detail"),
        ({"syncMode": "update", "staleAfterMins": 0}, "staleAfterMins"),
        ({"syncMode": "populate", "days": -1}, "days"),
        ({"syncMode": "sideways"}, "syncMode"),
        ({"jobType": "refunds"}, "jobType"),
    ],
)
def test_start_rejects_invalid_input_with_400(api, shop, body, field):
    # given
    # when
    response = api.post(URL, {"shop": shop.domain, **body}, format="json")
    # then
    assert response.status_code == 400
    assert field in response.json()
    assert SyncSession.objects.count() == 0


def test_start_for_someone_elses_shop_is_404(outsider, shop):
    # given
    client = APIClient()
    client.force_authenticate(outsider)
    # when
    response = client.post(URL, {"shop": shop.domain, "syncMode": "initial"}, format="json")
    # then
    assert response.status_code == 404
    assert SyncSession.objects.count() == 0


def test_start_needs_authentication(shop):
    # given
    client = APIClient()
    # when
    response = client.post(URL, {"shop": shop.domain}, format="json")
    # then
    assert response.status_code in (401, 403)
    assert SyncSession.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"syncMode": "populate", "days": 36_501}, "Ensure this value is less than or equal to 36500."),
        ({"syncMode": "populate", "days": 10**12}, "Ensure this value is less than or equal to 36500."),
        (
            {"syncMode": "update", "staleAfterMins": 10**12},
            "Ensure this value is less than or equal to 52560000.",
        ),
    ],
)
def test_start_refuses_days_and_minutes_beyond_a_hundred_years_with_400(api, shop, body, message):
    # given: before, these reached the database (integer out of range: a 500) or, just under the
    # column's limit, the worker (a window start before year 1)
    # when
    response = api.post(URL, {"shop": shop.domain, **body}, format="json")
    # then
    assert response.status_code == 400
    assert response.json() == {next(key for key in body if key != "syncMode"): [message]}
    assert SyncSession.objects.count() == 0


def test_start_takes_json_only_and_answers_a_form_with_415(api, shop):
    # given: form data cannot say null, which `days` and `staleAfterMins` need
    form = f"shop={shop.domain}&syncMode=initial"
    # when
    response = api.post(URL, form, content_type="application/x-www-form-urlencoded")
    # then
    assert response.status_code == 415
    assert response.json() == {
        "detail": 'Unsupported media type "application/x-www-form-urlencoded" in request.'
    }
    assert SyncSession.objects.count() == 0
