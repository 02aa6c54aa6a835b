"""Where a bulk export's lines are parsed: in a child process for large exports on PostgreSQL (both
cores busy: parsing there, writing here), else in a thread one batch ahead of the writer."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from django.db import connection

from shopsync.payloads.bulk_jsonl import BulkBatch, read_bulk_jsonl
from shopsync.resources import Resource
from shopsync.services.sync.config import sync_config
from shopsync.services.sync.parse_process import ParsedBatch, parsed_in_child_process
from shopsync.services.sync.prefetch import prefetched
from shopsync.shopify.bulk import block_lines


def parse_process_wanted(*, expected_lines: int) -> bool:
    """The child process costs a second of start-up: worth it for large exports only, and only on
    PostgreSQL (its batches come encoded as COPY data)."""
    threshold = sync_config().bulk_parse_process_min_lines
    return connection.vendor == "postgresql" and threshold >= 0 and expected_lines >= threshold


def bulk_batches(
    blocks: Iterable[bytes], *, resource: Resource, batch_size: int, start_line: int = 1, in_child: bool
) -> Iterator[BulkBatch | ParsedBatch]:
    """Batches of `read_bulk_jsonl` over the lines of `blocks` (`bulk_result_blocks`: runs of whole
    lines, the export's from line `start_line` on)."""
    if in_child:
        return parsed_in_child_process(
            blocks, resource=resource, batch_size=batch_size, start_line=start_line
        )
    lines = itertools.chain.from_iterable(map(block_lines, blocks))
    # Blank placeholders keep the reader's line numbers those of the export.
    numbered = itertools.chain(itertools.repeat(b"", start_line - 1), lines)
    batches = read_bulk_jsonl(numbered, resource=resource, batch_size=batch_size, start_line=start_line)
    return prefetched(batches) if sync_config().bulk_prefetch else batches
