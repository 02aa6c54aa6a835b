"""What webhooks change on the Shop row itself."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from shopsync.models import Shop

logger = logging.getLogger(__name__)


def shop_uninstalled_mark(*, shop: Shop, uninstalled_at: datetime) -> bool:
    """Mark the shop uninstalled (app/uninstalled). The sync engine stops its running sessions at
    their next batch and its beat skips uninstalled shops, so this also pauses the schedules.

    A late app/uninstalled from before a reinstall must not uninstall the reinstalled shop: the
    update only applies when the shop was installed before the uninstall happened. Returns whether
    the shop changed."""
    changed = (
        Shop.objects.filter(pk=shop.pk, status=Shop.Status.INSTALLED)
        .filter(Q(installed_at__isnull=True) | Q(installed_at__lte=uninstalled_at))
        .update(status=Shop.Status.UNINSTALLED, uninstalled_at=uninstalled_at, updated_at=timezone.now())
    )
    if changed:
        logger.info("shop uninstalled shop_id=%s", shop.pk)
    return bool(changed)
