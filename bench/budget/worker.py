"""One process of the fleet: spend from one shop's GraphQL bucket through `ShopifyClient` for a while
and print what happened as one JSON line (the benchmark and the fleet test start several at once).

    python -m bench.budget.worker --api-base-url URL --domain D --token T --seconds 30 --start-at EPOCH

The budget backend is the settings' (`SHOPIFY_BUDGET_REDIS_URL`: set for the fleet's shared budget,
empty for each process's own estimate).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import django
import requests

QUERY = "query FleetPage($first: Int!) { orders(first: $first) { nodes { id name } } }"


class CostRecordingSession(requests.Session):
    """Counts what Shopify said about each GraphQL answer, independently of the client's counters."""

    def __init__(self) -> None:
        super().__init__()
        self.answers = 0
        self.throttled = 0
        self.points = 0.0

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(method, url, *args, **kwargs)
        if str(url).endswith("/graphql.json") and response.ok:
            body = response.json()
            self.answers += 1
            codes = {(error.get("extensions") or {}).get("code") for error in body.get("errors") or []}
            self.throttled += "THROTTLED" in codes
            self.points += float(body.get("extensions", {}).get("cost", {}).get("actualQueryCost") or 0)
        return response


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-base-url", required=True)
    parser.add_argument("--domain", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--first", type=int, default=40)
    parser.add_argument("--start-at", type=float, default=0.0, help="wall-clock epoch to start at")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    print(json.dumps(run(args)), flush=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from shopsync.models import Shop
    from shopsync.shopify import ShopifyClient

    shop = Shop(domain=args.domain, api_base_url=args.api_base_url, api_version="2026-01",
                access_token=args.token)  # fmt: skip
    session = CostRecordingSession()
    client = ShopifyClient(shop, session=session)
    time.sleep(max(0.0, args.start_at - time.time()))
    started = time.time()
    deadline = started + args.seconds
    while time.time() < deadline:
        client.graphql(QUERY, {"first": args.first})
    return {
        "pid": os.getpid(),
        "started": started,
        "finished": time.time(),
        "calls": client.graphql_calls,
        "answers": session.answers,
        "throttled": session.throttled,
        "points": session.points,
        "paced_waits": client.counters.paced_waits,
        "throttled_waits": client.throttled_waits,
    }


if __name__ == "__main__":
    main()
