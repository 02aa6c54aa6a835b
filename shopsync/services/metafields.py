"""The shop's choice of metafield namespaces to mirror (contract §8.10; `ChildDeclaration.namespaced`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from shopsync.enqueue import task_enqueue_on_commit
from shopsync.models import Shop
from shopsync.payloads.metafields import namespaces_clean
from shopsync.resources import DECLARATIONS

logger = logging.getLogger(__name__)


def shop_metafield_namespaces_set(*, shop: Shop, namespaces: Iterable[str]) -> list[str]:
    """Store the namespaces the shop mirrors (cleaned: stripped, no repeats, sorted); raises
    ValidationError naming the first invalid one. When they change:
    1. rows of a namespace no longer chosen are deleted (nothing would read them again: kept, they
       would silently go stale);
    2. after commit, the webhook subscriptions are registered again, so owner topics carry the new
       namespaces.
    Rows of a newly chosen namespace come with each owner's next read: the next full sync reads them
    all (an incremental run only reads owners that changed)."""
    try:
        chosen = namespaces_clean(namespaces)
    except ValueError as exc:
        raise ValidationError({"metafield_namespaces": str(exc)}) from exc
    with transaction.atomic():
        current = Shop.objects.select_for_update().get(pk=shop.pk)
        if sorted(current.metafield_namespaces or []) == chosen:
            shop.metafield_namespaces = chosen
            return chosen
        current.metafield_namespaces = chosen
        current.save(update_fields=["metafield_namespaces", "updated_at"])
        removed = _metafields_outside_delete(shop=current, chosen=chosen)
        # The webhooks app registers the subscriptions again, with the new `metafieldNamespaces`.
        task_enqueue_on_commit("webhooks.tasks.webhook_subscriptions_register_task", current.pk)
    logger.info("shop %s mirrors metafield namespaces %s (%s rows removed)", shop.domain, chosen, removed)
    shop.metafield_namespaces = chosen
    return chosen


def _metafields_outside_delete(*, shop: Shop, chosen: list[str]) -> int:
    removed = 0
    for model in metafield_models():
        removed += model.objects.filter(shop=shop).exclude(namespace__in=chosen).delete()[0]
    return removed


def metafield_models() -> list[type]:
    """The metafield tables, one per owner (from the declarations' `namespaced` children)."""
    return [
        child.model
        for declaration in DECLARATIONS.values()
        for child in declaration.all_children()
        if child.namespaced
    ]
