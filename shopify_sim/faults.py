"""Fault injection: a seeded profile (global and per shop) and counters of what was injected.

Every decision goes through one seeded RNG, so a run with the same seed and the same request sequence
injects the same faults.
"""

from __future__ import annotations

import dataclasses
import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from shopify_sim.gid import parse_gid
from shopify_sim.httpio import Response, json_response

MALFORMED_KINDS = ("missing_id", "bad_updated_at", "bad_money")
SERVER_ERROR_STATUSES = (500, 502, 503, 504)


@dataclass
class FaultProfile:
    seed: int | None = None
    # HTTP-level (Admin API routes: GraphQL, REST, bulk downloads)
    rest_429_share: float = 0.0
    graphql_throttle_share: float = 0.0
    server_error_share: float = 0.0
    server_error_statuses: list[int] = field(default_factory=lambda: list(SERVER_ERROR_STATUSES))
    slow_share: float = 0.0
    slow_seconds: float = 1.0
    drop_connection_share: float = 0.0
    retry_after_seconds: float = 1.0
    paths: list[str] = field(default_factory=list)  # regexes; empty = every Admin API path
    # data
    malformed_record_share: float = 0.0
    malformed_kinds: list[str] = field(default_factory=lambda: list(MALFORMED_KINDS))
    # webhooks
    webhook_duplicate_share: float = 0.0
    webhook_out_of_order_share: float = 0.0
    webhook_delay_share: float = 0.0
    webhook_delay_seconds: float = 2.0
    webhook_drop_share: float = 0.0
    # bulk operations
    bulk_fail_share: float = 0.0
    bulk_fail_after_fraction: float = 0.5
    bulk_error_code: str = "INTERNAL_SERVER_ERROR"
    bulk_rows_per_second: float = 0.0
    # JSONL downloads: the connection is cut after this fraction of the (requested) bytes
    bulk_download_drop_share: float = 0.0
    bulk_download_drop_after_fraction: float = 0.5
    # stop injecting HTTP faults after this many (None = no limit)
    max_faults: int | None = None

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> FaultProfile:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(unknown)}")
        return cls(**data)


class Faults:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.global_profile = FaultProfile()
        self.shop_profiles: dict[str, FaultProfile] = {}
        self.rng = random.Random(0)
        self.counters: Counter[str] = Counter()
        self.malformed: list[dict[str, Any]] = []
        self.http_injected = 0

    # -- configuration -----------------------------------------------------------------------------
    def configure(self, data: dict[str, Any]) -> None:
        data = dict(data)
        shop = data.pop("shop", None)
        profile = FaultProfile.from_mapping(data)
        with self.lock:
            if shop:
                self.shop_profiles[shop] = profile
            else:
                self.global_profile = profile
            self.rng = random.Random(profile.seed)
            self.http_injected = 0

    def reset(self) -> None:
        with self.lock:
            self.global_profile = FaultProfile()
            self.shop_profiles.clear()
            self.counters.clear()
            self.malformed.clear()
            self.http_injected = 0

    def describe(self) -> dict[str, Any]:
        with self.lock:
            return {
                "profile": dataclasses.asdict(self.global_profile),
                "shops": {domain: dataclasses.asdict(p) for domain, p in self.shop_profiles.items()},
                "counters": dict(self.counters),
                "malformed": list(self.malformed),
            }

    def profile(self, domain: str) -> FaultProfile:
        return self.shop_profiles.get(domain, self.global_profile)

    # -- decisions ---------------------------------------------------------------------------------
    def _roll(self, domain: str, share_name: str, counter: str, http: bool = False) -> bool:
        profile = self.profile(domain)
        share = getattr(profile, share_name)
        if share <= 0:
            return False
        with self.lock:
            if http and profile.max_faults is not None and self.http_injected >= profile.max_faults:
                return False
            hit = self.rng.random() < share
            if hit:
                self.counters[counter] += 1
                if http:
                    self.http_injected += 1
        return hit

    def applies(self, domain: str, path: str) -> bool:
        patterns = self.profile(domain).paths
        return not patterns or any(re.search(p, path) for p in patterns)

    def http_fault(self, domain: str, api: str, path: str) -> Response | None:
        """A fault response for an Admin API request, or None to serve it (maybe after a delay)."""
        if not self.applies(domain, path):
            return None
        profile = self.profile(domain)
        if self._roll(domain, "drop_connection_share", "dropped_connection", http=True):
            return Response(drop_connection=True)
        if self._roll(domain, "server_error_share", "server_error", http=True):
            with self.lock:
                status = self.rng.choice(profile.server_error_statuses or [500])
            return json_response({"errors": "Internal Server Error"}, status=status)
        if api == "rest" and self._roll(domain, "rest_429_share", "rest_429", http=True):
            return json_response(
                {
                    "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
                },
                status=429,
                headers={"Retry-After": f"{profile.retry_after_seconds:.1f}"},
            )
        if self._roll(domain, "slow_share", "slow_response", http=True):
            return Response(status=0, delay_seconds=profile.slow_seconds)
        return None

    def graphql_throttle(self, domain: str) -> bool:
        return self._roll(domain, "graphql_throttle_share", "graphql_throttled", http=True)

    def webhook_duplicate(self, domain: str) -> bool:
        return self._roll(domain, "webhook_duplicate_share", "webhook_duplicate")

    def webhook_out_of_order(self, domain: str) -> bool:
        return self._roll(domain, "webhook_out_of_order_share", "webhook_out_of_order")

    def webhook_delay(self, domain: str) -> float:
        if self._roll(domain, "webhook_delay_share", "webhook_delayed"):
            return self.profile(domain).webhook_delay_seconds
        return 0.0

    def webhook_drop(self, domain: str) -> bool:
        return self._roll(domain, "webhook_drop_share", "webhook_dropped")

    def bulk_failure(self, domain: str) -> tuple[float, str] | None:
        profile = self.profile(domain)
        if self._roll(domain, "bulk_fail_share", "bulk_failed"):
            return profile.bulk_fail_after_fraction, profile.bulk_error_code
        return None

    def bulk_download_drop(self, domain: str) -> float | None:
        """The fraction of the body to send before cutting a download, or None to send it all.
        Counts towards `max_faults` like the other HTTP faults (so "drop once, then resume" works)."""
        if self._roll(domain, "bulk_download_drop_share", "bulk_download_dropped", http=True):
            return min(max(self.profile(domain).bulk_download_drop_after_fraction, 0.0), 1.0)
        return None

    def bulk_rows_per_second(self, domain: str) -> float:
        return self.profile(domain).bulk_rows_per_second

    # -- malformed records -------------------------------------------------------------------------
    def malform_graphql(self, domain: str, data: dict[str, Any]) -> None:
        if self.profile(domain).malformed_record_share <= 0:
            return
        for value in data.values():
            if isinstance(value, dict):
                for node in connection_nodes(value):
                    self.maybe_malform(domain, node, "graphql")

    def maybe_malform(self, domain: str, node: dict[str, Any], where: str) -> bool:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str):
            return False
        if not self._roll(domain, "malformed_record_share", f"malformed_{where}"):
            return False
        kinds = self.profile(domain).malformed_kinds or list(MALFORMED_KINDS)
        with self.lock:
            kind = self.rng.choice(kinds)
        parsed = parse_gid(node["id"]) or ("?", 0)
        applied = corrupt(node, kind)
        with self.lock:
            self.malformed.append(
                {"shop": domain, "where": where, "type": parsed[0], "id": parsed[1], "kind": applied}
            )
        return True


def connection_nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [e.get("node") for e in connection.get("edges") or [] if isinstance(e, dict)]
    if not nodes:
        nodes = list(connection.get("nodes") or [])
    return [n for n in nodes if isinstance(n, dict)]


def corrupt(node: dict[str, Any], kind: str) -> str:
    """Break one field in place; falls back to dropping the id when the kind does not apply."""
    if kind == "bad_updated_at" and "updatedAt" in node:
        node["updatedAt"] = "not-a-timestamp"
        return kind
    if kind == "bad_money":
        for value in node.values():
            money = find_amount(value)
            if money is not None:
                money["amount"] = "12.3O"
                return kind
        if "price" in node:
            node["price"] = "N/A"
            return kind
    node.pop("id", None)
    return "missing_id"


def find_amount(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        if "amount" in value:
            return value
        for inner in value.values():
            found = find_amount(inner)
            if found is not None:
                return found
    return None
