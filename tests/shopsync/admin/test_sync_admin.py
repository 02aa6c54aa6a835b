from __future__ import annotations

from django.urls import reverse

from shopsync.models import SyncJob, SyncSession


def test_session_page_shows_its_jobs_with_links(superuser_client, shop):
    # given
    session = SyncSession.objects.create(
        shop=shop, kind="initial", triggered_by="install", status="completed"
    )
    job = SyncJob.objects.create(session=session, shop=shop, resource="orders", mode="initial", status="completed",
                                 synced=200, failures=[{"page": 3, "reason": "timeout"}])  # fmt: skip
    # when
    listing = superuser_client.get(reverse("admin:shopsync_syncsession_changelist"))
    session_page = superuser_client.get(reverse("admin:shopsync_syncsession_change", args=[session.pk]))
    job_page = superuser_client.get(reverse("admin:shopsync_syncjob_change", args=[job.pk]))
    # then
    [row] = listing.context["cl"].result_list
    assert row.job_total == 1
    assert reverse("admin:shopsync_syncjob_change", args=[job.pk]) in session_page.content.decode()
    assert "&quot;reason&quot;: &quot;timeout&quot;" in job_page.content.decode()
    assert 'name="_save"' not in job_page.content.decode()


def test_session_page_shows_why_a_job_was_skipped(superuser_client, shop):
    # given: a locations job skipped for a scope the shop did not grant
    session = SyncSession.objects.create(
        shop=shop, kind="initial", triggered_by="install", status="completed"
    )
    note = "not synced: the shop has not granted the app the read_inventory scope"
    SyncJob.objects.create(session=session, shop=shop, resource="locations", mode="initial", status="completed",
                           note=note)  # fmt: skip
    # when
    page = superuser_client.get(reverse("admin:shopsync_syncsession_change", args=[session.pk]))
    # then
    assert note in page.content.decode()
