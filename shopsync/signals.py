"""The one sanctioned signal: `shop_data_changed`.

Sent once after a sync session that changed data (created, updated or soft-deleted records)
finishes, outside any transaction. It is an extension point for downstream jobs (analytics,
segments, reconciliation) that must not run before the data is there; it is not workflow glue
inside the sync engine (see STYLE A2). Receivers should only enqueue their own task
(`delay_on_commit`) and return quickly.

    @receiver(shop_data_changed)
    def _on_shop_data_changed(sender, *, shop_id, session_id, kind, resources, **kwargs): ...

Arguments: `shop_id` (int), `session_id` (int), `kind` (initial | incremental | populate | update | full),
`resources` (the resources whose data changed).
"""

from __future__ import annotations

from django.dispatch import Signal

shop_data_changed = Signal()
