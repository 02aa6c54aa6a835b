"""A customer in full (contract §8.6, §8.14): every address and the default, email and SMS marketing
consent, locale and lifetime figures; each surface (GraphQL, bulk, REST, webhooks) against the truth,
and the address book and consent changes of the control API and the change generator."""

from __future__ import annotations

import uuid
from datetime import datetime

import orjson
import pytest
import requests

from shopify_sim.testing import SimulatorProcess
from tests.simulator.conftest import ANCHOR
from tests.simulator.test_bulk import lines_of, start, wait

CUSTOMER_FIELDS = """id locale numberOfOrders amountSpent { amount currencyCode } email phone
  defaultAddress { id } addresses { id address1 city zip }
  addressesV2(first: 5) { nodes { id } }
  emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
  smsMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt consentCollectedFrom }
  defaultEmailAddress { emailAddress marketingState marketingOptInLevel marketingUpdatedAt }
  defaultPhoneNumber { phoneNumber marketingState marketingOptInLevel marketingUpdatedAt marketingCollectedFrom }"""


@pytest.fixture
def customer_shop(sim: SimulatorProcess):
    def make(**options) -> tuple[str, str]:
        domain = f"cus{uuid.uuid4().hex[:10]}.myshopify.com"
        token = f"shpat_{uuid.uuid4().hex}"
        defaults = {
            "orders": 60,
            "customers": 40,
            "products": 5,
            "seed": 8,
            "anchor": ANCHOR,
            "plan": "plus",
            "webhook_time_scale": 0.0005,
        }
        sim.control.create_shop(domain, token=token, **{**defaults, **options})
        return domain, token

    return make


def control(sim: SimulatorProcess, method: str, domain: str, path: str, body: dict | None = None):
    return requests.request(method, f"{sim.base_url}/_sim/shops/{domain}/{path}", json=body, timeout=30)


def numeric(value: str) -> int:
    return int(value.split("?")[0].rsplit("/", 1)[1])


def instant(value: str | None) -> float | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def truth_customers(sim: SimulatorProcess, domain: str) -> dict[int, dict]:
    return {r["id"]: r["record"] for r in sim.control.truth("customers", full=True, shop=domain)["records"]}


def expected_graphql(record: dict) -> dict:
    """What the GraphQL customer must say, read from the truth's REST record."""
    email, sms = record["email_marketing_consent"], record["sms_marketing_consent"]
    return {
        "numberOfOrders": str(record["orders_count"]),
        "amountSpent": record["total_spent"],
        "addresses": [a["id"] for a in record["addresses"]],
        "default": record["default_address"]["id"] if record["default_address"] else None,
        "email": email
        and (email["state"].upper(), email["opt_in_level"].upper(), instant(email["consent_updated_at"])),
        "sms": sms
        and (
            sms["state"].upper(),
            sms["opt_in_level"].upper(),
            instant(sms["consent_updated_at"]),
            sms["consent_collected_from"],
        ),
    }


def served_graphql(node: dict) -> dict:
    email, sms = node["emailMarketingConsent"], node["smsMarketingConsent"]
    return {
        "numberOfOrders": node["numberOfOrders"],
        "amountSpent": node["amountSpent"]["amount"],
        "addresses": [numeric(a["id"]) for a in node["addresses"]],
        "default": numeric(node["defaultAddress"]["id"]) if node["defaultAddress"] else None,
        "email": email
        and (email["marketingState"], email["marketingOptInLevel"], instant(email["consentUpdatedAt"])),
        "sms": sms
        and (
            sms["marketingState"],
            sms["marketingOptInLevel"],
            instant(sms["consentUpdatedAt"]),
            sms["consentCollectedFrom"],
        ),
    }


def test_graphql_and_rest_customers_agree_with_truth(sim, customer_shop):
    # given
    domain, token = customer_shop()
    truth = truth_customers(sim, domain)
    # when
    nodes = sim.graphql(
        f"{{ customers(first: 40) {{ nodes {{ {CUSTOMER_FIELDS} }} }} }}", token=token, shop=domain
    ).json()["data"]["customers"]["nodes"]
    rest = sim.rest("customers.json", {"limit": 250}, token=token, shop=domain).json()["customers"]
    # then: every surface says what the truth says
    assert {numeric(n["id"]): served_graphql(n) for n in nodes} == {
        cid: expected_graphql(r) for cid, r in truth.items()
    }
    assert {c["id"]: c for c in rest} == truth
    # the generated data has the variety a mirror must survive
    states = {(r["email_marketing_consent"] or {}).get("state") for r in truth.values()}
    assert {"subscribed", "not_subscribed", "unsubscribed"} <= states
    assert any(r["sms_marketing_consent"] for r in truth.values())
    assert any(len(r["addresses"]) >= 2 for r in truth.values())
    assert {n["locale"] for n in nodes} >= {"en"} and len({n["locale"] for n in nodes}) > 1
    for node in nodes:
        # the connection holds the same addresses as the list; the 2025-04+ objects the same consent
        assert [a["id"] for a in node["addressesV2"]["nodes"]] == [a["id"] for a in node["addresses"]]
        email, address = node["emailMarketingConsent"], node["defaultEmailAddress"]
        assert (email is None) == (address is None) == (node["email"] is None)
        if email:
            assert (address["marketingState"], address["marketingUpdatedAt"]) == (
                email["marketingState"],
                email["consentUpdatedAt"],
            )
        sms, phone = node["smsMarketingConsent"], node["defaultPhoneNumber"]
        assert (sms is None) == (phone is None) == (node["phone"] is None)
        if sms:
            assert (phone["marketingState"], phone["marketingCollectedFrom"]) == (
                sms["marketingState"],
                sms["consentCollectedFrom"],
            )


def test_rest_address_routes_list_every_address_with_paging(sim, customer_shop):
    # given
    domain, token = customer_shop()
    truth = truth_customers(sim, domain)
    customer_id, record = max(truth.items(), key=lambda item: len(item[1]["addresses"]))
    # when
    first = sim.rest(f"customers/{customer_id}/addresses.json", {"limit": 1}, token=token, shop=domain)
    everything = sim.rest(f"customers/{customer_id}/addresses.json", token=token, shop=domain).json()
    one = sim.rest(
        f"customers/{customer_id}/addresses/{record['addresses'][-1]['id']}.json", token=token, shop=domain
    ).json()
    count = sim.rest(f"customers/{customer_id}/addresses/count.json", token=token, shop=domain).json()
    missing = sim.rest("customers/1/addresses.json", token=token, shop=domain)
    # then
    assert everything["addresses"] == record["addresses"]
    assert first.json()["addresses"] == record["addresses"][:1]
    assert 'rel="next"' in first.headers["Link"]
    assert one["customer_address"] == record["addresses"][-1]
    assert count == {"count": len(record["addresses"])}
    assert [a["default"] for a in everything["addresses"]].count(True) == 1
    assert missing.status_code == 404


def test_bulk_customers_carry_addresses_inline_and_addresses_v2_as_child_lines(sim, customer_shop):
    # given
    domain, token = customer_shop()
    truth = truth_customers(sim, domain)
    query = """{ customers { edges { node { id locale numberOfOrders
      emailMarketingConsent { marketingState } smsMarketingConsent { marketingState }
      defaultAddress { id } addresses { id }
      addressesV2 { edges { node { id city } } } } } } }"""
    # when
    done = wait(sim, start(sim, query, token, domain)["bulkOperation"]["id"], token, domain)
    lines = lines_of(done["url"])
    # then
    children: dict[int, list[int]] = {}
    parents = {}
    for line in lines:
        if "__parentId" in line:
            children.setdefault(numeric(line["__parentId"]), []).append(numeric(line["id"]))
        else:
            parents[numeric(line["id"])] = line
    assert set(parents) == set(truth)
    for cid, line in parents.items():
        record = truth[cid]
        ids = [a["id"] for a in record["addresses"]]
        assert [numeric(a["id"]) for a in line["addresses"]] == ids
        assert children.get(cid, []) == ids
        assert line["numberOfOrders"] == str(record["orders_count"])
        email = record["email_marketing_consent"]
        assert (line["emailMarketingConsent"] or {}).get("marketingState") == (
            email["state"].upper() if email else None
        )


def test_address_book_changes_bump_the_customer_and_send_customers_update(sim, customer_shop, receiver):
    # given
    domain, token = customer_shop()
    truth = truth_customers(sim, domain)
    customer_id, record = next((cid, r) for cid, r in truth.items() if len(r["addresses"]) >= 2)
    default_id = record["default_address"]["id"]
    other = next(a["id"] for a in record["addresses"] if a["id"] != default_id)
    sim.control.subscribe(["customers/update"], receiver.url, shop=domain)
    # when
    added = control(sim, "POST", domain, f"customers/{customer_id}/addresses", {"city": "Ottawa"}).json()
    control(
        sim, "PATCH", domain, f"customers/{customer_id}/addresses/{other}", {"default": True, "zip": "K1A"}
    )
    refused = control(sim, "DELETE", domain, f"customers/{customer_id}/addresses/{other}")
    removed = control(sim, "DELETE", domain, f"customers/{customer_id}/addresses/{default_id}")
    # then
    assert refused.status_code == 422
    assert removed.status_code == 200
    after = truth_customers(sim, domain)[customer_id]
    new_id = added["customer_address"]["id"]
    assert [a["id"] for a in after["addresses"]] == [new_id] + [
        a["id"] for a in record["addresses"] if a["id"] != default_id
    ]
    assert after["default_address"]["id"] == other and after["default_address"]["zip"] == "K1A"
    assert after["addresses"][0]["city"] == "Ottawa"
    assert instant(after["updated_at"]) > instant(record["updated_at"])
    bodies = [orjson.loads(d["body"]) for d in receiver.wait_for(3)]
    assert [b["id"] for b in bodies] == [customer_id] * 3
    assert bodies[-1]["addresses"] == after["addresses"]
    events = sim.rest(f"customers/{customer_id}/events.json", token=token, shop=domain).json()["events"]
    assert [e["verb"] for e in events].count("update") == 3


def test_consent_changes_send_their_topics_and_customers_update(sim, customer_shop, receiver):
    # given
    domain, token = customer_shop()
    truth = truth_customers(sim, domain)
    customer_id = next(cid for cid, r in truth.items() if r["email"] and r["phone"])
    sim.control.subscribe(
        [
            "customers_email_marketing_consent/update",
            "customers_marketing_consent/update",
            "customers/update",
        ],
        receiver.url,
        shop=domain,
    )
    # when
    email = control(
        sim,
        "POST",
        domain,
        f"customers/{customer_id}/marketing_consent",
        {"channel": "email", "state": "unsubscribed"},
    ).json()["customer"]
    sms = control(
        sim,
        "POST",
        domain,
        f"customers/{customer_id}/marketing_consent",
        {"channel": "sms", "state": "subscribed", "opt_in_level": "confirmed_opt_in"},
    ).json()["customer"]
    bad = control(
        sim, "POST", domain, f"customers/{customer_id}/marketing_consent", {"channel": "sms", "state": "x"}
    )
    # then
    assert bad.status_code == 422
    deliveries = receiver.wait_for(4)
    by_topic: dict[str, list[dict]] = {}
    for delivery in deliveries:
        by_topic.setdefault(delivery["headers"]["X-Shopify-Topic"], []).append(orjson.loads(delivery["body"]))
    assert by_topic["customers_email_marketing_consent/update"] == [
        {
            "customer_id": customer_id,
            "email_address": email["email"],
            "email_marketing_consent": email["email_marketing_consent"],
        }
    ]
    assert by_topic["customers_marketing_consent/update"] == [
        {
            "customer_id": customer_id,
            "phone_number": sms["phone"],
            "sms_marketing_consent": sms["sms_marketing_consent"],
        }
    ]
    assert len(by_topic["customers/update"]) == 2
    assert email["email_marketing_consent"]["state"] == "unsubscribed"
    assert sms["sms_marketing_consent"]["state"] == "subscribed"
    assert sms["sms_marketing_consent"]["opt_in_level"] == "confirmed_opt_in"
    assert sms["sms_marketing_consent"]["consent_updated_at"] == sms["updated_at"]
    node = sim.graphql(
        f'{{ customer(id: "gid://shopify/Customer/{customer_id}") {{ {CUSTOMER_FIELDS} }} }}',
        token=token,
        shop=domain,
    ).json()["data"]["customer"]
    assert served_graphql(node) == expected_graphql(truth_customers(sim, domain)[customer_id])


def test_change_generator_moves_addresses_and_consent(sim, customer_shop):
    # given
    domain, _token = customer_shop()
    before = {r["id"]: r["hash"] for r in sim.control.truth("customers", shop=domain)["records"]}
    mix = {
        "customer_addresses/update": 1,
        "customers_email_marketing_consent/update": 1,
        "customers_marketing_consent/update": 1,
    }
    # when
    changes = sim.control.mutate(count=12, seed=2, mix=mix, shop=domain)
    # then: every change touched its customer's record (and its hash)
    after = {r["id"]: r["hash"] for r in sim.control.truth("customers", shop=domain)["records"]}
    assert {c["action"] for c in changes} >= {"update", "email_consent", "sms_consent"}
    assert all(after[c["id"]] != before[c["id"]] for c in changes)


def test_same_seed_same_customers(sim, customer_shop):
    # given
    first, _ = customer_shop()
    second, _ = customer_shop()
    # when
    one = sim.control.truth("customers", shop=first)["records"]
    two = sim.control.truth("customers", shop=second)["records"]
    # then
    assert one == two
