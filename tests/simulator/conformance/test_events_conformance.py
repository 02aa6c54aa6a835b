"""Events: REST events.json and GraphQL `events` agree with each other and with the truth endpoint's
deleted ids (every deletion is a destroy event; nothing else is)."""

from __future__ import annotations

from tests.simulator.conformance.conftest import links, truth

GRAPHQL = """query($after: String) { events(first: 3, after: $after, query: "action:destroy") {
  nodes { id action createdAt ... on BasicEvent { subjectId subjectType } } pageInfo { hasNextPage endCursor } } }"""


def test_destroy_events_agree_with_truth_on_both_apis(sim, shop):
    # given
    deleted = {
        (kind, record_id)
        for resource, kind in (("orders", "Order"), ("customers", "Customer"), ("products", "Product"))
        for record_id in truth(sim, shop, resource)["deleted_ids"]
    }
    assert deleted
    # when: REST through Link pages of 2
    rest, response = (
        [],
        sim.rest("events.json", {"verb": "destroy", "limit": 2}, token=shop.token, shop=shop.domain),
    )
    while True:
        rest.extend(response.json()["events"])
        following = links(response).get("next")
        if following is None:
            break
        response = sim.session.get(following, headers={"X-Shopify-Access-Token": shop.token}, timeout=30)
    # and GraphQL through cursors
    graphql, after = [], None
    while True:
        page = sim.graphql(GRAPHQL, {"after": after}, token=shop.token, shop=shop.domain).json()["data"][
            "events"
        ]
        graphql.extend(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then
    assert {(e["subject_type"], e["subject_id"]) for e in rest} == deleted
    assert len(rest) == len(deleted)
    assert [f"gid://shopify/BasicEvent/{e['id']}" for e in rest] == [n["id"] for n in graphql]
    assert [n["subjectId"] for n in graphql] == [
        f"gid://shopify/{e['subject_type']}/{e['subject_id']}" for e in rest
    ]
    assert {n["subjectType"] for n in graphql} <= {"ORDER", "CUSTOMER", "PRODUCT"}
