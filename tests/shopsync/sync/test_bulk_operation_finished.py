from __future__ import annotations

from shopsync.services.sync import bulk_operation_finished
from tests.factories import ShopFactory, SyncJobFactory

OPERATION = "gid://shopify/BulkOperation/720918"


def test_the_finish_webhook_flags_the_job_waiting_on_that_operation(shop):
    # given
    job = SyncJobFactory(session__shop=shop, bulk_operation_id=OPERATION, bulk_status="RUNNING")
    other = SyncJobFactory(
        session__shop=shop,
        session__kind="populate",
        resource="customers",
        bulk_operation_id="gid://shopify/BulkOperation/1",
    )
    # when
    woken = bulk_operation_finished(shop=shop, bulk_operation_id=OPERATION, status="completed")
    # then
    job.refresh_from_db()
    other.refresh_from_db()
    assert woken == 1
    assert (job.bulk_status, job.bulk_finished_at is not None) == ("COMPLETED", True)
    assert other.bulk_finished_at is None


def test_the_finish_webhook_of_another_shops_operation_wakes_nothing(shop):
    # given
    job = SyncJobFactory(session__shop=ShopFactory(), bulk_operation_id=OPERATION)
    # when
    woken = bulk_operation_finished(shop=shop, bulk_operation_id=OPERATION, status="failed")
    # then
    job.refresh_from_db()
    assert (woken, job.bulk_finished_at) == (0, None)
