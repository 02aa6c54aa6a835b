"""Metafields (contract §8.10, §8.13, §8.15.5) on orders, customers, products and variants: GraphQL
connections and `metafield(namespace:, key:)`, bulk child lines, REST routes, against the truth; changes
are silent (no webhook) and leave the owner's updated_at unless the shop says otherwise."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest
import requests

from shopify_sim.testing import SimulatorProcess
from tests.simulator.conftest import ANCHOR
from tests.simulator.test_bulk import lines_of, start, wait

MF = "metafields(first: 3) { nodes { id namespace key type value updatedAt ownerType } }"


@pytest.fixture
def metafield_shop(sim: SimulatorProcess):
    def make(**options) -> tuple[str, str]:
        domain = f"mf{uuid.uuid4().hex[:10]}.myshopify.com"
        token = f"shpat_{uuid.uuid4().hex}"
        defaults = {
            "orders": 40,
            "customers": 20,
            "products": 8,
            "seed": 9,
            "anchor": ANCHOR,
            "plan": "plus",
            "webhook_time_scale": 0.0005,
        }
        sim.control.create_shop(domain, token=token, **{**defaults, **options})
        return domain, token

    return make


def numeric(value: str) -> int:
    return int(value.split("?")[0].rsplit("/", 1)[1])


def truth_by_owner(sim: SimulatorProcess, domain: str) -> dict[tuple[str, int], list[dict]]:
    response = requests.get(f"{sim.base_url}/_sim/shops/{domain}/truth/metafields?full=1", timeout=30)
    owners: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for row in response.json()["records"]:
        owners[(row["owner_type"], row["owner_id"])].append(row["record"])
    return owners


def as_truth(node: dict) -> tuple:
    return (numeric(node["id"]), node["namespace"], node["key"], node["type"], node["value"])


def of_record(record: dict) -> tuple:
    return (record["id"], record["namespace"], record["key"], record["type"], record["value"])


def test_graphql_metafields_of_every_owner_agree_with_truth(sim, metafield_shop):
    # given
    domain, token = metafield_shop()
    owners = truth_by_owner(sim, domain)
    queries = (
        f'{{ orders(first: 50, query: "status:any") {{ nodes {{ id {MF} }} }} }}',
        f"{{ customers(first: 50) {{ nodes {{ id {MF} }} }} }}",
        f"{{ products(first: 10) {{ nodes {{ id {MF} variants(first: 8) {{ nodes {{ id {MF} }} }} }} }} }}",
    )
    # when
    data: dict = {}
    for query in queries:
        answer = sim.graphql(query, token=token, shop=domain).json()
        assert "errors" not in answer, answer
        data.update(answer["data"])
    # then
    served: dict[tuple[str, int], list[tuple]] = {}
    for kind, nodes in (("order", data["orders"]["nodes"]), ("customer", data["customers"]["nodes"])):
        for node in nodes:
            served[(kind, numeric(node["id"]))] = [as_truth(m) for m in node["metafields"]["nodes"]]
    for product in data["products"]["nodes"]:
        served[("product", numeric(product["id"]))] = [as_truth(m) for m in product["metafields"]["nodes"]]
        for variant in product["variants"]["nodes"]:
            served[("variant", numeric(variant["id"]))] = [
                as_truth(m) for m in variant["metafields"]["nodes"]
            ]
    expected = {owner: [of_record(r) for r in rows] for owner, rows in owners.items()}
    assert {k: v for k, v in served.items() if v} == expected
    assert {kind for kind, _ in expected} == {"order", "customer", "product", "variant"}
    assert max(len(v) for v in expected.values()) <= 2
    assert len({r[1] for rows in expected.values() for r in rows}) >= 3


def test_metafield_lookup_filters_and_node(sim, metafield_shop):
    # given
    domain, token = metafield_shop()
    owners = truth_by_owner(sim, domain)
    (_kind, owner_id), rows = next(((k, i), r) for (k, i), r in owners.items() if k == "customer")
    wanted = rows[0]
    query = f"""{{ customer(id: "gid://shopify/Customer/{owner_id}") {{
      one: metafield(namespace: "{wanted["namespace"]}", key: "{wanted["key"]}") {{ id value }}
      dotted: metafield(key: "{wanted["namespace"]}.{wanted["key"]}") {{ id }}
      missing: metafield(namespace: "nope", key: "nothing") {{ id }}
      inNamespace: metafields(first: 5, namespace: "{wanted["namespace"]}") {{ nodes {{ namespace }} }}
      byKeys: metafields(first: 5, keys: ["{wanted["namespace"]}.{wanted["key"]}"]) {{ nodes {{ key }} }} }}
      node(id: "gid://shopify/Metafield/{wanted["id"]}") {{ ... on Metafield {{ key ownerType
        owner {{ ... on Customer {{ id }} }} }} }} }}"""
    # when
    data = sim.graphql(query, token=token, shop=domain).json()["data"]
    # then
    customer = data["customer"]
    assert customer["one"] == {"id": f"gid://shopify/Metafield/{wanted['id']}", "value": wanted["value"]}
    assert customer["dotted"] == {"id": customer["one"]["id"]}
    assert customer["missing"] is None
    assert {m["namespace"] for m in customer["inNamespace"]["nodes"]} == {wanted["namespace"]}
    assert customer["byKeys"]["nodes"] == [{"key": wanted["key"]}]
    assert data["node"] == {
        "key": wanted["key"],
        "ownerType": "CUSTOMER",
        "owner": {"id": f"gid://shopify/Customer/{owner_id}"},
    }


def test_bulk_metafields_are_child_lines_of_their_owner(sim, metafield_shop):
    # given
    domain, token = metafield_shop()
    owners = truth_by_owner(sim, domain)
    query = """{ products { edges { node { id metafields { edges { node { id key value } } }
      variants { edges { node { id metafields { edges { node { id key value } } } } } } } } } }"""
    # when
    done = wait(sim, start(sim, query, token, domain)["bulkOperation"]["id"], token, domain)
    lines = lines_of(done["url"])
    # then: products → variants → metafields (two nested levels) is accepted, each metafield under its owner
    served: dict[tuple[str, int], list[int]] = defaultdict(list)
    for line in lines:
        if line["id"].startswith("gid://shopify/Metafield/"):
            parent = line["__parentId"]
            kind = "variant" if "/ProductVariant/" in parent else "product"
            served[(kind, numeric(parent))].append(numeric(line["id"]))
    expected = {
        owner: [r["id"] for r in rows] for owner, rows in owners.items() if owner[0] in ("product", "variant")
    }
    assert dict(served) == expected


def test_rest_metafield_routes_agree_with_truth(sim, metafield_shop):
    # given
    domain, token = metafield_shop()
    owners = truth_by_owner(sim, domain)
    paths = {"order": "orders", "customer": "customers", "product": "products", "variant": "variants"}
    # when / then
    for (kind, owner_id), rows in owners.items():
        listed = sim.rest(
            f"{paths[kind]}/{owner_id}/metafields.json", {"status": "any"}, token=token, shop=domain
        )
        assert listed.json() == {"metafields": rows}
    (kind, owner_id), rows = next(iter(owners.items()))
    count = sim.rest(f"{paths[kind]}/{owner_id}/metafields/count.json", token=token, shop=domain).json()
    one = sim.rest(
        f"{paths[kind]}/{owner_id}/metafields/{rows[0]['id']}.json", token=token, shop=domain
    ).json()
    filtered = sim.rest(
        f"{paths[kind]}/{owner_id}/metafields.json", {"namespace": "none"}, token=token, shop=domain
    ).json()
    assert count == {"count": len(rows)}
    assert one == {"metafield": rows[0]}
    assert filtered == {"metafields": []}
    assert sim.rest("customers/1/metafields.json", token=token, shop=domain).status_code == 404
    variant_owner = next(i for (k, i) in owners if k == "variant")
    product_id = sim.graphql(
        f'{{ productVariant(id: "gid://shopify/ProductVariant/{variant_owner}") {{ product {{ legacyResourceId }} }} }}',
        token=token,
        shop=domain,
    ).json()["data"]["productVariant"]["product"]["legacyResourceId"]
    nested = sim.rest(
        f"products/{product_id}/variants/{variant_owner}/metafields.json", token=token, shop=domain
    ).json()
    assert nested == {"metafields": owners[("variant", variant_owner)]}


def test_metafield_changes_are_silent_and_bump_the_owner_only_when_asked(sim, metafield_shop, receiver):
    # given
    domain, _token = metafield_shop()
    owners = truth_by_owner(sim, domain)
    (_kind, product_id), rows = next(((k, i), r) for (k, i), r in owners.items() if k == "product")
    sim.control.subscribe(["products/update"], receiver.url, shop=domain)
    before = {r["id"]: r["updated_at"] for r in sim.control.truth("products", shop=domain)["records"]}
    url = f"{sim.base_url}/_sim/shops/{domain}/metafields"
    # when: an edit with the default setting
    edited = requests.post(
        url,
        json={
            "owner_type": "product",
            "owner_id": product_id,
            "namespace": rows[0]["namespace"],
            "key": rows[0]["key"],
            "value": "changed",
        },
        timeout=30,
    ).json()["metafield"]
    sim.control.flush_webhooks(shop=domain)
    silent = list(receiver.requests)
    middle = {r["id"]: r["updated_at"] for r in sim.control.truth("products", shop=domain)["records"]}
    sim.control.update_settings(shop=domain, metafield_bumps_owner=True)
    created = requests.post(
        url,
        json={
            "owner_type": "product",
            "owner_id": product_id,
            "namespace": "custom",
            "key": "fresh",
            "value": 7,
        },
        timeout=30,
    ).json()["metafield"]
    sim.control.flush_webhooks(shop=domain)
    after = {r["id"]: r["updated_at"] for r in sim.control.truth("products", shop=domain)["records"]}
    deleted = requests.delete(f"{url}/{created['id']}", timeout=30)
    # then
    assert edited["id"] == rows[0]["id"] and edited["value"] == "changed"
    assert edited["updated_at"] != rows[0]["updated_at"]
    assert middle == before and silent == []
    assert after[product_id] > before[product_id]
    assert created["value"] == "7"
    assert list(receiver.requests) == []
    assert deleted.status_code == 200
    truth = requests.get(f"{sim.base_url}/_sim/shops/{domain}/truth/metafields", timeout=30).json()
    assert created["id"] in truth["deleted_ids"]


def test_owner_deletion_and_change_generator(sim, metafield_shop):
    # given
    domain, _token = metafield_shop()
    owners = truth_by_owner(sim, domain)
    product_id, rows = next((i, r) for (k, i), r in owners.items() if k == "product")
    before = {
        r["id"]: r["hash"]
        for r in requests.get(f"{sim.base_url}/_sim/shops/{domain}/truth/metafields", timeout=30).json()[
            "records"
        ]
    }
    # when
    sim.control.delete("products", product_id, shop=domain)
    changes = sim.control.mutate(
        count=10,
        seed=3,
        mix={"metafields/update": 2, "metafields/create": 1, "metafields/delete": 1},
        shop=domain,
    )
    # then
    truth = requests.get(f"{sim.base_url}/_sim/shops/{domain}/truth/metafields", timeout=30).json()
    live = {r["id"]: r["hash"] for r in truth["records"]}
    assert {r["id"] for r in rows} <= set(truth["deleted_ids"])
    assert not any(r["owner_id"] == product_id for r in truth["records"])
    assert {c["action"] for c in changes} >= {"update", "create"}
    last = {change["id"]: change["action"] for change in changes}
    assert all((action == "delete") != (mid in live) for mid, action in last.items())
    for change in changes:
        if change["action"] == "update" and last[change["id"]] == "update" and change["id"] in before:
            assert live[change["id"]] != before[change["id"]]
        if change["action"] == "create":
            assert change["id"] not in before
        if change["action"] == "delete":
            assert change["id"] not in live


def test_no_metafields_when_the_shop_asks_for_none(sim, metafield_shop):
    # given
    domain, _token = metafield_shop(metafields_per_record=0)
    # when
    truth = requests.get(f"{sim.base_url}/_sim/shops/{domain}/truth/metafields", timeout=30).json()
    # then
    assert truth["count"] == 0
