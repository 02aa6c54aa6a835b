"""A small, generic polling client (no product code, nothing simulator-specific but the base URL) keeps
a copy of a store's ids while the store changes and deletes records under it, and ends with exactly
the truth endpoint's ids. What it uses is what any client of Shopify's REST Admin API can: list with
`updated_at_min` + Link paging, and `events.json?filter=…&verb=destroy` since its last run."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests

from shopify_sim.testing import SimulatorProcess

VERSION = "2026-01"
RESOURCES = ("orders", "customers", "products")
SUBJECTS = {"Order": "orders", "Customer": "customers", "Product": "products"}
LINK_RE = re.compile(r'<([^>]+)>; rel="next"')
OVERLAP = timedelta(seconds=3)  # re-read a little before the last run's start: clocks and commits race


@dataclass
class PollingClient:
    base_url: str  # https://shop/admin/api/{version}
    token: str
    ids: dict[str, set[int]] = field(default_factory=lambda: {r: set() for r in RESOURCES})
    last_run: datetime | None = None
    last_event_id: int = 0
    requests_made: int = 0
    removed: int = 0

    def get(self, url: str, params: dict | None = None) -> requests.Response:
        while True:
            response = requests.get(
                url, params=params, headers={"X-Shopify-Access-Token": self.token}, timeout=30
            )
            self.requests_made += 1
            if response.status_code == 429:  # a well-behaved client waits as told
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            response.raise_for_status()
            return response

    def pages(self, path: str, params: dict, key: str):
        response = self.get(f"{self.base_url}/{path}", params)
        while True:
            yield from response.json()[key]
            following = LINK_RE.search(response.headers.get("Link", ""))
            if following is None:
                return
            response = self.get(following.group(1))

    def run(self) -> None:
        started = datetime.now(UTC)
        for resource in RESOURCES:
            params: dict = {"limit": 50}
            if resource == "orders":
                params["status"] = "any"
            if self.last_run is not None:
                params["updated_at_min"] = (self.last_run - OVERLAP).isoformat()
            for record in self.pages(f"{resource}.json", params, resource):
                self.ids[resource].add(record["id"])
        events = {
            "filter": ",".join(SUBJECTS),
            "verb": "destroy",
            "since_id": self.last_event_id,
            "limit": 250,
        }
        for event in self.pages("events.json", events, "events"):
            self.last_event_id = max(self.last_event_id, event["id"])
            resource = SUBJECTS[event["subject_type"]]
            if event["subject_id"] in self.ids[resource]:
                self.ids[resource].discard(event["subject_id"])
                self.removed += 1
        self.last_run = started


def change_continuously(sim: SimulatorProcess, domain: str, stop: threading.Event, done: list[int]) -> None:
    mix = {
        "orders/create": 3,
        "orders/update": 3,
        "orders/delete": 1.5,
        "customers/create": 1,
        "customers/update": 1,
        "customers/delete": 1,
        "products/create": 1,
        "products/update": 1,
        "products/delete": 1,
    }
    seed = 100
    while not stop.is_set():
        done.append(len(sim.control.mutate(count=4, seed=seed, mix=mix, shop=domain)))
        seed += 1
        time.sleep(0.02)


def test_a_polling_client_ends_with_exactly_the_truths_ids(sim, new_shop):
    # given: a shop, a first full run, then changes running underneath the client's next runs
    domain = new_shop(orders=120, customers=40, products=20, plan="plus")
    token = sim.control.shop_info(domain)["token"]
    client = PollingClient(sim.api_url(VERSION, domain), token)
    client.run()
    stop, changes = threading.Event(), []
    changer = threading.Thread(target=change_continuously, args=(sim, domain, stop, changes), daemon=True)
    changer.start()
    try:
        # when
        for _ in range(4):
            client.run()
            time.sleep(0.3)
    finally:
        stop.set()
        changer.join(30)
    client.run()
    # then
    for resource in RESOURCES:
        facts = sim.control.truth(resource, shop=domain)
        assert client.ids[resource] == {r["id"] for r in facts["records"]}, resource
        assert facts["deleted_ids"], f"no {resource} were deleted: the test would prove nothing"
    assert sum(changes) >= 40
    assert client.removed > 0  # records it had seen were deleted, and it learnt so from events
