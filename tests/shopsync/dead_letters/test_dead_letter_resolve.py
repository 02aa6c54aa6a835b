from __future__ import annotations

import pytest
from django.utils import timezone

from shopsync.models import FailedSyncItem
from shopsync.services.dead_letters import dead_letter_counts, dead_letter_resolve
from tests.factories import FailedSyncItemFactory


@pytest.mark.parametrize(
    "resolution", [FailedSyncItem.Resolution.MANUAL, FailedSyncItem.Resolution.ABANDONED]
)
def test_resolve_closes_an_open_item_with_the_given_resolution(shop, resolution):
    # given
    item = FailedSyncItemFactory(shop=shop)
    # when
    changed = dead_letter_resolve(item=item, resolution=resolution)
    # then
    item.refresh_from_db()
    assert changed is True
    assert item.resolution == resolution
    assert item.resolved_at is not None
    assert item.next_retry_at is None
    assert dead_letter_counts(shop=shop).open == 0


def test_resolving_twice_keeps_the_first_resolution(shop):
    # given
    item = FailedSyncItemFactory(shop=shop)
    dead_letter_resolve(item=item, resolution=FailedSyncItem.Resolution.MANUAL)
    first_resolved_at = item.resolved_at
    # when
    changed = dead_letter_resolve(item=FailedSyncItem.objects.get(pk=item.pk), resolution="abandoned")
    # then
    item.refresh_from_db()
    assert changed is False
    assert item.resolution == FailedSyncItem.Resolution.MANUAL
    assert item.resolved_at == first_resolved_at


def test_success_is_not_a_manual_resolution(shop):
    # given
    item = FailedSyncItemFactory(shop=shop)
    # when / then
    with pytest.raises(ValueError, match="manual or abandoned"):
        dead_letter_resolve(item=item, resolution=FailedSyncItem.Resolution.SUCCESS)
    item.refresh_from_db()
    assert item.resolved_at is None


def test_counts_separate_exhausted_from_open_and_ignore_resolved_and_other_shops(shop):
    # given
    FailedSyncItemFactory(shop=shop)
    FailedSyncItemFactory(shop=shop, retry_count=5, max_retries=5, next_retry_at=None)
    FailedSyncItemFactory(shop=shop, resolved_at=timezone.now(), resolution=FailedSyncItem.Resolution.MANUAL)
    FailedSyncItemFactory()
    # when
    counts = dead_letter_counts(shop=shop)
    # then
    assert (counts.open, counts.exhausted) == (2, 1)
