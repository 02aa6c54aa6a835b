"""The back-off a running session is in, recorded for the pages: set before a long client wait (one
write per wait), cleared when the wait is over, and gone once the session is claimed again."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from shopsync.models import SyncSession
from shopsync.services.sync.sessions import Heartbeat, session_claim
from shopsync.shopify.client import ShopifyClient
from tests.factories import SyncSessionFactory
from tests.shopsync.shopify.scripted_http import Reply, ScriptedServer, graphql_ok


def _waiting(session: SyncSession) -> tuple:
    session.refresh_from_db()
    return session.waiting_reason, session.waiting_until, session.waiting_detail


def test_a_long_back_off_is_recorded_then_cleared_when_the_wait_ends(shop):
    # given
    session, token = session_claim(session_id=SyncSessionFactory(shop=shop).pk)
    heartbeat = Heartbeat(session, token)
    before = timezone.now()
    # when
    heartbeat.on_wait(30.0, "retry", "acme GET /graphql.json answered HTTP 503:  busy\n")
    during = _waiting(session)
    heartbeat.sleep(0)
    after = _waiting(session)
    # then
    reason, until, detail = during
    assert (reason, detail) == ("shopify_errors", "acme GET /graphql.json answered HTTP 503: busy")
    assert before + timedelta(seconds=30) <= until <= timezone.now() + timedelta(seconds=30)
    assert after == ("", None, "")


def test_short_waits_record_nothing(shop):
    # given
    session, token = session_claim(session_id=SyncSessionFactory(shop=shop).pk)
    heartbeat = Heartbeat(session, token)
    # when
    heartbeat.on_wait(0.5, "paced", "")
    heartbeat.on_wait(2.0, "throttled", "GraphQL throttled")
    # then
    assert _waiting(session) == ("", None, "")


def test_the_client_records_its_back_off_on_the_session_while_it_waits(shop):
    # given: four 503s (back-offs of 1, 2, 4 and 8 s), then an answer
    session, token = session_claim(session_id=SyncSessionFactory(shop=shop).pk)
    heartbeat = Heartbeat(session, token)
    server = ScriptedServer()
    path = f"/admin/api/{shop.api_version}/graphql.json"
    server.script(path, *[Reply(status=503) for _ in range(4)], graphql_ok({"shop": {}}))
    seen_while_sleeping = []

    def sleep(seconds: float) -> None:
        reason, until, detail = _waiting(session)
        seen_while_sleeping.append((seconds, reason, "answered HTTP 503" in detail, until is not None))
        heartbeat.sleep(0)

    shop.api_base_url = server.base_url
    client = ShopifyClient(shop, on_wait=heartbeat.on_wait, sleep=sleep, timeout=(2.0, 5.0))
    # when
    try:
        client.graphql("{ shop { name } }")
    finally:
        server.close()
    # then: the short back-offs are not worth showing; the longer ones are, each cleared after
    assert seen_while_sleeping == [
        (1.0, "", False, False),
        (2.0, "", False, False),
        (4.0, "shopify_errors", True, True),
        (8.0, "shopify_errors", True, True),
    ]
    assert _waiting(session) == ("", None, "")


def test_a_throttled_wait_is_recorded_as_throttling(shop):
    # given
    session, token = session_claim(session_id=SyncSessionFactory(shop=shop).pk)
    # when
    Heartbeat(session, token).on_wait(12.0, "throttled", "GraphQL throttled: Throttled")
    # then
    assert _waiting(session)[0] == "throttled"


def test_a_claim_clears_the_wait_a_requeue_left(shop):
    # given
    queued = SyncSessionFactory(
        shop=shop, waiting_reason="shopify_errors", waiting_detail="HTTP 500", waiting_until=timezone.now()
    )
    # when
    session, _ = session_claim(session_id=queued.pk)
    # then
    assert _waiting(session) == ("", None, "")
