"""Which queue a sync run goes to: the one place that knows (settings declare the queues from here, the
guard publishes by it, a worker's start-up recovery and the tests' workers read it).

Plain data (no Django imports), so settings can import it, like `shopsync/beat.py`.

Two queues, so short runs never queue behind backfills (issue: one shop's 700-change update and
another's backfill held every sync process for 7 minutes while 20 shops' 3-second incrementals waited):

- `sync`: short runs, incremental and update (cursor pages over what changed), and every task published
  without a kind (the `shopsync.tasks.sync_*` route). A worker (or a share of one, see
  `SYNC_MAX_RUNNING_BACKFILLS`) always serves it.
- `sync_backfill`: bulk runs, initial, full and populate (a bulk export of everything, or of a window).
  They run in slices (`SYNC_BACKFILL_SLICE_SECONDS`) and go to the back of this queue after each, so
  backfills of several shops take turns.
"""

from __future__ import annotations

SYNC_QUEUE = "sync"
SYNC_BACKFILL_QUEUE = "sync_backfill"
# Every queue a sync run may be on: a worker serving sync runs consumes both (or one, on purpose).
SYNC_QUEUES = (SYNC_QUEUE, SYNC_BACKFILL_QUEUE)
# Kinds run by the bulk engine: long, sliced, on the backfill queue (values of `SyncKind`).
BULK_KINDS = ("initial", "full", "populate")


def sync_queue_for_kind(kind: str) -> str:
    return SYNC_BACKFILL_QUEUE if kind in BULK_KINDS else SYNC_QUEUE
