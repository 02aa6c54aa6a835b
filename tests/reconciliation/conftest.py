"""Fixtures for reconciliation, health and alert tests: a loopback HTTP receiver (Slack, or a
stand-in for one Shopify endpoint) and alert settings."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class HttpReceiver:
    """Records every request; answers `status` with `body` (JSON) to all of them."""

    url: str
    requests: list[dict] = field(default_factory=list)
    status: int = 200
    body: dict = field(default_factory=lambda: {"ok": True})

    @property
    def posts(self) -> list[dict]:
        return [request for request in self.requests if request["method"] == "POST"]


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            receiver.requests.append(
                {"method": method, "path": self.path, "json": json.loads(raw) if raw else None}
            )
            payload = json.dumps(receiver.body).encode()
            self.send_response(receiver.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            self._answer("POST")

        def do_GET(self) -> None:
            self._answer("GET")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def alert_channels(settings, http_receiver) -> HttpReceiver:
    """Both channels configured: mail to the admins, Slack to the local receiver."""
    settings.ADMINS = ["ops@example.com"]
    settings.EMAIL_SUBJECT_PREFIX = "[shopsync] "
    settings.SLACK_WEBHOOK_URL = f"{http_receiver.url}/slack"
    return http_receiver
