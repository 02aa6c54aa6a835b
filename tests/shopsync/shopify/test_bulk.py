"""Bulk operations: start, in-progress, poll, cancel, and a resumable JSONL download."""

from __future__ import annotations

import json
import re

import pytest

from shopsync.shopify.bulk import (
    BulkOperationInProgress,
    BulkOperationWaitTimeout,
    ByteAnchor,
    DownloadAnchors,
    block_lines,
    bulk_concurrency_limit,
    bulk_operation_cancel,
    bulk_operation_get,
    bulk_operation_wait,
    bulk_query_start,
    bulk_result_blocks,
    bulk_result_lines,
    next_poll_interval,
)
from shopsync.shopify.errors import ShopifyPermanentError, ShopifyRetryableError, ShopifyUserErrors
from tests.shopsync.shopify.scripted_http import GRAPHQL_PATH, Reply, graphql_ok

OP_ID = "gid://shopify/BulkOperation/720918"
BULK_QUERY = "{ orders { edges { node { id lineItems { edges { node { id } } } } } } }"
RESULT_PATH = "/bulk/result.jsonl"


def _operation(status: str, **fields) -> dict:
    node = {
        "id": OP_ID,
        "status": status,
        "errorCode": None,
        "objectCount": "0",
        "rootObjectCount": "0",
        "fileSize": None,
        "url": None,
        "partialDataUrl": None,
        "createdAt": "2024-08-29T17:16:35Z",
        "completedAt": None,
    }
    node.update(fields)
    return node


def _jsonl(count: int) -> bytes:
    lines = []
    for n in range(count):
        lines.append(json.dumps({"id": f"gid://shopify/Order/{n}", "name": f"#{1000 + n}"}))
        lines.append(
            json.dumps({"id": f"gid://shopify/LineItem/{n}", "__parentId": f"gid://shopify/Order/{n}"})
        )
    return ("\n".join(lines) + "\n").encode()


def test_bulk_query_start_returns_the_created_operation(server, make_client):
    # given
    server.script(
        GRAPHQL_PATH,
        graphql_ok({"bulkOperationRunQuery": {"bulkOperation": _operation("CREATED"), "userErrors": []}}),
    )
    client = make_client()
    # when
    operation = bulk_query_start(client, BULK_QUERY)
    # then
    assert (operation.id, operation.status, operation.object_count) == (OP_ID, "CREATED", 0)
    assert server.seen(GRAPHQL_PATH)[0].json()["variables"] == {"query": BULK_QUERY}


def test_bulk_query_start_while_one_runs_raises_in_progress(server, make_client):
    # given
    message = f"A bulk query operation for this app and shop is already in progress: {OP_ID}."
    user_errors = [{"field": None, "message": message, "code": "OPERATION_IN_PROGRESS"}]
    server.script(
        GRAPHQL_PATH,
        graphql_ok({"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": user_errors}}),
    )
    client = make_client()
    # when
    with pytest.raises(BulkOperationInProgress) as raised:
        bulk_query_start(client, BULK_QUERY)
    # then
    assert raised.value.running_id == OP_ID
    assert raised.value.retryable is True
    assert raised.value.user_errors == user_errors


def test_bulk_query_start_recognises_in_progress_by_message_without_a_code(server, make_client):
    # given
    user_errors = [
        {"field": None, "message": "A bulk query operation for this app and shop is already in progress"}
    ]
    server.script(
        GRAPHQL_PATH,
        graphql_ok({"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": user_errors}}),
    )
    # when / then
    with pytest.raises(BulkOperationInProgress):
        bulk_query_start(make_client(), BULK_QUERY)


def test_bulk_query_start_with_an_invalid_query_raises_user_errors(server, make_client):
    # given
    user_errors = [
        {
            "field": ["query"],
            "message": "Bulk queries must contain at least one connection.",
            "code": "INVALID",
        }
    ]
    server.script(
        GRAPHQL_PATH,
        graphql_ok({"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": user_errors}}),
    )
    # when
    with pytest.raises(ShopifyUserErrors) as raised:
        bulk_query_start(make_client(), "{ shop { name } }")
    # then
    assert not isinstance(raised.value, BulkOperationInProgress)
    assert raised.value.code == "INVALID"


def test_bulk_operation_get_parses_counts_and_timestamps(server, make_client):
    # given
    node = _operation(
        "COMPLETED",
        objectCount="57",
        rootObjectCount="12",
        fileSize="358",
        url="https://storage.example/x.jsonl",
        completedAt="2024-08-29T17:23:25Z",
    )
    server.script(GRAPHQL_PATH, graphql_ok({"node": node}))
    # when
    operation = bulk_operation_get(make_client(), OP_ID)
    # then
    assert (operation.object_count, operation.root_object_count, operation.file_size) == (57, 12, 358)
    assert operation.url == "https://storage.example/x.jsonl"
    assert operation.completed_at.isoformat() == "2024-08-29T17:23:25+00:00"
    assert operation.is_finished
    query = server.seen(GRAPHQL_PATH)[0].json()
    assert "node(id: $id)" in query["query"]
    assert query["variables"] == {"id": OP_ID}


def test_bulk_operation_get_of_an_unknown_id_is_permanent(server, make_client):
    # given
    server.script(GRAPHQL_PATH, graphql_ok({"node": None}))
    # when / then
    with pytest.raises(ShopifyPermanentError):
        bulk_operation_get(make_client(), OP_ID)


def test_bulk_operation_wait_polls_until_finished(server, clock, make_client):
    # given
    server.script(
        GRAPHQL_PATH,
        graphql_ok({"node": _operation("CREATED")}),
        graphql_ok({"node": _operation("RUNNING", objectCount="10")}),
        graphql_ok({"node": _operation("RUNNING", objectCount="20")}),
        graphql_ok(
            {"node": _operation("COMPLETED", objectCount="30", url="https://storage.example/r.jsonl")}
        ),
    )
    polled = []
    # when
    operation = bulk_operation_wait(
        make_client(), OP_ID, poll_interval=2.0, max_poll_interval=4.0, on_poll=polled.append
    )
    # then
    assert operation.status == "COMPLETED"
    assert operation.object_count == 30
    assert clock.sleeps == [2.0, 2.0, 2.0]
    assert [op.object_count for op in polled] == [0, 10, 20]


def test_a_long_wait_polls_at_5_percent_of_the_time_waited_so_far(server, clock, make_client):
    # given: an export that runs for 200 polls
    answers = iter([_operation("RUNNING")] * 200 + [_operation("COMPLETED")])
    server.handle(GRAPHQL_PATH, lambda seen: graphql_ok({"node": next(answers)}))
    # when
    bulk_operation_wait(make_client(), OP_ID, poll_interval=1.0, max_poll_interval=30.0, timeout=10_000)
    # then: every second for the first 20 s, then 5 % of the wait so far, at most every 30 s
    waited = 0.0
    for sleep in clock.sleeps:
        assert sleep == pytest.approx(min(30.0, max(1.0, waited * 0.05)))
        waited += sleep
    assert clock.sleeps[:20] == [1.0] * 20
    assert max(clock.sleeps) == 30.0


@pytest.mark.parametrize(
    ("waited", "expected"),
    [(0.0, 1.0), (19.0, 1.0), (40.0, 2.0), (300.0, 15.0), (600.0, 30.0), (5000.0, 30.0)],
)
def test_next_poll_interval_notices_a_finished_export_at_most_5_percent_late(waited, expected):
    assert next_poll_interval(waited, poll_interval=1.0, max_poll_interval=30.0) == expected


def test_bulk_operation_wait_is_shortened_by_the_wake_hook(server, clock, make_client):
    # given: the finish webhook arrives after about two seconds of a 30 s wait
    server.script(
        GRAPHQL_PATH,
        graphql_ok({"node": _operation("RUNNING")}),
        graphql_ok({"node": _operation("COMPLETED")}),
    )
    start = clock.now

    def wake() -> bool:
        return clock.now - start >= 2.0

    # when
    operation = bulk_operation_wait(make_client(), OP_ID, poll_interval=30.0, wake=wake)
    # then
    assert operation.status == "COMPLETED"
    assert sum(clock.sleeps) == 2.0


def test_bulk_operation_wait_gives_up_after_the_timeout(server, clock, make_client):
    # given
    server.handle(GRAPHQL_PATH, lambda seen: graphql_ok({"node": _operation("RUNNING")}))
    # when
    with pytest.raises(BulkOperationWaitTimeout) as raised:
        bulk_operation_wait(make_client(), OP_ID, poll_interval=10.0, timeout=25.0)
    # then
    assert raised.value.retryable is True
    assert raised.value.operation.status == "RUNNING"
    assert sum(clock.sleeps) == 25.0


def test_bulk_operation_cancel_returns_the_canceling_operation(server, make_client):
    # given
    server.script(
        GRAPHQL_PATH,
        graphql_ok({"bulkOperationCancel": {"bulkOperation": _operation("CANCELING"), "userErrors": []}}),
    )
    # when
    operation = bulk_operation_cancel(make_client(), OP_ID)
    # then
    assert operation.status == "CANCELING"


@pytest.mark.parametrize(
    ("version", "limit"), [("2025-10", 1), ("2025-01", 1), ("2026-01", 5), ("2026-04", 5), ("unstable", 5)]
)
def test_bulk_concurrency_limit_depends_on_the_api_version(version, limit):
    assert bulk_concurrency_limit(version) == limit


def _ranged_server(server, body: bytes, *, drops: list[int], honour_range: bool) -> None:
    """Serve `body`; the n-th request is cut after drops[n] bytes (while drops last)."""

    def handler(seen) -> Reply:
        attempt = len(server.seen(RESULT_PATH)) - 1
        drop = drops[attempt] if attempt < len(drops) else None
        match = re.match(r"bytes=(\d+)-$", seen.header("Range") or "")
        if honour_range and match:
            start = int(match.group(1))
            return Reply(
                status=206,
                body=body[start:],
                headers={
                    "Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}",
                    "Accept-Ranges": "bytes",
                },
                drop_after=drop,
            )
        return Reply(body=body, headers={"Accept-Ranges": "bytes"} if honour_range else {}, drop_after=drop)

    server.handle(RESULT_PATH, handler)


@pytest.fixture(params=["lines", "blocks"])
def download(request):
    """The download line by line, or in blocks of whole lines (the bulk parsing child's feed) split
    back into lines: both must give exactly the same lines."""
    if request.param == "lines":
        return lambda url, **options: list(bulk_result_lines(url, **options))
    return lambda url, **options: [
        line for b in bulk_result_blocks(url, **options) for line in block_lines(b)
    ]


def test_bulk_result_lines_resumes_a_dropped_download_with_range(server, clock, download):
    # given: a body cut twice, each time in the middle of a line
    body = _jsonl(400)
    _ranged_server(server, body, drops=[5000, 7001], honour_range=True)
    # when
    lines = download(f"{server.base_url}{RESULT_PATH}", sleep=clock.sleep, chunk_size=1024)
    # then
    assert lines == body.splitlines()
    assert len(lines) == 800
    ranges = [r.header("Range") for r in server.seen(RESULT_PATH)]
    assert ranges[0] is None
    first_resume, second_resume = (int(re.match(r"bytes=(\d+)-$", r).group(1)) for r in ranges[1:])
    # each resume starts on a line boundary inside the part that arrived before the drop
    assert 0 < first_resume <= 5000 and body[first_resume - 1 : first_resume] == b"\n"
    assert (
        first_resume < second_resume <= first_resume + 7001
        and body[second_resume - 1 : second_resume] == b"\n"
    )
    assert clock.sleeps == [1, 2]
    assert all(r.header("X-Shopify-Access-Token") is None for r in server.seen(RESULT_PATH))


def test_bulk_result_lines_resumes_without_range_support_by_skipping_lines(server, clock, download):
    # given
    body = _jsonl(300)
    _ranged_server(server, body, drops=[4321, 9000], honour_range=False)
    # when
    lines = download(f"{server.base_url}{RESULT_PATH}", sleep=clock.sleep, chunk_size=512)
    # then
    assert lines == body.splitlines()
    assert len(server.seen(RESULT_PATH)) == 3


def test_bulk_result_lines_starts_after_a_checkpointed_line(server, clock, download):
    # given
    body = _jsonl(50)
    _ranged_server(server, body, drops=[], honour_range=True)
    # when
    lines = download(f"{server.base_url}{RESULT_PATH}", start_line=37, sleep=clock.sleep)
    # then
    assert lines == body.splitlines()[37:]


def test_bulk_result_lines_consumer_stopping_midway_can_resume_from_its_count(server, clock):
    # given: a consumer that handled 25 lines and then crashed
    body = _jsonl(20)
    _ranged_server(server, body, drops=[], honour_range=True)
    url = f"{server.base_url}{RESULT_PATH}"
    handled = []
    for line in bulk_result_lines(url, sleep=clock.sleep):
        handled.append(line)
        if len(handled) == 25:
            break
    # when
    handled.extend(bulk_result_lines(url, start_line=len(handled), sleep=clock.sleep))
    # then
    assert handled == body.splitlines()


def test_bulk_result_lines_last_line_without_newline_and_blank_lines(server, clock, download):
    # given
    body = b'\n{"id":"1"}\n\n{"id":"2"}\r\n\r\n{"id":"3"}'
    _ranged_server(server, body, drops=[], honour_range=False)
    # when
    lines = download(f"{server.base_url}{RESULT_PATH}", sleep=clock.sleep)
    # then
    assert lines == [b'{"id":"1"}', b'{"id":"2"}', b'{"id":"3"}']


def test_bulk_result_lines_gives_up_after_bounded_attempts(server, clock, download):
    # given: every attempt is cut
    body = _jsonl(100)
    _ranged_server(server, body, drops=[100] * 10, honour_range=False)
    # when
    with pytest.raises(ShopifyRetryableError):
        download(f"{server.base_url}{RESULT_PATH}", sleep=clock.sleep, max_attempts=3)
    # then
    assert len(server.seen(RESULT_PATH)) == 3
    assert clock.sleeps == [1, 2]


def test_bulk_result_lines_expired_url_is_permanent(server, clock, download):
    # given
    server.script(RESULT_PATH, Reply(status=403, body=b"<Error><Code>ExpiredToken</Code></Error>"))
    # when / then
    with pytest.raises(ShopifyPermanentError):
        download(f"{server.base_url}{RESULT_PATH}", sleep=clock.sleep)
    assert clock.sleeps == []


def _anchor_at(body: bytes, lines: int) -> ByteAnchor:
    return ByteAnchor(lines=lines, offset=len(b"".join(line + b"\n" for line in body.splitlines()[:lines])))


def test_a_resumed_read_asks_for_the_bytes_after_its_anchor_and_skips_to_its_line(server, clock, download):
    # given: a checkpoint at line 130 whose anchor is line 100
    body = _jsonl(100)
    _ranged_server(server, body, drops=[], honour_range=True)
    anchor = _anchor_at(body, 100)
    # when
    lines = download(
        f"{server.base_url}{RESULT_PATH}", start_line=130, start_anchor=anchor, sleep=clock.sleep
    )
    # then
    assert lines == body.splitlines()[130:]
    assert [r.header("Range") for r in server.seen(RESULT_PATH)] == [f"bytes={anchor.offset}-"]


def test_a_resumed_read_from_a_server_that_ignores_range_skips_lines_from_the_start(server, clock, download):
    # given: storage answering 200 with the whole file to a Range request
    body = _jsonl(100)
    _ranged_server(server, body, drops=[], honour_range=False)
    # when
    lines = download(f"{server.base_url}{RESULT_PATH}", start_line=130, start_anchor=_anchor_at(body, 100),
                     sleep=clock.sleep)  # fmt: skip
    # then
    assert lines == body.splitlines()[130:]
    assert len(server.seen(RESULT_PATH)) == 1


def test_a_resumed_read_answered_with_another_range_starts_over_without_one(server, clock, download):
    # given: storage answering 206 for a range starting elsewhere than asked
    body = _jsonl(100)
    anchor = _anchor_at(body, 100)

    def handler(seen) -> Reply:
        if seen.header("Range"):
            return Reply(
                status=206, body=body[10:], headers={"Content-Range": f"bytes 10-{len(body) - 1}/{len(body)}"}
            )
        return Reply(body=body)

    server.handle(RESULT_PATH, handler)
    # when
    lines = download(
        f"{server.base_url}{RESULT_PATH}", start_line=130, start_anchor=anchor, sleep=clock.sleep
    )
    # then
    assert lines == body.splitlines()[130:]
    assert [r.header("Range") for r in server.seen(RESULT_PATH)] == [f"bytes={anchor.offset}-", None]


def test_a_resumed_read_whose_anchor_is_the_end_of_the_file_reads_nothing(server, clock, download):
    # given: every line was committed; storage answers 416 to a range starting at the end
    body = _jsonl(20)

    def handler(seen) -> Reply:
        return Reply(status=416, body=b"", headers={"Content-Range": f"bytes */{len(body)}"})

    server.handle(RESULT_PATH, handler)
    # when
    lines = download(f"{server.base_url}{RESULT_PATH}", start_line=40, start_anchor=_anchor_at(body, 40),
                     sleep=clock.sleep)  # fmt: skip
    # then
    assert lines == []
    assert len(server.seen(RESULT_PATH)) == 1


def test_an_anchor_past_the_start_line_is_not_used(server, clock, download):
    # given: an anchor of another read (line 60) for a checkpoint at line 10
    body = _jsonl(50)
    _ranged_server(server, body, drops=[], honour_range=True)
    # when
    lines = download(f"{server.base_url}{RESULT_PATH}", start_line=10, start_anchor=_anchor_at(body, 60),
                     sleep=clock.sleep)  # fmt: skip
    # then
    assert lines == body.splitlines()[10:]
    assert [r.header("Range") for r in server.seen(RESULT_PATH)] == [None]


def test_download_anchors_name_a_line_boundary_at_or_before_each_line_consumed(server, clock):
    # given
    body = _jsonl(400)
    _ranged_server(server, body, drops=[6000], honour_range=True)
    anchors = DownloadAnchors()
    # when
    blocks = list(bulk_result_blocks(f"{server.base_url}{RESULT_PATH}", anchors=anchors, chunk_size=1024,
                                     sleep=clock.sleep))  # fmt: skip
    # then: each anchor's offset ends exactly its number of lines, and is at most a block behind
    assert b"".join(blocks) == body
    for consumed in (0, 1, 99, 400, 799, 800):
        anchor = anchors.at_or_before(consumed)
        assert anchor.lines <= consumed
        assert anchor.offset == _anchor_at(body, anchor.lines).offset
        assert _anchor_at(body, consumed).offset - anchor.offset <= 2048
