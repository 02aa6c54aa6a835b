"""Fixtures for the staff pages' tests: logged-in clients for the standing cast, and sync runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shopsync.models import Shop, SyncJob, SyncSession


@pytest.fixture
def client_for() -> Callable[..., Client]:
    def make(user, *, enforce_csrf_checks: bool = False) -> Client:
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def make_session() -> Callable[..., SyncSession]:
    """A sync session as the engine leaves it, with one job per entry of `jobs` ({resource: fields})."""

    def make(
        shop: Shop,
        *,
        kind: str = "initial",
        status: str = "completed",
        finished_at: datetime | None = None,
        jobs: dict[str, dict] | None = None,
        **fields,
    ) -> SyncSession:
        now = timezone.now()
        terminal = status in ("completed", "failed", "cancelled")
        finished_at = finished_at or (now if terminal else None)
        session = SyncSession.objects.create(
            shop=shop,
            kind=kind,
            status=status,
            triggered_by=fields.pop("triggered_by", "button"),
            resources=list((jobs or {}).keys()),
            stage=fields.pop("stage", "finished" if terminal else "fetching"),
            queued_at=now - timedelta(minutes=5),
            started_at=(finished_at or now) - timedelta(minutes=3),
            finished_at=finished_at,
            **fields,
        )
        for resource, values in (jobs or {}).items():
            job_status = values.pop("status", "completed" if status == "completed" else "running")
            SyncJob.objects.create(
                session=session, shop=shop, resource=resource, mode=kind, status=job_status, **values
            )
        return session

    return make
