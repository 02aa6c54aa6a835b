"""Run the simulator as a subprocess for tests: `with run_simulator(orders=200) as sim: ...`.

`sim.base_url`, `sim.shop`, `sim.token`, `sim.api_key`, `sim.api_secret`; `sim.graphql(query)` and
`sim.rest(path)` for quick calls; `sim.control` wraps every /_sim/ endpoint (see README.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from shopify_sim.cli import READY_PREFIX

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VERSION = "2026-01"


class SimulatorError(RuntimeError):
    pass


class ControlClient:
    """One method per control endpoint; each returns the decoded JSON (raises on HTTP errors)."""

    def __init__(self, base_url: str, shop: str, session: requests.Session | None = None) -> None:
        self.base_url = base_url
        self.shop = shop
        self.session = session or requests.Session()

    def call(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: dict | None = None,
        expect: tuple[int, ...] = (),
    ) -> Any:
        response = self.session.request(
            method, f"{self.base_url}/_sim{path}", json=json, params=params, timeout=600
        )
        if response.status_code >= 400 and response.status_code not in expect:
            raise SimulatorError(f"{method} /_sim{path} -> {response.status_code}: {response.text[:500]}")
        return response.json()

    def _shop(self, shop: str | None) -> str:
        return shop or self.shop

    # shops and settings
    def health(self) -> dict:
        return self.call("GET", "/health")

    def shops(self) -> list[dict]:
        return self.call("GET", "/shops")["shops"]

    def create_shop(self, domain: str, **options: Any) -> dict:
        return self.call("POST", "/shops", {"domain": domain, **options})

    def shop_info(self, shop: str | None = None) -> dict:
        return self.call("GET", f"/shops/{self._shop(shop)}")

    def delete_shop(self, shop: str) -> dict:
        return self.call("DELETE", f"/shops/{shop}")

    def settings(self, shop: str | None = None) -> dict:
        return self.call("GET", f"/shops/{self._shop(shop)}/settings")

    def update_settings(self, shop: str | None = None, **changes: Any) -> dict:
        return self.call("PATCH", f"/shops/{self._shop(shop)}/settings", changes)

    # records
    def create(self, resource: str, shop: str | None = None, **fields: Any) -> dict:
        return self.call("POST", f"/shops/{self._shop(shop)}/{resource}", fields)[resource[:-1]]

    def get(self, resource: str, record_id: int, shop: str | None = None) -> dict:
        return self.call("GET", f"/shops/{self._shop(shop)}/{resource}/{record_id}")[resource[:-1]]

    def update(self, resource: str, record_id: int, shop: str | None = None, **fields: Any) -> dict:
        return self.call("PATCH", f"/shops/{self._shop(shop)}/{resource}/{record_id}", fields)[resource[:-1]]

    def delete(self, resource: str, record_id: int, shop: str | None = None) -> dict:
        return self.call("DELETE", f"/shops/{self._shop(shop)}/{resource}/{record_id}")

    def mutate(
        self,
        count: int = 1,
        seed: int | None = None,
        mix: dict[str, float] | None = None,
        shop: str | None = None,
    ) -> list[dict]:
        body = {"count": count, "seed": seed, "mix": mix}
        return self.call("POST", f"/shops/{self._shop(shop)}/mutate", body)["changes"]

    def truth(self, resource: str, full: bool = False, shop: str | None = None) -> dict:
        params = {"full": "1"} if full else None
        return self.call("GET", f"/shops/{self._shop(shop)}/truth/{resource}", params=params)

    # webhooks
    def subscribe(
        self, topic: str | list[str], address: str, shop: str | None = None, source: str = "api", **extra: Any
    ) -> list[dict]:
        topics = topic if isinstance(topic, list) else [topic]
        body = {"topics": topics, "address": address, "source": source, **extra}
        return self.call("POST", f"/shops/{self._shop(shop)}/webhooks/subscriptions", body)["subscriptions"]

    def subscriptions(self, shop: str | None = None) -> list[dict]:
        return self.call("GET", f"/shops/{self._shop(shop)}/webhooks/subscriptions")["subscriptions"]

    def unsubscribe(self, subscription_id: int, shop: str | None = None) -> dict:
        return self.call("DELETE", f"/shops/{self._shop(shop)}/webhooks/subscriptions/{subscription_id}")

    def deliveries(self, shop: str | None = None, include_body: bool = False, **filters: str) -> list[dict]:
        params = {**filters, **({"include_body": "1"} if include_body else {})}
        return self.call("GET", f"/shops/{self._shop(shop)}/webhooks/deliveries", params=params)["deliveries"]

    def clear_deliveries(self, shop: str | None = None) -> dict:
        return self.call("DELETE", f"/shops/{self._shop(shop)}/webhooks/deliveries")

    def flush_webhooks(self, shop: str | None = None, timeout: float = 30.0) -> dict:
        return self.call("POST", f"/shops/{self._shop(shop)}/webhooks/flush", {"timeout": timeout})

    def send_privacy_webhook(
        self, topic: str, address: str | None = None, shop: str | None = None, **extra: Any
    ) -> dict:
        return self.call(
            "POST",
            f"/shops/{self._shop(shop)}/webhooks/privacy",
            {"topic": topic, "address": address, **extra},
        )

    def uninstall(self, shop: str | None = None) -> dict:
        return self.call("POST", f"/shops/{self._shop(shop)}/uninstall")

    def session_token(self, shop: str | None = None, lifetime: int = 60) -> str:
        return self.call("POST", f"/shops/{self._shop(shop)}/session_token", {"lifetime": lifetime})[
            "session_token"
        ]

    def mint_token(self, shop: str | None = None, **options: Any) -> dict:
        return self.call("POST", f"/shops/{self._shop(shop)}/tokens", options)

    # bulk
    def bulk_operations(self, shop: str | None = None) -> list[dict]:
        return self.call("GET", f"/shops/{self._shop(shop)}/bulk")["operations"]

    def expire_bulk(self, operation_id: int | str, shop: str | None = None) -> dict:
        numeric = str(operation_id).rsplit("/", 1)[-1]
        return self.call("POST", f"/shops/{self._shop(shop)}/bulk/{numeric}/expire")

    # faults and requests
    def faults(self) -> dict:
        return self.call("GET", "/faults")

    def set_faults(self, shop: str | None = None, **profile: Any) -> dict:
        body = {**profile, **({"shop": shop} if shop else {})}
        return self.call("PUT", "/faults", body)

    def clear_faults(self) -> dict:
        return self.call("DELETE", "/faults")

    def requests(self) -> dict:
        return self.call("GET", "/requests")

    def reset_requests(self) -> dict:
        return self.call("DELETE", "/requests")


class SimulatorProcess:
    def __init__(
        self, process: subprocess.Popen, base_url: str, options: dict[str, Any], output: deque[str]
    ) -> None:
        self.process = process
        self.base_url = base_url
        self.port = int(base_url.rsplit(":", 1)[1])
        self.shop: str = options.get("shop", "demo.myshopify.com")
        self.token: str = options.get("token", "shpat_demo_token")
        self.api_key: str = options.get("api_key", "shopsync-dev-api-key")
        self.api_secret: str = options.get("api_secret", "shopsync-dev-api-secret")
        self.output = output
        self.session = requests.Session()
        self.control = ControlClient(base_url, self.shop, requests.Session())

    def api_url(self, version: str = DEFAULT_VERSION, shop: str | None = None) -> str:
        prefix = f"/shops/{shop}" if shop and shop != self.shop else ""
        return f"{self.base_url}{prefix}/admin/api/{version}"

    def graphql(
        self,
        query: str,
        variables: dict | None = None,
        token: str | None = None,
        version: str = DEFAULT_VERSION,
        shop: str | None = None,
    ) -> requests.Response:
        return self.session.post(
            f"{self.api_url(version, shop)}/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": token or self.token},
            timeout=120,
        )

    def rest(
        self,
        path: str,
        params: dict | None = None,
        token: str | None = None,
        version: str = DEFAULT_VERSION,
        shop: str | None = None,
    ) -> requests.Response:
        return self.session.get(
            f"{self.api_url(version, shop)}/{path.lstrip('/')}",
            params=params,
            headers={"X-Shopify-Access-Token": token or self.token},
            timeout=120,
        )

    def logs(self) -> str:
        return "\n".join(self.output)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def command(options: dict[str, Any]) -> list[str]:
    args = [sys.executable, "-m", "shopify_sim", "--port", str(options.pop("port", 0))]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if name == "read_all_orders":
            if not value:
                args.append("--no-read-all-orders")
        elif isinstance(value, bool):
            if value:
                args.append(flag)
        elif isinstance(value, list | tuple):
            args.extend([flag, ",".join(map(str, value))])
        elif value is not None:
            args.extend([flag, str(value)])
    return args


def start_simulator(startup_timeout: float = 300.0, **options: Any) -> SimulatorProcess:
    """Start `python -m shopify_sim` on a free port and wait until it answers."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONFAULTHANDLER"] = "1"  # a crash prints every thread's stack into the output kept below
    process = subprocess.Popen(
        command(dict(options)),
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: deque[str] = deque(maxlen=500)
    ready = threading.Event()
    found: dict[str, str] = {}

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip())
            if line.startswith(READY_PREFIX) and not ready.is_set():
                found["url"] = line[len(READY_PREFIX) :].split()[0]
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(startup_timeout) or "url" not in found:
        process.kill()
        raise SimulatorError("simulator did not start:\n" + "\n".join(output))
    sim = SimulatorProcess(process, found["url"], options, output)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if sim.control.health()["ok"]:
                return sim
        except (requests.RequestException, SimulatorError):
            time.sleep(0.05)
    sim.stop()
    raise SimulatorError("simulator never answered /_sim/health:\n" + sim.logs())


@contextmanager
def run_simulator(**options: Any) -> Iterator[SimulatorProcess]:
    """Context manager: start the simulator (options = CLI flags in snake_case), yield it, stop it."""
    sim = start_simulator(**options)
    try:
        yield sim
    finally:
        sim.stop()
