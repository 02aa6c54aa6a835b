"""Writes to the customer fields that are ours (CRM), never Shopify's."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from shopsync.models import Customer

MAX_NOTES_CHARS = 10_000
MAX_TAGS = 50
MAX_TAG_CHARS = 64


def local_tags_parse(raw: str) -> list[str]:
    """ "vip, wholesale ,vip" -> ["vip", "wholesale"]: trimmed, empty ones dropped, first spelling kept."""
    return local_tags_clean(raw.split(","))


def local_tags_clean(tags: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    cleaned = []
    for tag in (tag.strip() for tag in tags):
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            cleaned.append(tag)
    return cleaned


def customer_local_fields_update(*, customer: Customer, notes: str, tags: Iterable[str]) -> Customer:
    """Set the customer's local notes and tags. Only these two columns are written: a `save()` of the
    whole row would put back the Shopify fields as this request read them, undoing a sync or webhook
    write that landed in between."""
    notes = notes.strip()
    tags = local_tags_clean(tags)
    if len(notes) > MAX_NOTES_CHARS:
        raise ValidationError(f"Notes are limited to {MAX_NOTES_CHARS:,} characters.")
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"At most {MAX_TAGS} tags.")
    too_long = [tag for tag in tags if len(tag) > MAX_TAG_CHARS]
    if too_long:
        raise ValidationError(f"Tags are limited to {MAX_TAG_CHARS} characters: {too_long[0][:20]}…")
    Customer.objects.filter(pk=customer.pk).update(local_notes=notes, local_tags=tags)
    customer.local_notes = notes
    customer.local_tags = tags
    return customer
