from __future__ import annotations

import threading
import time

import requests

from shopify_sim.testing import run_simulator

HAMMERED_QUERY = "query { orders(first: 50) { nodes { id name lineItems(first: 5) { nodes { id } } } } }"


def test_mutate_per_minute_changes_the_store_and_sigterm_exits_cleanly(receiver):
    with run_simulator(
        orders=30, customers=10, products=5, mutate_per_minute=1200, webhook_url=receiver.url
    ) as sim:
        resources = ("orders", "customers", "products")
        before = {resource: sim.control.truth(resource) for resource in resources}
        # Changes start at once, so `before` may already hold the first ones (and the first webhook
        # be about one of them): wait for a change after it, not merely for the first webhook.
        deadline = time.time() + 10
        after = before
        while time.time() < deadline and (not receiver.requests or after == before):
            time.sleep(0.1)
            after = {resource: sim.control.truth(resource) for resource in resources}
        assert receiver.requests, "random changes must produce webhooks"
        # A random change may touch any resource: one of the three must differ.
        assert after != before
        assert any(s["source"] == "app" for s in sim.control.subscriptions())
    assert sim.process.returncode == 0
    assert "shopify_sim stopped" in sim.logs()


def test_dropped_webhooks_are_never_sent(sim, new_shop, receiver):
    domain = new_shop()
    sim.control.subscribe("customers/update", receiver.url, shop=domain)
    sim.control.set_faults(shop=domain, webhook_drop_share=1.0)
    try:
        customer_id = sim.control.truth("customers", shop=domain)["records"][0]["id"]
        sim.control.update("customers", customer_id, shop=domain, note="lost")
        sim.control.flush_webhooks(domain)
        assert receiver.requests == []
        assert sim.control.faults()["counters"]["webhook_dropped"] >= 1
    finally:
        sim.control.set_faults(shop=domain)


def test_export_rate_option_sets_the_default_shops_export_pace():
    # when
    with run_simulator(orders=10, customers=5, products=3, export_rate=2500) as sim:
        settings = sim.control.settings()
    # then
    assert settings["export_rate"] == 2500


def test_sigterm_while_requests_are_served_exits_cleanly():
    # given: eight keep-alive clients reading orders (GraphQL and REST) as fast as they can; before the
    # orderly shutdown, closing the stores under their handler threads crashed 9 in 12 such runs (SIGSEGV)
    codes = []
    for run in range(3):
        with run_simulator(orders=200, customers=20, products=10, seed=run) as sim:
            stop = threading.Event()

            def read(client: int) -> None:
                session = requests.Session()
                headers = {"X-Shopify-Access-Token": sim.token}
                while not stop.is_set():
                    try:
                        if client % 2:
                            session.post(f"{sim.api_url()}/graphql.json", json={"query": HAMMERED_QUERY},
                                         headers=headers, timeout=10)  # fmt: skip
                        else:
                            session.get(f"{sim.api_url()}/orders.json", params={"limit": 50}, headers=headers,
                                        timeout=10)  # fmt: skip
                    except requests.RequestException:
                        pass  # the simulator went away under this client: expected

            clients = [threading.Thread(target=read, args=(n,), daemon=True) for n in range(8)]
            for client in clients:
                client.start()
            time.sleep(1.0 + 0.3 * run)
            # when
            codes.append(sim.stop())
            stop.set()
        logs = sim.logs()
        # then: stopped in order, no crash (PYTHONFAULTHANDLER would print the stacks into the logs)
        assert codes[-1] == 0, logs[-5000:]
        assert "Fatal Python error" not in logs
        assert "shopify_sim stopped" in logs
    assert codes == [0, 0, 0]
