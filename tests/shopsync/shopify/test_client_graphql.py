"""GraphQL through ShopifyClient: envelope, cost-based throttling and pacing, error codes, versions."""

from __future__ import annotations

import logging

import pytest

from shopsync.shopify.client import raise_for_user_errors
from shopsync.shopify.errors import (
    ShopifyAccessDenied,
    ShopifyPacingDeferred,
    ShopifyPermanentError,
    ShopifyRetryableError,
    ShopifyUserErrors,
)
from shopsync.shopify.pacing import BucketStatus, CostBucket
from tests.shopsync.shopify.scripted_http import GRAPHQL_PATH, Reply, cost, graphql_ok, graphql_throttled

QUERY = "query Orders($first: Int!) { orders(first: $first) { nodes { id } } }"


def test_graphql_posts_query_with_token_and_returns_data(server, make_client):
    # given
    server.script(GRAPHQL_PATH, graphql_ok({"orders": {"nodes": [{"id": "gid://shopify/Order/1"}]}}))
    client = make_client()
    # when
    data = client.graphql(QUERY, {"first": 5})
    # then
    assert data == {"orders": {"nodes": [{"id": "gid://shopify/Order/1"}]}}
    [request] = server.seen(GRAPHQL_PATH)
    assert request.method == "POST"
    assert request.header("X-Shopify-Access-Token") == "shpat_initial"
    assert request.json() == {"query": QUERY, "variables": {"first": 5}}


def test_throttled_is_waited_out_using_the_cost_figures(server, clock, make_client):
    # given: the contract's example, 752 requested with 666 available at 50/s
    server.script(GRAPHQL_PATH, graphql_throttled(752, 666, restore=50.0), graphql_ok({"ok": True}))
    client = make_client()
    # when
    data = client.graphql(QUERY, {"first": 1})
    # then
    assert data == {"ok": True}
    assert clock.sleeps == [pytest.approx((752 - 666) / 50.0)]
    assert client.throttled_waits == 1
    assert client.retries == 0


def test_throttled_waits_at_least_a_second(server, clock, make_client):
    # given
    server.script(GRAPHQL_PATH, graphql_throttled(100, 95), graphql_ok({"ok": True}))
    client = make_client()
    # when
    client.graphql(QUERY, {"first": 1})
    # then
    assert clock.sleeps == [1.0]


def test_throttling_repeats_until_it_clears_without_failing(server, clock, make_client):
    # given: more THROTTLED answers than the error attempt limit
    server.script(GRAPHQL_PATH, *[graphql_throttled(500, 300) for _ in range(5)], graphql_ok({"ok": True}))
    client = make_client(max_attempts=2)
    # when
    data = client.graphql(QUERY, {"first": 1})
    # then
    assert data == {"ok": True}
    assert clock.sleeps == [2.0] * 5
    assert client.throttled_waits == 5


def test_endless_throttling_gives_up_with_a_retryable_error_after_the_budget(server, clock, make_client):
    # given
    server.script(GRAPHQL_PATH, *[graphql_throttled(500, 300) for _ in range(10)])
    client = make_client(throttle_budget_seconds=7)
    # when
    with pytest.raises(ShopifyRetryableError) as raised:
        client.graphql(QUERY, {"first": 1})
    # then
    assert raised.value.code == "THROTTLED"
    assert clock.sleeps == [2.0, 2.0, 2.0]


def test_pacing_waits_before_a_query_the_bucket_cannot_afford(server, clock, make_client):
    # given: the first answer leaves 100 points, restoring 50/s; the query requested 300
    server.script(
        GRAPHQL_PATH,
        graphql_ok({"page": 1}, requested=300, available=100, restore=50.0),
        graphql_ok({"page": 2}, requested=300, available=0, restore=50.0),
    )
    client = make_client()
    client.graphql(QUERY, {"first": 250})
    # when
    data = client.graphql(QUERY, {"first": 250})
    # then: waited (300 - 100) / 50 = 4 s before sending, and was never throttled
    assert data == {"page": 2}
    assert clock.sleeps == [4.0]
    assert client.counters.paced_waits == 1
    assert client.throttled_waits == 0
    assert len(server.seen(GRAPHQL_PATH)) == 2


def test_pacing_counts_the_points_restored_since_the_last_answer(server, clock, make_client):
    # given
    server.script(
        GRAPHQL_PATH,
        graphql_ok({"page": 1}, requested=300, available=100, restore=50.0),
        graphql_ok({"page": 2}, requested=300, available=0, restore=50.0),
    )
    client = make_client()
    client.graphql(QUERY, {"first": 250})
    clock.advance(3.0)  # 100 + 3 * 50 = 250 available now
    # when
    client.graphql(QUERY, {"first": 250})
    # then
    assert clock.sleeps == [1.0]


def test_pacing_does_not_wait_when_the_bucket_has_room(server, clock, make_client):
    # given
    server.script(
        GRAPHQL_PATH,
        graphql_ok({"page": 1}, requested=300, available=1700),
        graphql_ok({"page": 2}, requested=300, available=1400),
    )
    client = make_client()
    client.graphql(QUERY, {"first": 250})
    # when
    client.graphql(QUERY, {"first": 250})
    # then
    assert clock.sleeps == []
    assert client.counters.paced_waits == 0


def test_pacing_uses_an_explicit_expected_cost_and_the_shared_bucket(server, clock, make_client):
    # given: another client of the same shop saw the bucket nearly empty
    bucket = CostBucket()
    server.script(GRAPHQL_PATH, graphql_ok({"a": 1}, available=20, restore=100.0), graphql_ok({"b": 2}))
    make_client(cost_bucket=bucket).graphql("{ a }")
    client = make_client(cost_bucket=bucket)
    # when
    client.graphql("{ b }", expected_cost=220)
    # then
    assert clock.sleeps == [2.0]


def test_the_budget_is_settled_with_the_actual_cost_and_shopifys_report(server, clock, make_client):
    # given: 1,000 known available; the query reserves 300 and costs 120 in the end
    bucket = CostBucket()
    bucket.settle(reserved=0.0, charged=0.0, status=BucketStatus(2000.0, 1000.0, 100.0), at=clock())
    answer = graphql_ok({"ok": True}, requested=300, available=880)
    answer.json["extensions"]["cost"]["actualQueryCost"] = 120
    server.script(GRAPHQL_PATH, answer)
    # when
    make_client(cost_bucket=bucket).graphql(QUERY, {"first": 1}, expected_cost=300)
    # then: 1000 - 300 + (300 - 120) = 880, as Shopify says
    assert bucket.estimate(at=clock()) == pytest.approx(880.0)


def test_a_throttled_answer_gives_the_reservation_back(server, clock, make_client):
    # given: the budget believed 1,000 were free, Shopify had 100
    bucket = CostBucket()
    bucket.settle(reserved=0.0, charged=0.0, status=BucketStatus(2000.0, 1000.0, 100.0), at=clock())
    server.script(
        GRAPHQL_PATH, graphql_throttled(300, 100), graphql_ok({"ok": True}, requested=300, available=0)
    )
    client = make_client(cost_bucket=bucket)
    # when
    client.graphql(QUERY, {"first": 1}, expected_cost=300)
    # then: the throttle wait (2 s) was enough; no extra pacing wait for the refused 300 points
    assert clock.sleeps == [2.0]
    assert client.counters.paced_waits == 0


def test_a_long_pacing_wait_is_deferred_and_holds_nothing(server, clock, make_client):
    # given: 100 points free at 50/s, a 300-point query, a caller that waits at most 3 s
    bucket = CostBucket()
    bucket.settle(reserved=0.0, charged=0.0, status=BucketStatus(2000.0, 100.0, 50.0), at=clock())
    client = make_client(cost_bucket=bucket, defer_waits_over=3.0)
    # when
    with pytest.raises(ShopifyPacingDeferred) as raised:
        client.graphql(QUERY, {"first": 1}, expected_cost=300)
    # then
    assert raised.value.wait_seconds == pytest.approx(4.0)
    assert clock.sleeps == []
    assert server.seen(GRAPHQL_PATH) == []
    assert bucket.estimate(at=clock()) == pytest.approx(100.0)


def test_work_already_begun_waits_for_the_budget_in_process_instead_of_deferring(server, clock, make_client):
    # given: the same long wait as above, for a call that finishes a page already sent
    server.script(GRAPHQL_PATH, graphql_ok({"rest": 1}, requested=300, available=0, restore=50.0))
    bucket = CostBucket()
    bucket.settle(reserved=0.0, charged=0.0, status=BucketStatus(2000.0, 100.0, 50.0), at=clock())
    client = make_client(cost_bucket=bucket, defer_waits_over=3.0)
    # when
    with client.pacing_waits_in_process():
        data = client.graphql(QUERY, {"first": 1}, expected_cost=300)
    # then: it slept the 4 s and was answered; outside, deferral is back
    assert data == {"rest": 1}
    assert clock.sleeps == [pytest.approx(4.0)]
    with pytest.raises(ShopifyPacingDeferred):
        client.graphql(QUERY, {"first": 1}, expected_cost=300)


def test_max_cost_exceeded_is_permanent(server, clock, make_client):
    # given
    server.script(
        GRAPHQL_PATH,
        Reply(
            json={
                "errors": [
                    {
                        "message": "Query cost is 1500, which exceeds the single query max cost limit (1000).",
                        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 1500, "maxCost": 1000},
                    }
                ],
                "extensions": cost(1500, 2000),
            }
        ),
    )
    client = make_client()
    # when
    with pytest.raises(ShopifyPermanentError) as raised:
        client.graphql(QUERY, {"first": 250})
    # then
    assert raised.value.code == "MAX_COST_EXCEEDED"
    assert clock.sleeps == []
    assert len(server.seen(GRAPHQL_PATH)) == 1


def test_access_denied_error_raises_access_denied(server, make_client):
    # given
    server.script(
        GRAPHQL_PATH,
        Reply(
            json={
                "data": None,
                "errors": [
                    {"message": "Access denied for orders field.", "extensions": {"code": "ACCESS_DENIED"}}
                ],
                "extensions": cost(10, 1990),
            }
        ),
    )
    client = make_client()
    # when / then
    with pytest.raises(ShopifyAccessDenied) as raised:
        client.graphql(QUERY, {"first": 1})
    assert raised.value.code == "ACCESS_DENIED"


def test_query_errors_are_permanent_and_not_retried(server, clock, make_client):
    # given
    server.script(
        GRAPHQL_PATH, Reply(json={"errors": [{"message": "Field 'nope' doesn't exist on type 'Order'"}]})
    )
    client = make_client()
    # when
    with pytest.raises(ShopifyPermanentError) as raised:
        client.graphql("{ orders { nope } }")
    # then
    assert "nope" in raised.value.message
    assert clock.sleeps == []


def test_internal_server_error_code_is_retried(server, clock, make_client):
    # given
    server.script(
        GRAPHQL_PATH,
        Reply(
            json={"errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
        ),
        graphql_ok({"ok": True}),
    )
    client = make_client()
    # when
    data = client.graphql("{ ok }")
    # then
    assert data == {"ok": True}
    assert clock.sleeps == [1]


def test_served_api_version_is_recorded_and_a_mismatch_logged(server, make_client, caplog):
    # given: Shopify fell forward to another version
    reply = graphql_ok({"ok": True})
    reply.headers["X-Shopify-API-Version"] = "2026-04"
    server.script(GRAPHQL_PATH, reply)
    client = make_client()
    # when
    with caplog.at_level(logging.WARNING, logger="shopsync.shopify.client"):
        client.graphql("{ ok }")
    # then
    assert client.served_api_version == "2026-04"
    assert "asked for API version 2026-01 but Shopify served 2026-04" in caplog.text


def test_matching_api_version_logs_nothing(server, make_client, caplog):
    # given
    reply = graphql_ok({"ok": True})
    reply.headers["X-Shopify-API-Version"] = "2026-01"
    server.script(GRAPHQL_PATH, reply)
    client = make_client()
    # when
    with caplog.at_level(logging.WARNING, logger="shopsync.shopify.client"):
        client.graphql("{ ok }")
    # then
    assert client.served_api_version == "2026-01"
    assert caplog.text == ""


def test_mutation_user_errors_are_returned_and_raised_on_request(server, make_client):
    # given
    user_errors = [{"field": ["query"], "message": "Invalid bulk query", "code": "INVALID"}]
    server.script(
        GRAPHQL_PATH,
        graphql_ok({"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": user_errors}}),
    )
    client = make_client()
    data = client.graphql('mutation { bulkOperationRunQuery(query: "x") { userErrors { message } } }')
    # when
    with pytest.raises(ShopifyUserErrors) as raised:
        raise_for_user_errors(data["bulkOperationRunQuery"])
    # then
    assert raised.value.user_errors == user_errors
    assert raised.value.code == "INVALID"
    assert raised.value.retryable is False


def test_raise_for_user_errors_accepts_an_empty_list():
    # given
    payload = {"webhookSubscription": {"id": "gid://shopify/WebhookSubscription/1"}, "userErrors": []}
    # when
    result = raise_for_user_errors(payload)
    # then
    assert result is None


def test_a_small_page_of_a_query_does_not_become_the_hint_for_its_large_pages(server, clock, make_client):
    # given: the query ran with first 250 (252 points), then with first 5 (7 points), leaving 100
    # points restoring 50/s
    server.script(
        GRAPHQL_PATH,
        graphql_ok({"page": 1}, requested=252, available=1000, restore=50.0),
        graphql_ok({"page": 2}, requested=7, available=100, restore=50.0),
        graphql_ok({"page": 3}, requested=252, available=0, restore=50.0),
    )
    client = make_client()
    client.graphql(QUERY, {"first": 250})
    client.graphql(QUERY, {"first": 5, "after": "cursor"})
    # when: a large page again
    client.graphql(QUERY, {"first": 250, "after": "other"})
    # then: it paced on 252 points, (252 - 100) / 50 s, not on the small page's 7 (which would have
    # sent it into a THROTTLED answer); cursors are not part of what the cost depends on
    assert clock.sleeps == [pytest.approx((252 - 100) / 50.0)]
