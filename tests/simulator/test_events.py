from __future__ import annotations

from tests.simulator.conftest import token_of

EVENTS_QUERY = """query($q: String, $after: String) { events(first: 2, after: $after, query: $q) {
  nodes { id action createdAt message ... on BasicEvent { subjectId subjectType } }
  pageInfo { hasNextPage endCursor } } }"""


def next_link(response) -> str | None:
    for part in response.headers.get("Link", "").split(","):
        if 'rel="next"' in part:
            return part.split(">")[0].strip(" <")
    return None


def test_a_deletion_through_the_control_api_is_an_order_destroy_event(sim, new_shop):
    # given
    domain = new_shop()
    token = token_of(sim, domain)
    order = sim.control.truth("orders", full=True, shop=domain)["records"][0]["record"]
    # when
    sim.control.delete("orders", order["id"], shop=domain)
    # then
    response = sim.rest("events.json", {"filter": "Order", "verb": "destroy"}, token=token, shop=domain)
    assert response.status_code == 200
    [event] = response.json()["events"]
    assert (
        event["subject_id"] == order["id"] and event["subject_type"] == "Order" and event["verb"] == "destroy"
    )
    assert event["arguments"] == [order["name"]]
    assert event["path"] == f"/admin/orders/{order['id']}"
    assert set(event) == {
        "id", "subject_id", "created_at", "subject_type", "verb", "arguments", "body", "message", "author",
        "description", "path",
    }  # fmt: skip


def test_random_changes_record_every_deletion_and_graphql_pages_them(sim, new_shop):
    # given
    domain = new_shop(orders=80)
    token = token_of(sim, domain)
    mix = {"orders/delete": 1, "products/update": 1}
    # when
    changes = sim.control.mutate(count=12, seed=5, mix=mix, shop=domain)
    # then
    deleted = {c["id"] for c in changes if c["action"] == "delete"}
    assert deleted and deleted == set(sim.control.truth("orders", shop=domain)["deleted_ids"])
    seen, after = [], None
    while True:
        variables = {"q": "action:destroy AND subject_type:ORDER", "after": after}
        page = sim.graphql(EVENTS_QUERY, variables, token=token, shop=domain).json()["data"]["events"]
        seen.extend(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert {int(n["subjectId"].rsplit("/", 1)[1]) for n in seen} == deleted
    assert {(n["action"], n["subjectType"]) for n in seen} == {("destroy", "ORDER")}
    assert len(seen) == len(deleted)


def test_rest_events_page_with_link_headers_since_id_and_created_at_min(sim, new_shop):
    # given: 5 product updates, each one event
    domain = new_shop()
    token = token_of(sim, domain)
    sim.control.mutate(count=5, seed=1, mix={"products/update": 1}, shop=domain)
    everything = sim.rest("events.json", {"limit": 250}, token=token, shop=domain).json()["events"]
    # when: pages of 2 through the Link header
    ids, response = [], sim.rest("events.json", {"limit": 2}, token=token, shop=domain)
    while True:
        ids.extend(e["id"] for e in response.json()["events"])
        url = next_link(response)
        if url is None:
            break
        response = sim.session.get(url, headers={"X-Shopify-Access-Token": token}, timeout=30)
    # then
    assert ids == [e["id"] for e in everything] == sorted(ids) and len(ids) == 5
    after_second = sim.rest("events.json", {"since_id": ids[1]}, token=token, shop=domain).json()["events"]
    assert [e["id"] for e in after_second] == ids[2:]
    later = sim.rest("events.json", {"created_at_min": "2999-01-01"}, token=token, shop=domain).json()
    assert later == {"events": []}
    count = sim.rest("events/count.json", token=token, shop=domain).json()
    assert count == {"count": 5}


def test_events_of_subjects_the_token_cannot_read_are_hidden(sim, new_shop):
    # given
    domain = new_shop()
    sim.control.mutate(count=3, seed=2, mix={"products/update": 1}, shop=domain)
    orders_only = sim.control.mint_token(shop=domain, scopes=["read_orders"])["access_token"]
    # when
    rest = sim.rest("events.json", token=orders_only, shop=domain).json()
    graphql = sim.graphql("{ eventsCount { count precision } }", token=orders_only, shop=domain).json()
    # then
    assert rest == {"events": []}
    assert graphql["data"]["eventsCount"] == {"count": 0, "precision": "EXACT"}


def test_a_records_events_by_its_own_route_and_by_id(sim, new_shop):
    # given
    domain = new_shop()
    token = token_of(sim, domain)
    product = sim.control.truth("products", shop=domain)["records"][0]["id"]
    sim.control.update("products", product, shop=domain, title="Renamed")
    sim.control.delete("products", product, shop=domain)
    # when
    listed = sim.rest(f"products/{product}/events.json", token=token, shop=domain).json()["events"]
    single = sim.rest(f"events/{listed[-1]['id']}.json", token=token, shop=domain).json()["event"]
    node = sim.graphql(
        "query($id: ID!) { node(id: $id) { ... on BasicEvent { action subjectId } } }",
        {"id": f"gid://shopify/BasicEvent/{listed[-1]['id']}"},
        token=token,
        shop=domain,
    ).json()["data"]["node"]
    # then
    assert [e["verb"] for e in listed] == ["update", "destroy"]
    assert listed[-1]["arguments"] == ["Renamed"]
    assert single == listed[-1]
    assert node == {"action": "destroy", "subjectId": f"gid://shopify/Product/{product}"}
