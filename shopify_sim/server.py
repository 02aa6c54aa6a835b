"""HTTP server (stdlib ThreadingHTTPServer, HTTP/1.1 keep-alive) and the top-level router."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from shopify_sim import (
    control,
    control_catalogue,
    control_customers,
    oauth,
    rest,
    rest_catalogue,
    rest_extra,
    versions,
)
from shopify_sim.admin_graphql import endpoint as graphql_endpoint
from shopify_sim.faults import Faults
from shopify_sim.httpio import Request, Response, error, json_response
from shopify_sim.requestlog import RequestLog
from shopify_sim.shops import Registry, ShopState
from shopify_sim.webhooks.dispatcher import Dispatcher

assert control_catalogue.ROUTES_ADDED  # its control routes register on import
assert control_customers.ROUTES_ADDED

PREFIX_RE = re.compile(r"^/shops/([^/]+)(/.*)$")
API_RE = re.compile(r"^/admin/api/([^/]+)/(.+)$")
BULK_RE = re.compile(r"^/_bulk/([A-Za-z0-9_-]+)\.jsonl$")
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"
REST_THROTTLED = {
    "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
}
SENDFILE_CHUNK = 8 << 20  # bytes per sendfile call (in-kernel copy from the page cache)


class App:
    def __init__(self, data_dir: Path, log: Any = print) -> None:
        self.data_dir = data_dir
        self.faults = Faults()
        self.requests = RequestLog()
        self.dispatcher = Dispatcher()
        self.registry = Registry(data_dir, self.faults, self.dispatcher, log)

    def close(self) -> None:
        """Close the stores: only once nothing else runs (`cli.serve` stops the threads first)."""
        self.dispatcher.stop()
        for shop in self.registry.all():
            shop.close()

    # -- routing -----------------------------------------------------------------------------------
    def hinted_shop(self, request: Request) -> ShopState | None:
        if request.prefix:
            return self.registry.get(request.prefix.split("/")[-1])
        host = (request.headers.get("Host") or "").split(":")[0]
        return self.registry.get(host)

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_sim/"):
            return control.handle(self, request)
        match = BULK_RE.match(request.path)
        if match:
            return self.bulk_download(request, match.group(1))
        if request.path == "/admin/oauth/access_scopes.json":
            return self.access_scopes(request)
        if request.path.startswith("/admin/oauth/"):
            return self.oauth(request)
        match = API_RE.match(request.path)
        if match:
            return self.api(request, match.group(1), match.group(2))
        return error(404, "Not Found")

    def oauth(self, request: Request) -> Response:
        shop = self.hinted_shop(request) or self.registry.get(request.arg("shop"))
        if shop is None:
            client_id = request.arg("client_id") or request.form_or_json().get("client_id")
            shops = [s for s in self.registry.all() if s.options.api_key == client_id]
            shop = shops[0] if len(shops) == 1 else self.registry.default()
        if shop is None:
            return error(404, "Not Found")
        if request.path == "/admin/oauth/authorize" and request.method == "GET":
            return oauth.authorize(shop, request)
        if request.path == "/admin/oauth/access_token" and request.method == "POST":
            return oauth.access_token(shop, request)
        return error(404, "Not Found")

    def access_scopes(self, request: Request) -> Response:
        """The calling token's scopes; authenticated and rate-limited like any REST call."""
        shop, failure = self.authenticate(request)
        if failure is not None or shop is None:
            return failure or error(401, UNAUTHORIZED)
        if request.method != "GET":
            return error(405, "Method Not Allowed")
        accepted, used = shop.rest_bucket.add()
        limit_header = {"X-Shopify-Shop-Api-Call-Limit": f"{used}/{shop.rest_bucket.size}"}
        if not accepted:
            return json_response(REST_THROTTLED, status=429, headers={**limit_header, "Retry-After": "2.0"})
        info = shop.oauth.token(request.headers.get("X-Shopify-Access-Token"))
        response = oauth.access_scopes(info.scopes if info else frozenset())
        response.headers.update(limit_header)
        return response

    def authenticate(self, request: Request) -> tuple[ShopState | None, Response | None]:
        token = request.headers.get("X-Shopify-Access-Token")
        shop = self.hinted_shop(request) or self.registry.by_token(token)
        info = shop.oauth.token(token) if shop is not None else None
        if shop is None or info is None or not info.valid():
            return shop, error(401, UNAUTHORIZED)
        return shop, None

    def api(self, request: Request, requested_version: str, rest_path: str) -> Response:
        shop, failure = self.authenticate(request)
        if failure is not None or shop is None:
            return failure or error(401, UNAUTHORIZED)
        version = versions.resolve(requested_version, shop.options.oldest_api_version)
        if version is None:
            return error(404, "Not Found")
        response = self.api_versioned(shop, request, version, rest_path)
        response.headers["X-Shopify-API-Version"] = version
        return response

    def api_versioned(self, shop: ShopState, request: Request, version: str, rest_path: str) -> Response:
        is_graphql = rest_path == "graphql.json"
        fault = self.faults.http_fault(shop.domain, "graphql" if is_graphql else "rest", request.path)
        if fault is not None and fault.status == 0:
            time.sleep(fault.delay_seconds)
            fault = None
        if fault is not None:
            return fault
        info = shop.oauth.token(request.headers.get("X-Shopify-Access-Token"))
        scopes = info.scopes if info else frozenset()
        if is_graphql:
            if request.method != "POST":
                return error(405, "Method Not Allowed")
            return graphql_endpoint.handle(shop, request, version, scopes)
        accepted, used = shop.rest_bucket.add()
        limit_header = {"X-Shopify-Shop-Api-Call-Limit": f"{used}/{shop.rest_bucket.size}"}
        if not accepted:
            return json_response(REST_THROTTLED, status=429, headers={**limit_header, "Retry-After": "2.0"})
        all_orders = shop.options.read_all_orders and "read_all_orders" in scopes
        response = (
            rest_catalogue.handle(shop, request, version, rest_path, scopes)
            or rest_extra.handle(shop, request, version, rest_path, scopes)
            or rest.handle(shop, request, version, rest_path, scopes, all_orders)
        )
        response.headers.update(limit_header)
        return response

    def bulk_download(self, request: Request, token: str) -> Response:
        for shop in self.registry.all():
            path, expired = shop.bulk.file_for(token)
            if path is None:
                continue
            if expired or not path.exists():
                body = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>"
                return Response(status=403, body=body, content_type="application/xml; charset=UTF-8")
            response = file_response(
                path, request.headers.get("Range"), self.faults.bulk_download_drop(shop.domain)
            )
            return storage_overrides(request, response)
        body = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"
        return Response(status=404, body=body, content_type="application/xml; charset=UTF-8")


def storage_overrides(request: Request, response: Response) -> Response:
    """Cloud storage answers a signed URL's `response-content-disposition` / `response-content-type`
    query parameters with those headers (the bulk result URL names its file this way)."""
    disposition = request.arg("response-content-disposition")
    if disposition:
        response.headers["Content-Disposition"] = disposition
    content_type = request.arg("response-content-type")
    if content_type and response.status in (200, 206):
        response.content_type = content_type
    return response


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) of a single `bytes=N-` / `bytes=N-M` / `bytes=-N` range; None = the whole
    file (no header, or one we do not support, which RFC 9110 allows us to ignore)."""
    match = RANGE_RE.match(header or "")
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first:
        return (max(0, size - int(last)), size) if last else None
    if last and int(last) < int(first):
        return None  # syntactically invalid: ignored, the whole file is sent
    return int(first), min(size, int(last) + 1) if last else size


def file_response(path: Path, range_header: str | None, drop_fraction: float | None) -> Response:
    """A JSONL download streamed from disk (sendfile), honouring a single byte range."""
    size = path.stat().st_size
    span = byte_range(range_header, size)
    headers = {"Accept-Ranges": "bytes"}
    status, start, end = 200, 0, size
    if span is not None:
        start, end = span
        if start >= size or start >= end:
            headers["Content-Range"] = f"bytes */{size}"
            return Response(status=416, body=b"", headers=headers, content_type="application/xml")
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    response = Response(status=status, headers=headers, content_type="application/jsonl")
    response.file = (path, start, end - start)
    if drop_fraction is not None:
        response.drop_after_bytes = int((end - start) * drop_fraction)
    return response


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "shopify_sim"
    app: App

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def build_request(self) -> Request:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        prefix = ""
        match = PREFIX_RE.match(path)
        if match:
            prefix, path = f"/shops/{match.group(1)}", match.group(2)
        return Request(self.command, path, query, self.headers, body, f"http://{host}", prefix)  # type: ignore[arg-type]

    def dispatch(self) -> None:
        started = time.monotonic()
        request = self.build_request()
        try:
            response = self.app.handle(request)
        except Exception as exc:
            response = json_response({"errors": f"Internal error: {type(exc).__name__}: {exc}"}, status=500)
        if not request.path.startswith("/_sim/"):
            fault = "dropped" if response.drop_connection else None
            if response.drop_after_bytes is not None:
                fault = "dropped_mid_download"
            shop = self.app.hinted_shop(request) or self.app.registry.by_token(
                request.headers.get("X-Shopify-Access-Token")
            )
            self.app.requests.record(
                request.method,
                request.path,
                shop.domain if shop else None,
                response.status,
                time.monotonic() - started,
                fault,
                range_header=request.headers.get("Range"),
                body_bytes=response.file[2] if response.file is not None else None,
                throttled=response.throttled,
            )
        if response.drop_connection:
            self.drop()
            return
        self.send(response)

    def drop(self) -> None:
        # Close the socket with no response at all (a reset on the client side).
        self.close_connection = True
        try:
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def finish(self) -> None:
        # One thread per client connection: its SQLite connections (and page caches) end with it.
        try:
            super().finish()
        finally:
            for shop in self.app.registry.all():
                shop.store.release_thread()

    def send_file(self, response: Response) -> None:
        assert response.file is not None
        path, offset, count = response.file
        if response.drop_after_bytes is not None:
            count = response.drop_after_bytes
        with path.open("rb") as handle:
            while count > 0:
                sent = self.connection.sendfile(handle, offset, min(count, SENDFILE_CHUNK))
                if sent == 0:
                    break
                offset, count = offset + sent, count - sent
        if response.drop_after_bytes is not None:
            # Fault: the download ends early (FIN after the bytes sent, fewer than Content-Length), as a
            # dropped transfer looks to a client; it can resume with `Range: bytes=N-`.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_WR)

    def send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.file is not None:
            self.end_headers()
            if self.command != "HEAD":
                self.send_file(response)
            return
        if isinstance(response.body, bytes):
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            return
        if "Content-Length" in response.headers:
            self.end_headers()
            for chunk in response.body:
                self.wfile.write(chunk)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in response.body:
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")


class Server(ThreadingHTTPServer):
    """One thread per client connection, each tracked so a shutdown can end them before the stores
    close (a handler still querying a closed SQLite connection crashes the process: SIGSEGV)."""

    daemon_threads = True  # one stuck client still cannot keep the process alive: see `stop_handlers`
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handlers_lock = threading.Lock()
        self._handlers: dict[threading.Thread, socket.socket] = {}

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._handle, args=(request, client_address), daemon=True)
        with self._handlers_lock:
            self._handlers[thread] = request
        thread.start()

    def _handle(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._handlers_lock:
                self._handlers.pop(threading.current_thread(), None)

    def stop_handlers(self, timeout: float) -> list[threading.Thread]:
        """After `shutdown()`: end every client connection's reading side, so an idle keep-alive ends
        at once and a request being served ends after its answer; wait for them. Answers the handler
        threads still running after `timeout` seconds."""
        with self._handlers_lock:
            handlers = dict(self._handlers)
        for connection in handlers.values():
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RD)
        deadline = time.monotonic() + timeout
        for thread in handlers:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [thread for thread in handlers if thread.is_alive()]


def make_server(app: App, host: str, port: int) -> Server:
    handler = type("BoundHandler", (Handler,), {"app": app})
    return Server((host, port), handler)
