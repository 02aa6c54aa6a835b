"""The resources shopsync mirrors, each declared once (R16): a module per resource, its children
declared with it. Every path reads these declarations: the bulk and paged query builders, the bulk
JSONL reader, the REST/webhook parsing, the write path's tables, the by-id refetch, reconciliation,
the dead letters and the admin.

Adding a resource: a module here with its declaration (and its payload shapes, models and
migration), and its entry in `DECLARATIONS`; see docs/architecture.md.
"""

from __future__ import annotations

import enum

from shopsync.resources.base import (
    ChildDeclaration,
    DeletedReference,
    DeletionEvent,
    Ordering,
    ResourceDeclaration,
    TopicAction,
    WebhookTopic,
)
from shopsync.resources.collections import COLLECTIONS
from shopsync.resources.customers import CUSTOMERS
from shopsync.resources.inventory import LOCATIONS
from shopsync.resources.orders import ORDERS
from shopsync.resources.products import PRODUCTS

# In sync order: a session's jobs run (and start their bulk operations) in this order.
DECLARATIONS: dict[str, ResourceDeclaration] = {
    declaration.name: declaration for declaration in (ORDERS, CUSTOMERS, PRODUCTS, COLLECTIONS, LOCATIONS)
}


class _ResourceName(enum.StrEnum):
    @property
    def singular(self) -> str:
        return DECLARATIONS[self.value].singular

    @property
    def declaration(self) -> ResourceDeclaration:
        return DECLARATIONS[self.value]


# The resources by name ("orders"), as the sync jobs, the write path and the webhooks name them.
Resource = _ResourceName("Resource", {name.upper(): name for name in DECLARATIONS}, module=__name__)


def declaration_for(resource: str) -> ResourceDeclaration:
    """The declaration of a resource by name ("orders", or the `Resource` member)."""
    return DECLARATIONS[str(resource)]


def declaration_for_singular(singular: str) -> ResourceDeclaration:
    """By singular name ("order"): a dead letter's entity type, a payload error's resource."""
    for declaration in DECLARATIONS.values():
        if declaration.singular == singular:
            return declaration
    raise KeyError(singular)


def declaration_for_model(model: type) -> ResourceDeclaration:
    """The declaration whose root is `model` (the admin's record pages, the privacy export)."""
    return next(declaration for declaration in DECLARATIONS.values() if declaration.model is model)


def resource_topics() -> list[tuple[ResourceDeclaration, ChildDeclaration | None, WebhookTopic]]:
    """Every webhook topic a declaration handles: (resource, child or None, topic)."""
    found: list[tuple[ResourceDeclaration, ChildDeclaration | None, WebhookTopic]] = []
    for declaration in DECLARATIONS.values():
        found += [(declaration, None, topic) for topic in declaration.topics]
        for child in declaration.all_children():
            found += [(declaration, child, topic) for topic in child.topics]
    return found


__all__ = [
    "DECLARATIONS",
    "ChildDeclaration",
    "DeletedReference",
    "DeletionEvent",
    "Ordering",
    "Resource",
    "ResourceDeclaration",
    "TopicAction",
    "WebhookTopic",
    "declaration_for",
    "declaration_for_model",
    "declaration_for_singular",
    "resource_topics",
]
