"""A job's own state changes (start, complete, fail) and the shop's per-resource watermark."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from shopsync.models import SyncCursor, SyncJob, SyncSeenRecord, SyncSession
from shopsync.resources import declaration_for
from shopsync.services.sync.sessions import session_heartbeat
from shopsync.services.sync.writing import JobContext

logger = logging.getLogger(__name__)


def job_context(*, session: SyncSession, job: SyncJob, token: int) -> JobContext:
    return JobContext(session=session, job=job, token=token, shop=session.shop)


def job_start(*, ctx: JobContext, **fields) -> None:
    """pending/failed/running -> running; a resumed job keeps its window and checkpoint."""
    now = timezone.now()
    values = {
        "status": SyncJob.Status.RUNNING,
        "started_at": ctx.job.started_at or now,
        "error": "",
        **fields,
    }
    with transaction.atomic():
        session_heartbeat(session=ctx.session, token=ctx.token)
        SyncJob.objects.filter(pk=ctx.job.pk).update(updated_at=now, **values)
    for name, value in values.items():
        setattr(ctx.job, name, value)


def job_complete(*, ctx: JobContext, watermark: tuple[datetime, int] | None = None) -> None:
    """Mark the job completed (and move the shop's watermark for it, if given), fenced."""
    now = timezone.now()
    with transaction.atomic():
        session_heartbeat(session=ctx.session, token=ctx.token)
        if watermark is not None:
            cursor_advance(ctx=ctx, updated_at=watermark[0], shopify_id=watermark[1])
        SyncJob.objects.filter(pk=ctx.job.pk).update(
            status=SyncJob.Status.COMPLETED, finished_at=now, updated_at=now
        )
        SyncSeenRecord.objects.filter(job_id=ctx.job.pk).delete()
    ctx.job.refresh_from_db()


def job_skip_if_unscoped(*, ctx: JobContext) -> bool:
    """Complete, without reading anything, a job whose resource needs an access scope the shop has
    not granted (`ResourceDeclaration.required_scopes`: locations and stock need read_inventory), with a
    note saying so: not a failure, the rest of the session syncs. Returns whether it was skipped."""
    missing = ctx.shop.missing_scopes(declaration_for(ctx.job.resource).required_scopes)
    if not missing:
        return False
    note = (
        f"not synced: the shop has not granted the app the {' and '.join(missing)} "
        f"scope{'s' if len(missing) > 1 else ''} (reinstall the app with {'them' if len(missing) > 1 else 'it'} "
        f"to mirror {ctx.job.resource})"
    )
    now = timezone.now()
    with transaction.atomic():
        session_heartbeat(session=ctx.session, token=ctx.token)
        SyncJob.objects.filter(pk=ctx.job.pk).update(
            status=SyncJob.Status.COMPLETED,
            note=note,
            error="",
            started_at=now,
            finished_at=now,
            updated_at=now,
        )
    logger.info("sync job %s (%s) skipped: %s", ctx.job.pk, ctx.job.resource, note)
    ctx.job.refresh_from_db()
    return True


def job_fail(*, ctx: JobContext, error: str) -> None:
    """A job that cannot go on (permanent Shopify error): the others still run; the session fails at
    the end and this job's checkpoint is kept for the next run."""
    logger.warning("sync job %s (%s) failed: %s", ctx.job.pk, ctx.job.resource, error)
    SyncJob.objects.filter(pk=ctx.job.pk).update(
        status=SyncJob.Status.FAILED,
        error=error[:4000],
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    ctx.job.refresh_from_db()


def cursor_get(*, ctx: JobContext) -> SyncCursor | None:
    return SyncCursor.objects.filter(shop=ctx.shop, resource=ctx.job.resource).first()


def cursor_advance(*, ctx: JobContext, updated_at: datetime, shopify_id: int) -> None:
    """Move the shop's watermark forward to (updated_at, shopify_id); never backwards. Call it inside
    the transaction that commits the data it stands for."""
    cursor = SyncCursor.objects.select_for_update().filter(shop=ctx.shop, resource=ctx.job.resource).first()
    if cursor is None:
        SyncCursor.objects.create(
            shop=ctx.shop,
            resource=ctx.job.resource,
            updated_at=updated_at,
            shopify_id=shopify_id,
            session=ctx.session,
        )
    elif (updated_at, shopify_id) > (cursor.updated_at, cursor.shopify_id):
        SyncCursor.objects.filter(pk=cursor.pk).update(
            updated_at=updated_at, shopify_id=shopify_id, session=ctx.session, moved_at=timezone.now()
        )
