"""Helpers for the Shopify client tests: a tiny scripted HTTP server on 127.0.0.1 (real sockets, real HTTP) for client-boundary tests, and a
fake clock whose sleep advances time instead of waiting."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shopsync.models import Shop


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Wait this long before answering (to trigger read timeouts).
    delay: float = 0.0
    # Send the headers (full Content-Length) and only this many body bytes, then close the socket.
    drop_after: int | None = None
    # Close the connection without answering at all.
    hang_up: bool = False

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        return json.dumps(self.json if self.json is not None else {}).encode()


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class _QuietHTTPServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # The client hanging up first (timeouts, abandoned downloads) is expected here.
        pass


class ScriptedServer:
    """Answers each path with its queued replies in order (or a handler function). An unscripted request
    gets a 599, so a test never passes by accident."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[Reply]] = defaultdict(deque)
        self._handlers: dict[str, Callable[[Seen], Reply]] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd = _QuietHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._queues[path].extend(replies)

    def handle(self, path: str, handler: Callable[[Seen], Reply]) -> None:
        self._handlers[path] = handler

    def seen(self, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def _reply_for(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            queue = self._queues.get(seen.path)
            if queue:
                return queue.popleft()
        handler = self._handlers.get(seen.path)
        if handler is not None:
            return handler(seen)
        return Reply(status=599, json={"errors": f"unscripted request {seen.method} {seen.path}"})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                reply = server._reply_for(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.hang_up:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                payload = reply.payload()
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if reply.drop_after is not None:
                    self.wfile.write(payload[: reply.drop_after])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(payload)

        return Handler


class FakeClock:
    """`sleep` records the wait and moves `now` forward; nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(float(seconds), 6))
        self.now += float(seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds


def unsaved_shop(base_url: str, **fields: Any) -> Shop:
    """A shop that never touches the database (no expiring token, so no refresh bookkeeping)."""
    values: dict[str, Any] = {
        "domain": f"t-{uuid.uuid4().hex[:10]}.myshopify.com",
        "api_base_url": base_url,
        "api_version": "2026-01",
        "access_token": "shpat_initial",
    }
    values.update(fields)
    return Shop(**values)


GRAPHQL_PATH = "/admin/api/2026-01/graphql.json"


def cost(requested: float, available: float, *, maximum: float = 2000.0, restore: float = 100.0) -> dict:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": None,
            "throttleStatus": {
                "maximumAvailable": maximum,
                "currentlyAvailable": available,
                "restoreRate": restore,
            },
        }
    }


def graphql_ok(data: dict, *, requested: float = 10, available: float = 1990, **kwargs: Any) -> Reply:
    return Reply(json={"data": data, "extensions": cost(requested, available, **kwargs)})


def graphql_throttled(requested: float, available: float, *, restore: float = 100.0) -> Reply:
    return Reply(
        json={
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": cost(requested, available, restore=restore),
        }
    )
