"""Parsing a bulk export in a second process, so validation and the writer's database waits use both cores.

Validating and normalising a bulk export's lines (pydantic-core, then the record builders) and
encoding them for COPY costs more CPU than PostgreSQL spends writing them, and a thread cannot help:
it shares the GIL with the writer. So on PostgreSQL a large export is parsed here instead: the sync
worker streams the downloaded lines to a child process (`python -m shopsync.bulk_parse_child`,
a plain subprocess: Celery's pool processes may not fork multiprocessing children) and reads back, in
order, one `ParsedBatch` per batch, already encoded (`records_encode`). The worker then writes and
checkpoints each batch exactly as before, one transaction at a time, so resuming is unchanged.

Frames on both pipes are a 4-byte big-endian length and a body; a zero length ends the stream.
Worker -> child: chunks of lines, each ending with a newline. Child -> worker: pickled
`("batch", ParsedBatch)`, then `("done", None)` or `("error", message)`. Pickle is safe here: both ends
are our own code on the same machine, nothing else writes these pipes.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings

from shopsync.payloads.bulk_jsonl import BulkLineError, read_bulk_jsonl
from shopsync.payloads.records import AnyRecord
from shopsync.resources import Resource
from shopsync.services.upsert import EncodedBatch, records_encode
from shopsync.shopify.bulk import block_lines

logger = logging.getLogger(__name__)

_HEADER = struct.Struct(">I")


class ParseProcessError(RuntimeError):
    """The parsing child failed (its message says how); the batches before it were delivered."""


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    """A `BulkBatch` as the child hands it over: `records` is encoded for COPY, or stays a list of
    records when it cannot be encoded ahead (see `records_encode`)."""

    records: EncodedBatch | list[AnyRecord]
    errors: list[BulkLineError]
    resume_line: int


def parsed_in_child_process(
    blocks: Iterable[bytes], *, resource: Resource, batch_size: int, start_line: int = 1
) -> Iterator[ParsedBatch]:
    """`read_bulk_jsonl` over the lines of `blocks`, run in a child process, its batches encoded there.

    `blocks` (the download, `bulk_result_blocks`: runs of whole lines, the export's from line
    `start_line` on) are read by a feeder thread of this process and passed on as they are; an error
    the download raises is re-raised here after the batches of the lines read before it. If the
    consumer stops early the child is killed.
    """
    child = subprocess.Popen(
        [sys.executable, "-m", "shopsync.bulk_parse_child", resource.value, str(batch_size),
         str(start_line)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_child_environment(),
    )  # fmt: skip
    logger.info(
        "parsing the %s export from line %s in child process %s", resource.value, start_line, child.pid
    )
    feeder = _Feeder(blocks, child.stdin)
    feeder.start()
    finished = False
    try:
        while (frame := _read_frame(child.stdout)) is not None:
            kind, value = pickle.loads(frame)  # noqa: S301 - our own child process (see the module doc)
            if kind == "batch":
                yield value
            elif kind == "error":
                raise ParseProcessError(f"bulk parsing process failed: {value}")
            else:
                finished = True
                break
        if not finished:
            raise ParseProcessError(f"bulk parsing process ended without finishing (exit {child.wait()})")
        feeder.join()
        if feeder.error is not None:
            raise feeder.error
    finally:
        if child.poll() is None and not finished:
            child.kill()
        feeder.stop()
        child.wait()


def _child_environment() -> dict[str, str]:
    # The child imports this project (and its settings) wherever the worker was started from.
    path = os.pathsep.join(filter(None, [str(settings.BASE_DIR), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


class _Feeder(threading.Thread):
    """Writes the blocks to the child; holds the download's exception for the consumer."""

    def __init__(self, blocks: Iterable[bytes], pipe: BinaryIO) -> None:
        super().__init__(name="bulk-parse-feeder", daemon=True)
        self.blocks = blocks
        self.pipe = pipe
        self.error: BaseException | None = None
        self.stopped = False

    def run(self) -> None:
        try:
            for block in self.blocks:
                if self.stopped:
                    return
                if block:
                    _write_frame(self.pipe, block)
        except BrokenPipeError:
            return  # the child is gone; the consumer reports why
        except BaseException as exc:  # handed to the consumer, after the batches already parsed
            self.error = exc
        finally:
            self._close()

    def stop(self) -> None:
        self.stopped = True
        self._close()

    def _close(self) -> None:
        try:
            _write_frame(self.pipe, b"")
            self.pipe.close()
        except (BrokenPipeError, ValueError, OSError):
            pass


def _write_frame(pipe: BinaryIO, body: bytes) -> None:
    pipe.write(_HEADER.pack(len(body)))
    if body:
        pipe.write(body)
    pipe.flush()


def _read_frame(pipe: BinaryIO) -> bytes | None:
    header = pipe.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (length,) = _HEADER.unpack(header)
    if length == 0:
        return None
    body = pipe.read(length)
    if len(body) < length:
        return None
    return body


def _received_lines(pipe: BinaryIO) -> Iterator[bytes]:
    while (frame := _read_frame(pipe)) is not None:
        yield from block_lines(frame)


def child_main(resource: Resource, batch_size: int, start_line: int) -> None:
    """Runs in the child: lines in on stdin, parsed batches out on the original stdout (anything
    else that prints, such as logging, goes to stderr)."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    lines = _received_lines(sys.stdin.buffer)
    # Placeholders keep the reader's line numbers those of the export (as the in-process path does).
    numbered = itertools.chain(itertools.repeat(b"", start_line - 1), lines)
    try:
        for batch in read_bulk_jsonl(
            numbered, resource=resource, batch_size=batch_size, start_line=start_line
        ):
            encoded = records_encode(resource=resource, records=batch.records) if batch.records else None
            parsed = ParsedBatch(records=batch.records if encoded is None else encoded, errors=batch.errors,
                                 resume_line=batch.resume_line)  # fmt: skip
            _write_frame(out, pickle.dumps(("batch", parsed), protocol=pickle.HIGHEST_PROTOCOL))
        _write_frame(out, pickle.dumps(("done", None)))
    except BaseException as exc:
        _write_frame(out, pickle.dumps(("error", f"{type(exc).__name__}: {exc}")))
        raise
    finally:
        out.close()
