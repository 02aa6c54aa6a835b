"""Bulk query operations (contract §2): start, poll, cancel, and stream the JSONL result.

The flow the sync engine drives:
1. `bulk_query_start` (a `BulkOperationInProgress` means the shop's slot is taken: wait, then retry);
2. `bulk_operation_wait` until a terminal status (the `bulk_operations/finish` webhook can wake it);
3. `bulk_result_lines(op.url, start_line=checkpoint)`, which survives dropped downloads; with a
   `ByteAnchor` from the checkpoint a resumed read starts with `Range: bytes=<offset>-` instead of
   downloading the export again from byte 0 (and falls back to skipping lines if the server ignores it).
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from shopsync.shopify.client import ShopifyClient, raise_for_user_errors
from shopsync.shopify.errors import ShopifyPermanentError, ShopifyRetryableError
from shopsync.shopify.transport import NETWORK_ERRORS, default_timeout, http_error, network_error

logger = logging.getLogger(__name__)

BULK_OPERATION_FIELDS = (
    "id status errorCode objectCount rootObjectCount fileSize url partialDataUrl createdAt completedAt"
)
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})
# BulkOperationUserErrorCode values meaning "the shop's bulk slots are busy" (not a bad query).
BUSY_USER_ERROR_CODES = frozenset({"OPERATION_IN_PROGRESS", "LIMIT_REACHED"})
_BUSY_MESSAGE_RE = re.compile(r"already in progress|limit reached", re.IGNORECASE)
_GID_RE = re.compile(r"gid://shopify/BulkOperation/\d+")

# A resumed read restarts at the end of the last block the consumer committed past, so this is also
# how much a resume downloads again at most (256 KiB: 0.1 % of a 256 MB export).
DOWNLOAD_CHUNK_BYTES = 256 * 1024
DOWNLOAD_MAX_ATTEMPTS = 8
WAKE_CHECK_SECONDS = 1.0

BULK_QUERY_START = f"""
mutation ShopsyncBulkQueryStart($query: String!) {{
  bulkOperationRunQuery(query: $query) {{
    bulkOperation {{ {BULK_OPERATION_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
""".strip()

BULK_OPERATION_GET = f"""
query ShopsyncBulkOperation($id: ID!) {{
  node(id: $id) {{ ... on BulkOperation {{ {BULK_OPERATION_FIELDS} }} }}
}}
""".strip()

BULK_OPERATION_CANCEL = f"""
mutation ShopsyncBulkOperationCancel($id: ID!) {{
  bulkOperationCancel(id: $id) {{
    bulkOperation {{ {BULK_OPERATION_FIELDS} }}
    userErrors {{ field message }}
  }}
}}
""".strip()


class BulkOperationInProgress(ShopifyRetryableError):
    """The shop already runs as many bulk queries as its API version allows; wait for one to finish."""

    def __init__(self, message: str, *, user_errors: list[dict[str, Any]], running_id: str | None) -> None:
        super().__init__(message, status=200, code="OPERATION_IN_PROGRESS")
        self.user_errors = user_errors
        self.running_id = running_id


class BulkOperationWaitTimeout(ShopifyRetryableError):
    """The operation is still running after the wait timeout; wait again later (it keeps running)."""

    def __init__(self, message: str, *, operation: BulkOperation) -> None:
        super().__init__(message, code="BULK_WAIT_TIMEOUT")
        self.operation = operation


@dataclass(frozen=True, slots=True)
class BulkOperation:
    id: str
    status: str
    error_code: str | None
    object_count: int
    root_object_count: int
    file_size: int | None
    url: str | None
    partial_data_url: str | None
    created_at: datetime | None
    completed_at: datetime | None

    @property
    def is_finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> BulkOperation:
        # UnsignedInt64 counts arrive as JSON strings ("57").
        return cls(
            id=node["id"],
            status=str(node["status"]).upper(),
            error_code=node.get("errorCode"),
            object_count=int(node.get("objectCount") or 0),
            root_object_count=int(node.get("rootObjectCount") or 0),
            file_size=int(node["fileSize"]) if node.get("fileSize") is not None else None,
            url=node.get("url"),
            partial_data_url=node.get("partialDataUrl"),
            created_at=_parse_datetime(node.get("createdAt")),
            completed_at=_parse_datetime(node.get("completedAt")),
        )


def _parse_datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def bulk_concurrency_limit(api_version: str) -> int:
    """Bulk queries a shop may run at once: 1 before 2026-01, 5 from 2026-01 (`unstable` is newest)."""
    if api_version == "unstable":
        return 5
    if not re.fullmatch(r"\d{4}-\d{2}", api_version):
        raise ValueError(f"not a Shopify API version: {api_version!r}")
    return 5 if api_version >= "2026-01" else 1


def bulk_query_start(client: ShopifyClient, query: str) -> BulkOperation:
    """Start a bulk query. Raises `BulkOperationInProgress` when the shop's bulk slots are taken, and
    `ShopifyUserErrors` for other userErrors (an invalid bulk query)."""
    payload = client.graphql(BULK_QUERY_START, {"query": query})["bulkOperationRunQuery"]
    user_errors = payload.get("userErrors") or []
    if user_errors and _is_busy(user_errors):
        message = "; ".join(str(error.get("message")) for error in user_errors)
        running = _GID_RE.search(message)
        raise BulkOperationInProgress(
            f"{client.shop}: bulk query already running: {message}",
            user_errors=user_errors,
            running_id=running.group(0) if running else None,
        )
    raise_for_user_errors(payload, what="bulkOperationRunQuery")
    operation = BulkOperation.from_graphql(payload["bulkOperation"])
    logger.info("Started bulk operation %s for %s", operation.id, client.shop)
    return operation


def _is_busy(user_errors: list[dict[str, Any]]) -> bool:
    return any(
        error.get("code") in BUSY_USER_ERROR_CODES or _BUSY_MESSAGE_RE.search(str(error.get("message", "")))
        for error in user_errors
    )


def bulk_operation_get(client: ShopifyClient, op_id: str) -> BulkOperation:
    """Read an operation through `node(id:)`, which every API version supports."""
    node = client.graphql(BULK_OPERATION_GET, {"id": op_id}).get("node")
    if not node:
        raise ShopifyPermanentError(f"{client.shop}: no bulk operation {op_id}", code="NOT_FOUND")
    return BulkOperation.from_graphql(node)


def bulk_operation_cancel(client: ShopifyClient, op_id: str) -> BulkOperation | None:
    """Ask Shopify to cancel; returns the operation (usually CANCELING). An operation that already
    finished cannot be cancelled: that comes back as `ShopifyUserErrors`."""
    payload = client.graphql(BULK_OPERATION_CANCEL, {"id": op_id})["bulkOperationCancel"]
    raise_for_user_errors(payload, what="bulkOperationCancel")
    node = payload.get("bulkOperation")
    return BulkOperation.from_graphql(node) if node else None


def bulk_operation_wait(
    client: ShopifyClient,
    op_id: str,
    *,
    poll_interval: float = 2.0,
    max_poll_interval: float = 30.0,
    timeout: float = 3600.0,
    wake: Callable[[], bool] | None = None,
    on_poll: Callable[[BulkOperation], None] | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> BulkOperation:
    """Poll until the operation reaches a terminal status and return it.

    The interval grows with the time waited (`next_poll_interval`). `wake()` is checked about every
    second while sleeping; True (the `bulk_operations/finish` webhook arrived) polls at once. `on_poll`
    sees every non-terminal poll (heartbeats). Raises `BulkOperationWaitTimeout` after `timeout` seconds.
    """
    sleep = sleep or client.sleep
    clock = clock or client.clock
    started = clock()
    deadline = started + timeout
    while True:
        operation = bulk_operation_get(client, op_id)
        if operation.is_finished:
            return operation
        if on_poll is not None:
            on_poll(operation)
        remaining = deadline - clock()
        if remaining <= 0:
            raise BulkOperationWaitTimeout(
                f"{client.shop}: bulk operation {op_id} still {operation.status} after {timeout:.0f}s",
                operation=operation,
            )
        interval = next_poll_interval(
            clock() - started, poll_interval=poll_interval, max_poll_interval=max_poll_interval
        )
        _sleep_until_woken(min(interval, remaining), wake=wake, sleep=sleep, clock=clock)


# How late a finished operation may be noticed, as a share of the time waited so far.
POLL_LATENESS_SHARE = 0.05


def next_poll_interval(waited: float, *, poll_interval: float, max_poll_interval: float) -> float:
    """Seconds until the next poll, after `waited` seconds of waiting: at most `POLL_LATENESS_SHARE`
    of the wait so far, so a finished export is noticed at most 5 % late (an export of 40 s within
    2 s, not at the next step of a growing schedule 10-20 s later); never more often than
    `poll_interval`, never less often than `max_poll_interval`. A poll costs one point of the
    query budget: a 30-minute export costs about 130."""
    return min(max_poll_interval, max(poll_interval, waited * POLL_LATENESS_SHARE))


def _sleep_until_woken(
    seconds: float,
    *,
    wake: Callable[[], bool] | None,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> None:
    if wake is None:
        sleep(seconds)
        return
    until = clock() + seconds
    while not wake():
        left = until - clock()
        if left <= 0:
            return
        sleep(min(WAKE_CHECK_SECONDS, left))


def bulk_result_lines(url: str, **options: Any) -> Iterator[bytes]:
    """Stream the JSONL result line by line (bytes, without the newline), skipping the first
    `start_line` lines (a checkpoint). Memory stays constant: one chunk plus one line. `options` are
    those of `bulk_result_blocks` (start_line, session, max_attempts, sleep, chunk_size, timeout).

    A dropped download is re-requested: with `Range: bytes=<offset>-` when the server answers 206,
    otherwise from the start, skipping the lines already yielded. Either way no line is repeated or lost.
    Blank lines are not counted. No Shopify token is sent: the URL is a signed storage link.
    """
    # A block's lines are all handed out before the next block is read, so a resume after a drop
    # (which starts after the last whole block) neither repeats nor skips a line.
    for block in bulk_result_blocks(url, **options):
        yield from block_lines(block)


@dataclass(frozen=True, slots=True)
class ByteAnchor:
    """A line boundary of an export with a known byte offset: its first `lines` lines (blank lines not
    counted) end at byte `offset`."""

    lines: int
    offset: int


START = ByteAnchor(lines=0, offset=0)


class DownloadAnchors:
    """The line boundaries a download passed, for its consumer to checkpoint: the download runs ahead
    (in a prefetch or feeder thread), so `at_or_before(lines)` answers where a later download may
    restart, with `Range`, to reach line `lines` again. Thread-safe; the consumer only moves forward,
    so anchors before the one it asked for are dropped (memory stays small)."""

    def __init__(self, start: ByteAnchor = START) -> None:
        self._lock = threading.Lock()
        self._anchors = [start]

    def add(self, anchor: ByteAnchor) -> None:
        with self._lock:
            if anchor.lines >= self._anchors[-1].lines:
                self._anchors.append(anchor)

    def at_or_before(self, lines: int) -> ByteAnchor:
        with self._lock:
            index = max(0, bisect.bisect_right([a.lines for a in self._anchors], lines) - 1)
            del self._anchors[:index]
            return self._anchors[0]


def bulk_result_blocks(
    url: str,
    *,
    start_line: int = 0,
    start_anchor: ByteAnchor | None = None,
    anchors: DownloadAnchors | None = None,
    session: requests.Session | None = None,
    max_attempts: int = DOWNLOAD_MAX_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    chunk_size: int = DOWNLOAD_CHUNK_BYTES,
    timeout: tuple[float, float] | None = None,
) -> Iterator[bytes]:
    """`bulk_result_lines` a block at a time, for a consumer that splits lines itself (the bulk
    parsing child process): each block is whole lines, the last one ending with a newline, and
    `block_lines(block)` are exactly the lines `bulk_result_lines` would yield for it. Same start,
    same resumes, and no per-line work here.

    `start_anchor` (at or before `start_line`, from a checkpoint) lets the first request ask for
    `Range: bytes=<offset>-` and skip only the lines between the anchor and `start_line`; `anchors`
    receives each block boundary passed, for the consumer's next checkpoint."""
    http = session or requests.Session()
    timeout = timeout or default_timeout()
    anchor = start_anchor if start_anchor is not None and start_anchor.lines <= start_line else START
    position = _DownloadPosition(lines_done=start_line, anchor=anchor, anchors=anchors)
    failures = 0
    while True:
        try:
            yield from _blocks_from(http, url, position, chunk_size=chunk_size, timeout=timeout)
            return
        except ShopifyRetryableError as exc:
            failures += 1
            if failures >= max_attempts:
                raise
            wait = min(60.0, 2.0 ** (failures - 1))
            logger.warning(
                "Bulk download dropped after %d lines, resuming in %.0fs: %s", position.lines_done, wait, exc
            )
            sleep(wait)


def block_lines(block: bytes) -> list[bytes]:
    """The lines of a block from `bulk_result_blocks`, as `bulk_result_lines` yields them."""
    lines = block.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    if b"\r" in block:
        lines = [line.rstrip(b"\r") for line in lines]
    return [line for line in lines if line] if _may_hold_blank_lines(block) else lines


def _may_hold_blank_lines(block: bytes) -> bool:
    return block.startswith((b"\n", b"\r")) or b"\n\n" in block or b"\n\r" in block


def _block_line_count(block: bytes) -> int:
    return len(block_lines(block)) if _may_hold_blank_lines(block) else block.count(b"\n")


@dataclass(slots=True)
class _DownloadPosition:
    """How far the consumer got (complete lines yielded, or skipped by the caller's `start_line`), and
    the last line boundary at or before it whose byte offset is known: where a new request resumes."""

    lines_done: int
    anchor: ByteAnchor = START
    anchors: DownloadAnchors | None = None
    use_range: bool = True

    def passed(self, anchor: ByteAnchor) -> None:
        self.anchor = anchor
        if self.anchors is not None:
            self.anchors.add(anchor)


def _blocks_from(
    http: requests.Session,
    url: str,
    position: _DownloadPosition,
    *,
    chunk_size: int,
    timeout: tuple[float, float],
) -> Iterator[bytes]:
    opened = _open_at(http, url, position, timeout=timeout)
    if opened is None:
        return  # the anchor is the end of the file: nothing is left to read
    response, body_start = opened
    offset, lines_at = body_start.offset, body_start.lines
    with response:
        for block in _whole_line_blocks(response, chunk_size=chunk_size, what=url):
            offset += len(block)
            count = _block_line_count(block)
            already_handed_out = position.lines_done - lines_at
            lines_at += count
            if already_handed_out >= count:
                position.passed(ByteAnchor(lines_at, offset))
                continue
            if already_handed_out > 0:
                # Restarted before the consumer's line (no Range, or an anchor behind it): drop the
                # lines handed out already (rare, so line by line).
                block = b"\n".join(block_lines(block)[already_handed_out:]) + b"\n"
            position.lines_done = lines_at
            position.passed(ByteAnchor(lines_at, offset))
            yield block


def _open_at(
    http: requests.Session, url: str, position: _DownloadPosition, *, timeout: tuple[float, float]
) -> tuple[requests.Response, ByteAnchor] | None:
    """The response and the line boundary its body starts at; None when a Range request shows that
    nothing follows the anchor."""
    # Identity encoding: byte offsets must count the stored bytes, not a compressed stream.
    headers = {"Accept-Encoding": "identity"}
    ranged = position.use_range and position.anchor.offset > 0
    if ranged:
        headers["Range"] = f"bytes={position.anchor.offset}-"
    response = _open(http, url, headers=headers, timeout=timeout)
    if response.status_code == 416:
        response.close()
        if not ranged:
            raise ShopifyRetryableError("Bulk result server refused a download without a range", status=416)
        if _range_size(response) == position.anchor.offset:
            return None
        # The stored file is not the one the anchor was taken from: read it from the start.
        position.use_range = False
        return _open_at(http, url, position, timeout=timeout)
    if response.status_code == 206:
        if _range_start(response) != position.anchor.offset:
            position.use_range = False
            response.close()
            raise ShopifyRetryableError("Bulk result server answered a different byte range", status=206)
        return response, position.anchor
    # Full body (the server ignores Range, as RFC 9110 allows): count lines from the start and skip
    # the ones already handed out.
    return response, START


def _open(
    http: requests.Session, url: str, *, headers: dict[str, str], timeout: tuple[float, float]
) -> requests.Response:
    try:
        response = http.get(url, headers=headers, stream=True, timeout=timeout)
    except NETWORK_ERRORS as exc:
        raise network_error(exc, what="Bulk result download") from exc
    error = None if response.status_code == 416 else http_error(response, what="Bulk result download")
    if error is not None:
        response.close()
        # A 403/404 from storage means the signed URL expired (7 days) or is wrong: not retryable.
        raise error
    return response


def _range_start(response: requests.Response) -> int | None:
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None


def _range_size(response: requests.Response) -> int | None:
    match = re.match(r"bytes \*/(\d+)$", response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None


def _whole_line_blocks(response: requests.Response, *, chunk_size: int, what: str) -> Iterator[bytes]:
    """The body in runs of whole lines (each block ends with a newline; a last line without one is
    given one)."""
    pending = b""
    try:
        for chunk in response.iter_content(chunk_size=chunk_size):
            pending += chunk
            end = pending.rfind(b"\n") + 1
            if end:
                yield pending[:end]
                pending = pending[end:]
    except NETWORK_ERRORS as exc:
        raise network_error(exc, what=f"Bulk result download ({what[:60]}…)") from exc
    if pending.strip():
        yield pending + b"\n"


__all__ = [
    "BULK_OPERATION_FIELDS",
    "BulkOperation",
    "BulkOperationInProgress",
    "BulkOperationWaitTimeout",
    "ByteAnchor",
    "DownloadAnchors",
    "block_lines",
    "bulk_concurrency_limit",
    "bulk_operation_cancel",
    "bulk_operation_get",
    "bulk_operation_wait",
    "bulk_query_start",
    "bulk_result_blocks",
    "bulk_result_lines",
]
