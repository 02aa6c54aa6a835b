"""Bulk operations of one shop: start (validate + concurrency), run in a thread, cancel, expire."""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote_plus

import orjson
from graphql import GraphQLError

from shopify_sim.admin_graphql import catalogue, connections
from shopify_sim.admin_graphql.context import RESOURCE_SCOPES, GraphQLContext
from shopify_sim.admin_graphql.root import resource_filter
from shopify_sim.bulk.export import Counters, forget_loaded, write_records
from shopify_sim.bulk.plan import BulkQueryError, RootPlan, compile_query
from shopify_sim.gid import gid
from shopify_sim.timeutil import iso_z

if TYPE_CHECKING:
    from shopify_sim.shops import ShopState

URL_LIFETIME_SECONDS = 7 * 86400
CREATED_DELAY_SECONDS = 0.05
ACTIVE = ("CREATED", "RUNNING", "CANCELING")
ID_BASE = 4_210_000_000_000
MULTI_QUERY_SINCE = "2026-01"
# Names the thread of each bulk export (a shutdown waits for none, but must not close the store under one).
BULK_THREAD_PREFIX = "bulk-export-"
FETCH_ROWS = 256  # rows per fetchmany, rendered and written as one chunk (~300 KB)
PROGRESS_ROWS = 5000
# Exports of at least this many roots render the upper half of the key range in a second process
# (a bulk export is CPU-bound Python; two processes use both cores). 0 turns the split off.
SPLIT_MIN_ROWS = 50_000
PART_COPY = 64 << 20
WRITE_BUFFER = 1 << 20
DEFAULT_SORT = {
    "orders": "PROCESSED_AT",
    "customers": "ID",
    "products": "ID",
    "collections": "ID",
    "locations": "ID",
}
# A paced export reads rows in slices of about this share of a second, so objectCount and cancel move
# smoothly rather than in jumps of FETCH_ROWS.
PACED_SLICE_SECONDS = 0.05


@dataclass(frozen=True)
class Pace:
    """How fast an export may go: `objects_per_second` (the shop's `export_rate`, as Shopify's
    exports take time in proportion to their size) and `rows_per_second` (the slow-export fault, in
    roots). 0 = no limit."""

    objects_per_second: float = 0.0
    rows_per_second: float = 0.0

    @property
    def is_limited(self) -> bool:
        return self.objects_per_second > 0 or self.rows_per_second > 0

    @property
    def fetch_rows(self) -> int:
        if self.rows_per_second > 0:
            return 1
        if self.objects_per_second > 0:
            return max(1, min(FETCH_ROWS, int(self.objects_per_second * PACED_SLICE_SECONDS)))
        return FETCH_ROWS

    def seconds_ahead(self, counters: Counters, elapsed: float) -> float:
        """How long to wait so that what was written so far took at least its time."""
        due = 0.0
        if self.objects_per_second > 0:
            due = counters.objects / self.objects_per_second
        if self.rows_per_second > 0:
            due = max(due, counters.roots / self.rows_per_second)
        return due - elapsed


@dataclass
class BulkOperation:
    id: int
    query: str
    type: str = "QUERY"
    status: str = "CREATED"
    error_code: str | None = None
    created_at: int = field(default_factory=lambda: int(time.time()))
    completed_at: int | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    file_token: str | None = None
    partial_token: str | None = None
    expires_at: float | None = None
    cancel_requested: bool = False
    version: str = ""
    processes: int = 1  # 2 when the export was split across a worker process
    worker_peak_rss_kib: int = 0

    def signed(self, base_url: str, token: str | None) -> str | None:
        if token is None:
            return None
        # Looks like a signed storage URL; the token is the only secret part. Shopify's signed URLs
        # also carry `response-content-disposition` and `response-content-type`, which the storage
        # echoes as headers on the download: clients take the file name `bulk-<id>.jsonl` from them.
        # (Shape read from real result URLs; not in the contract. UNSURE whether partialDataUrl uses
        # the same name: we give it the same one.)
        disposition = quote_plus(
            f"attachment; filename=\"{self.file_name}\"; filename*=UTF-8''{self.file_name}"
        )
        return (
            f"{base_url}/_bulk/{token}.jsonl?X-Goog-Algorithm=GOOG4-RSA-SHA256"
            f"&X-Goog-Expires={URL_LIFETIME_SECONDS}&X-Goog-Signature={token[::-1]}"
            f"&response-content-disposition={disposition}&response-content-type=application%2Fjsonl"
        )

    @property
    def file_name(self) -> str:
        return f"bulk-{self.id}.jsonl"

    def graphql(self, base_url: str) -> dict[str, Any]:
        return {
            "id": gid("BulkOperation", self.id),
            "status": self.status,
            "errorCode": self.error_code,
            "createdAt": iso_z(self.created_at),
            "completedAt": iso_z(self.completed_at),
            "objectCount": str(self.object_count),
            "rootObjectCount": str(self.root_object_count),
            "fileSize": str(self.file_size) if self.file_size is not None else None,
            "url": self.signed(base_url, self.file_token),
            "partialDataUrl": self.signed(base_url, self.partial_token),
            "query": self.query,
            "type": self.type,
        }

    def webhook_payload(self) -> dict[str, Any]:
        # The finish webhook uses lowercase enums and carries no URL (contract §2.5).
        return {
            "admin_graphql_api_id": gid("BulkOperation", self.id),
            "completed_at": iso_z(self.completed_at),
            "created_at": iso_z(self.created_at),
            "error_code": self.error_code.lower() if self.error_code else None,
            "status": self.status.lower(),
            "type": self.type.lower(),
        }


class Worker:
    """The `shopify_sim.bulk.worker` process rendering the upper half of an export to `<path>.part`."""

    def __init__(self, process: subprocess.Popen, part: Path) -> None:
        self.process = process
        self.part = part

    @classmethod
    def start(
        cls,
        operation: BulkOperation,
        shop: ShopState,
        ctx: GraphQLContext,
        path: Path,
        where: tuple[str, list],
        order_by: str,
    ) -> Worker:
        part = path.with_suffix(".part")
        job = {
            "db": shop.store.path,
            "options": dataclasses.asdict(shop.options),
            "version": ctx.version,
            "scopes": sorted(ctx.scopes),
            "query": operation.query,
            "where": where[0],
            "params": where[1],
            "order_by": order_by,
            "path": str(part),
        }
        package_root = str(Path(__file__).resolve().parents[2])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "shopify_sim.bulk.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        worker = cls(process, part)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(orjson.dumps(job))
        process.stdin.close()
        if process.stdout.readline().strip() != b"ready":
            worker.stop()
            raise RuntimeError("bulk worker did not start")
        operation.processes = 2
        return worker

    @classmethod
    def try_start(cls, *args: Any) -> Worker | None:
        """A worker, or None (the export then runs in one process) when it cannot be started."""
        try:
            return cls.start(*args)
        except (OSError, RuntimeError):
            return None

    def append_to(self, handle: BinaryIO, counters: Counters, operation: BulkOperation) -> None:
        """Wait for the worker (cancel kills it), then append its file and add its counters."""
        while self.process.poll() is None:
            if operation.cancel_requested:
                return
            time.sleep(0.02)
        assert self.process.stdout is not None
        output = self.process.stdout.read()
        if self.process.returncode != 0 or not output.strip():
            raise RuntimeError(f"bulk worker failed with exit code {self.process.returncode}")
        result = orjson.loads(output)
        handle.flush()
        with self.part.open("rb") as source:
            copy_file(source, handle)
        counters.objects += result["objects"]
        counters.roots += result["roots"]
        counters.bytes += result["bytes"]
        operation.worker_peak_rss_kib = result["peak_rss_kib"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdout, self.process.stdin):
            if stream is not None and not stream.closed:
                stream.close()
        if self.part.exists():
            self.part.unlink()


def copy_file(source: BinaryIO, target: BinaryIO) -> None:
    """Append `source` to `target` in the kernel where possible (no copy through Python)."""
    try:
        while os.copy_file_range(source.fileno(), target.fileno(), PART_COPY):
            pass
    except OSError:
        shutil.copyfileobj(source, target, PART_COPY)


def user_error(message: str, code: str = "INVALID") -> dict[str, Any]:
    return {"field": ["query"], "message": message, "code": code}


def process_export_directory(base: Path) -> Path:
    """This process's own directory for export files under `base` (`run-<pid>`), after removing the
    files of simulator processes that are gone: operations live in memory only, so nothing can
    download those any more (a 1M-order export is 2.5 GB; a reused data directory would otherwise
    grow by that much per run)."""
    base.mkdir(parents=True, exist_ok=True)
    for entry in base.iterdir():
        if entry.is_dir() and entry.name.startswith("run-"):
            owner = entry.name.removeprefix("run-")
            if owner.isdigit() and int(owner) != os.getpid() and not _process_alive(int(owner)):
                shutil.rmtree(entry, ignore_errors=True)
        elif entry.is_file() and entry.suffix in (".jsonl", ".part"):
            entry.unlink(missing_ok=True)  # the layout before per-process directories
    own = base / f"run-{os.getpid()}"
    own.mkdir(exist_ok=True)
    return own


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    return True


class BulkManager:
    def __init__(self, shop: ShopState, directory: Path) -> None:
        self.shop = shop
        self.directory = process_export_directory(directory)
        self.lock = threading.Lock()
        self.operations: dict[int, BulkOperation] = {}
        self.next_id = ID_BASE + zlib.crc32(shop.domain.encode()) % 1000 * 1000
        self.files: dict[str, Path] = {}

    # -- queries -----------------------------------------------------------------------------------
    def get(self, operation_id: int | None) -> BulkOperation | None:
        return self.operations.get(operation_id) if operation_id is not None else None

    def all(self) -> list[BulkOperation]:
        with self.lock:
            return sorted(self.operations.values(), key=lambda op: op.id)

    def current(self, operation_type: str) -> BulkOperation | None:
        matching = [op for op in self.all() if op.type == operation_type]
        return matching[-1] if matching else None

    # -- start -------------------------------------------------------------------------------------
    def compile(self, text: str, ctx: GraphQLContext) -> RootPlan:
        return compile_query(
            text, ctx.version, connections_under_lists=ctx.shop.options.bulk_connections_under_lists
        )

    def start(
        self, text: str, group_objects: bool, ctx: GraphQLContext
    ) -> tuple[BulkOperation | None, list[dict]]:
        try:
            plan = self.compile(text, ctx)
        except (BulkQueryError, GraphQLError) as error:
            return None, [user_error(str(error))]
        limit = 5 if ctx.version == "unstable" or ctx.version >= MULTI_QUERY_SINCE else 1
        with self.lock:
            running = [op for op in self.operations.values() if op.type == "QUERY" and op.status in ACTIVE]
            if len(running) >= limit:
                if limit == 1:
                    message = f"A bulk query operation for this app and shop is already in progress: {gid('BulkOperation', running[0].id)}."
                else:
                    message = f"You have reached the limit of {limit} concurrent bulk query operations for this shop."
                return None, [user_error(message, "OPERATION_IN_PROGRESS")]
            self.next_id += 1 + secrets.randbelow(50)
            operation = BulkOperation(self.next_id, text, version=ctx.version)
            self.operations[operation.id] = operation
        worker_ctx = GraphQLContext(
            shop=ctx.shop, version=ctx.version, scopes=ctx.scopes, base_url=ctx.base_url
        )
        # Started a moment later, so the mutation answers CREATED as Shopify's does.
        timer = threading.Timer(CREATED_DELAY_SECONDS, self.run, args=(operation, plan, worker_ctx))
        timer.name = f"{BULK_THREAD_PREFIX}{operation.id}"
        timer.daemon = True
        timer.start()
        return operation, []

    # -- cancel / expire ---------------------------------------------------------------------------
    def cancel(self, operation: BulkOperation) -> list[dict[str, Any]]:
        with self.lock:
            if operation.status not in ("CREATED", "RUNNING"):
                return [
                    {
                        "field": ["id"],
                        "message": f"A bulk operation cannot be canceled when it is {operation.status.lower()}",
                    }
                ]
            operation.status = "CANCELING"
            operation.cancel_requested = True
        return []

    def expire(self, operation: BulkOperation) -> None:
        with self.lock:
            operation.expires_at = time.time() - 1
            if operation.status == "COMPLETED":
                operation.status = "EXPIRED"
        for token in (operation.file_token, operation.partial_token):
            path = self.files.pop(token, None) if token else None
            if path is not None and path.exists():
                path.unlink()

    def file_for(self, token: str) -> tuple[Path | None, bool]:
        """(path, expired) for a download token."""
        path = self.files.get(token)
        if path is None:
            return None, False
        operation = next(
            (op for op in self.operations.values() if token in (op.file_token, op.partial_token)), None
        )
        expired = (
            operation is not None and operation.expires_at is not None and time.time() > operation.expires_at
        )
        return path, expired

    # -- run ---------------------------------------------------------------------------------------
    def run(self, operation: BulkOperation, plan: RootPlan, ctx: GraphQLContext) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        path = self.directory / f"{token}.jsonl"
        counters = Counters()
        failure: tuple[float, str] | None = None
        try:
            with self.lock:
                if operation.status == "CREATED":
                    operation.status = "RUNNING"
            failure = self.export(operation, plan, ctx, path, counters)
        except GraphQLError as error:
            code = (error.extensions or {}).get("code")
            failure = (0.0, "ACCESS_DENIED" if code == "ACCESS_DENIED" else "INTERNAL_SERVER_ERROR")
        except Exception:
            failure = (0.0, "INTERNAL_SERVER_ERROR")
        finally:
            # This thread's own connection (reference id sets) dies with the thread.
            self.shop.store.release_thread()
        self.finish(operation, token, path, counters, failure)

    def export(
        self, operation: BulkOperation, plan: RootPlan, ctx: GraphQLContext, path: Path, counters: Counters
    ) -> tuple[float, str] | None:
        shop = self.shop
        ctx.require_any(
            catalogue.BULK_ROOT_SCOPES.get(plan.resource) or (RESOURCE_SCOPES[plan.resource],),
            plan.field_name,
        )
        where = resource_filter(ctx, plan.resource, plan.args.get("query"))
        where = catalogue.narrow(plan.resource, plan.args, where)
        column = connections.sort_column(
            plan.resource, plan.args.get("sortKey") or DEFAULT_SORT[plan.resource]
        )
        direction = "DESC" if plan.args.get("reverse") else "ASC"
        failure = shop.faults.bulk_failure(shop.domain)
        fail_after = None
        if failure is not None:
            total = shop.store.count(plan.resource, where.sql(), where.params)
            fail_after = int(total * failure[0])
        pace = Pace(
            objects_per_second=float(shop.options.export_rate or 0),
            rows_per_second=shop.faults.bulk_rows_per_second(shop.domain),
        )
        malform = None
        if shop.faults.profile(shop.domain).malformed_record_share > 0:

            def malform(line: dict) -> None:
                shop.faults.maybe_malform(shop.domain, line, "bulk")

        order_by = f"{column} {direction}, id {direction}"
        split = not pace.is_limited and fail_after is None and malform is None and SPLIT_MIN_ROWS > 0
        conn = shop.store.open_connection()
        worker: Worker | None = None
        try:
            # Holding the write lock while the read transactions start: the worker's snapshot is ours.
            with shop.store.write_lock:
                conn.execute("BEGIN")
                sql, params = where.sql(), list(where.params)
                boundary = self.split_point(conn, plan.resource, sql, params, order_by) if split else None
                if boundary is not None:
                    upper = self.range_filter(sql, params, column, direction, boundary, upper=True)
                    worker = Worker.try_start(operation, self.shop, ctx, path, upper, order_by)
                if worker is not None and boundary is not None:
                    sql, params = self.range_filter(sql, params, column, direction, boundary, upper=False)
            with path.open("wb", buffering=WRITE_BUFFER) as handle:
                batches = shop.store.iterate_batches(
                    conn,
                    plan.resource,
                    sql,
                    params,
                    order_by,
                    # A paced export goes in small slices, so progress and cancel stay observable.
                    pace.fetch_rows,
                )
                result = self.write_batches(
                    operation, plan, ctx, batches, handle, counters, failure, fail_after, pace, malform
                )
                if worker is not None and not operation.cancel_requested:
                    worker.append_to(handle, counters, operation)
                return result
        finally:
            if worker is not None:
                worker.stop()
            conn.execute("COMMIT")
            shop.store.release(conn)

    @staticmethod
    def split_point(conn: Any, resource: str, sql: str, params: list, order_by: str) -> tuple | None:
        """(sort value, id) of the first row of the upper half, or None when too small to split."""
        where = sql or "1"
        total = conn.execute(f"SELECT COUNT(*) FROM {resource} WHERE {where}", params).fetchone()[0]  # noqa: S608
        if total < SPLIT_MIN_ROWS:
            return None
        column = order_by.split()[0]
        return conn.execute(
            f"SELECT {column}, id FROM {resource} WHERE {where} ORDER BY {order_by} LIMIT 1 OFFSET ?",  # noqa: S608
            [*params, total // 2],
        ).fetchone()

    @staticmethod
    def range_filter(
        sql: str, params: list, column: str, direction: str, boundary: tuple, upper: bool
    ) -> tuple[str, list]:
        ascending = direction == "ASC"
        operator = (">=" if ascending else "<=") if upper else ("<" if ascending else ">")
        return f"({sql or '1'}) AND ({column}, id) {operator} (?, ?)", [*params, *boundary]

    def write_batches(
        self,
        operation: BulkOperation,
        plan: RootPlan,
        ctx: GraphQLContext,
        batches: Iterator[list[bytes]],
        handle: BinaryIO,
        counters: Counters,
        failure: tuple[float, str] | None,
        fail_after: int | None,
        pace: Pace,
        malform: Any,
    ) -> tuple[float, str] | None:
        started = time.monotonic()
        reported = 0
        for blobs in batches:
            if operation.cancel_requested:
                return None
            if fail_after is not None:
                blobs = blobs[: max(0, fail_after - counters.roots)]
                if not blobs:
                    return failure
            write_records(plan.plan, blobs, ctx, handle.write, counters, malform)
            progress_due = counters.roots - reported >= PROGRESS_ROWS
            if progress_due:
                reported = counters.roots
                forget_loaded(ctx)
            if progress_due or pace.is_limited:
                # objectCount grows while RUNNING, as Shopify reports it: every slice of a paced
                # export (so a poll sees it move), every PROGRESS_ROWS roots otherwise.
                operation.object_count, operation.root_object_count = counters.objects, counters.roots
            if pace.is_limited:
                ahead = pace.seconds_ahead(counters, time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        return failure if fail_after is not None else None

    def finish(
        self,
        operation: BulkOperation,
        token: str,
        path: Path,
        counters: Counters,
        failure: tuple[float, str] | None,
    ) -> None:
        with self.lock:
            operation.object_count, operation.root_object_count = counters.objects, counters.roots
            operation.completed_at = int(time.time())
            operation.expires_at = time.time() + URL_LIFETIME_SECONDS
            if operation.cancel_requested:
                operation.status = "CANCELED"
                self.discard(path)
            elif failure is not None:
                operation.status, operation.error_code = "FAILED", failure[1]
                if counters.objects and failure[1] in ("INTERNAL_SERVER_ERROR", "TIMEOUT"):
                    operation.partial_token = token
                    operation.file_size = counters.bytes
                    self.files[token] = path
                else:
                    self.discard(path)
            else:
                operation.status = "COMPLETED"
                if counters.objects:
                    operation.file_token, operation.file_size = token, counters.bytes
                    self.files[token] = path
                else:
                    operation.file_size = 0
                    self.discard(path)
        self.shop.emit("bulk_operations/finish", operation.webhook_payload())

    @staticmethod
    def discard(path: Path) -> None:
        if path.exists():
            os.unlink(path)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                **op.graphql(""),
                "numeric_id": op.id,
                "version": op.version,
                "expires_at": op.expires_at,
                "processes": op.processes,
                "worker_peak_rss_kib": op.worker_peak_rss_kib,
            }
            for op in self.all()
        ]
