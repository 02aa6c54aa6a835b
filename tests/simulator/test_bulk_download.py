from __future__ import annotations

import http.client
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import requests

from shopify_sim.bulk.manager import process_export_directory
from shopify_sim.server import byte_range
from tests.simulator.conftest import token_of
from tests.simulator.test_bulk import start, wait

QUERY = "{ orders { edges { node { id name lineItems { edges { node { id sku } } } } } } }"


@pytest.fixture
def exported(sim, new_shop):
    domain = new_shop(orders=80)
    token = token_of(sim, domain)
    done = wait(sim, start(sim, QUERY, token, domain)["bulkOperation"]["id"], token, domain)
    yield domain, done["url"], requests.get(done["url"], timeout=30).content
    sim.control.set_faults(shop=domain)


def raw_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes, bool]:
    """(status, headers, body, complete): the body as far as it arrived, without raising on a short read."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", f"{parts.path}?{parts.query}", headers=headers or {})
    response = connection.getresponse()
    try:
        body, complete = response.read(), True
    except http.client.IncompleteRead as short:
        body, complete = short.partial, False
    connection.close()
    return response.status, dict(response.getheaders()), body, complete


def test_download_advertises_byte_ranges(sim, exported):
    # given
    _, url, full = exported
    # when
    status, headers, body, complete = raw_get(url)
    # then
    assert status == 200 and complete
    assert headers["Accept-Ranges"] == "bytes"
    assert int(headers["Content-Length"]) == len(full) == len(body)


def test_range_from_an_offset_resumes_the_download(sim, exported):
    # given
    _, url, full = exported
    offset = len(full) // 3
    # when
    status, headers, body, complete = raw_get(url, {"Range": f"bytes={offset}-"})
    # then
    assert status == 206 and complete
    assert headers["Content-Range"] == f"bytes {offset}-{len(full) - 1}/{len(full)}"
    assert body == full[offset:]


def test_closed_range_and_suffix_range(sim, exported):
    _, url, full = exported
    assert raw_get(url, {"Range": "bytes=10-19"})[2] == full[10:20]
    assert raw_get(url, {"Range": "bytes=-25"})[2] == full[-25:]


def test_range_past_the_end_is_416(sim, exported):
    # given
    _, url, full = exported
    # when
    status, headers, body, _ = raw_get(url, {"Range": f"bytes={len(full)}-"})
    # then
    assert status == 416
    assert headers["Content-Range"] == f"bytes */{len(full)}"
    assert body == b""


def test_dropped_download_is_counted_and_resumes_with_range(sim, exported):
    # given
    domain, url, full = exported
    before = sim.control.faults()["counters"].get("bulk_download_dropped", 0)
    sim.control.set_faults(
        shop=domain, seed=3, bulk_download_drop_share=1.0, bulk_download_drop_after_fraction=0.4, max_faults=1
    )
    # when
    status, headers, first, complete = raw_get(url)
    _, _, rest, rest_complete = raw_get(url, {"Range": f"bytes={len(first)}-"})
    # then
    assert status == 200 and not complete
    assert int(headers["Content-Length"]) == len(full)
    assert len(first) == int(len(full) * 0.4)
    assert rest_complete and first + rest == full
    assert sim.control.faults()["counters"]["bulk_download_dropped"] == before + 1
    faults = [r["fault"] for r in sim.control.requests()["recent"] if r["path"].startswith("/_bulk/")]
    assert "dropped_mid_download" in faults


def test_no_drop_without_the_share(sim, exported):
    # given
    domain, url, full = exported
    sim.control.set_faults(shop=domain, seed=3, drop_connection_share=0.0)
    # when
    status, _, body, complete = raw_get(url)
    # then
    assert status == 200 and complete and body == full


def test_byte_range_forms():
    assert byte_range(None, 100) is None
    assert byte_range("bytes=10-", 100) == (10, 100)
    assert byte_range("bytes=10-19", 100) == (10, 20)
    assert byte_range("bytes=90-500", 100) == (90, 100)
    assert byte_range("bytes=-30", 100) == (70, 100)
    assert byte_range("bytes=-300", 100) == (0, 100)
    # ignored (the whole file is sent): malformed, multiple ranges, end before start
    assert byte_range("bytes=5-3", 100) is None
    assert byte_range("bytes=0-1,5-6", 100) is None
    assert byte_range("items=0-5", 100) is None


def test_exports_of_simulator_processes_that_are_gone_are_removed_at_start(tmp_path):
    # given: a reused data directory holding a finished process's exports (nothing can download
    # them: operations live in memory), a running process's, and files of the older flat layout
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    gone = tmp_path / f"run-{int(finished.stdout)}"
    running = tmp_path / f"run-{os.getppid()}"
    for directory in (gone, running):
        directory.mkdir()
        (directory / "export.jsonl").write_bytes(b"{}\n")
    (tmp_path / "flat.jsonl").write_bytes(b"{}\n")
    (tmp_path / "flat.part").write_bytes(b"{}\n")
    # when
    own = process_export_directory(tmp_path)
    # then
    assert own == tmp_path / f"run-{os.getpid()}" and own.is_dir()
    assert not gone.exists()
    assert (running / "export.jsonl").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([own.name, running.name])
