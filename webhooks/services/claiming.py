"""Claiming delivery rows: one autocommitted `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
LOCKED) RETURNING id`, shared by the relay's claim and the processing claim. Rows another worker
holds are skipped, not waited for, and the claim costs one round trip."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from webhooks.models import WebhookLog


def webhook_logs_claim(
    *, assignments: str, assignment_params: Sequence[Any], selection: str, selection_params: Sequence[Any]
) -> list[int]:
    """`UPDATE webhooklog SET <assignments> WHERE id IN (SELECT id FROM webhooklog WHERE
    <selection>)` with the selected rows locked or skipped; returns the ids updated. Both SQL
    fragments are ours (no user input); their values travel as parameters."""
    table = connection.ops.quote_name(WebhookLog._meta.db_table)
    # SQLite has a single writer and no row locks: the UPDATE alone is atomic there.
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    sql = (
        f"UPDATE {table} SET {assignments} "  # noqa: S608 (our own fragments and identifiers only)
        f"WHERE id IN (SELECT id FROM {table} WHERE {selection}{skip_locked}) RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*assignment_params, *selection_params])
        return [row[0] for row in cursor.fetchall()]


def db_timestamp(field_name: str, value: Any) -> Any:
    """A datetime prepared for the database as the model field would be (raw SQL skips that)."""
    return WebhookLog._meta.get_field(field_name).get_db_prep_save(value, connection)
