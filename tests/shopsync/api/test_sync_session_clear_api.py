from __future__ import annotations

from rest_framework.test import APIClient

from tests.factories import SyncSessionFactory

URL = "/api/shopify/sync/sessions/clear"


def test_staff_can_clear_a_stuck_run(owner, shop):
    # given
    owner.is_staff = True
    owner.save()
    stuck = SyncSessionFactory(shop=shop, status="running", attempts=1)
    client = APIClient()
    client.force_authenticate(owner)
    # when
    response = client.post(URL, {"shop": shop.domain, "sessionId": stuck.pk}, format="json")
    # then
    stuck.refresh_from_db()
    assert response.status_code == 200
    assert response.json() == {"sessionId": stuck.pk, "cleared": True, "status": "cancelled"}
    assert stuck.status == "cancelled"


def test_a_member_who_is_not_staff_cannot_clear(staff, shop):
    # given
    stuck = SyncSessionFactory(shop=shop, status="running", attempts=1)
    client = APIClient()
    client.force_authenticate(staff)  # the "staff" fixture is a shop member without is_staff
    # when
    response = client.post(URL, {"shop": shop.domain, "sessionId": stuck.pk}, format="json")
    # then
    stuck.refresh_from_db()
    assert response.status_code == 403
    assert stuck.status == "running"
