"""Fixtures: one simulator subprocess for the module tree (small stores), and a webhook receiver."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shopify_sim.testing import SimulatorProcess, run_simulator

ANCHOR = "2026-11-01T00:00:00Z"


@pytest.fixture(scope="session")
def sim() -> Iterator[SimulatorProcess]:
    # Plus plan: a 20,000-point bucket, so tests sharing this shop never throttle each other.
    options = {"orders": 400, "customers": 120, "products": 40, "seed": 11, "anchor": ANCHOR, "plan": "plus"}
    with run_simulator(webhook_time_scale=0.0005, **options) as process:
        yield process


@pytest.fixture
def new_shop(sim: SimulatorProcess):
    """A fresh shop on the shared simulator (tests that change data or settings use their own)."""

    def make(**options: Any) -> str:
        domain = f"t{uuid.uuid4().hex[:10]}.myshopify.com"
        defaults = {
            "orders": 60,
            "customers": 25,
            "products": 10,
            "seed": 3,
            "anchor": ANCHOR,
            "token": f"shpat_{uuid.uuid4().hex}",
            "webhook_time_scale": 0.0005,
        }
        sim.control.create_shop(domain, **{**defaults, **options})
        return domain

    return make


def token_of(sim: SimulatorProcess, domain: str) -> str:
    return sim.control.shop_info(domain)["token"]


class Receiver:
    """A local HTTP endpoint that records webhook POSTs; `statuses` scripts the answers."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.default_status = 200
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body, "status": status}
                    )
                    receiver.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        with self.lock:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    instance = Receiver()
    yield instance
    instance.close()
