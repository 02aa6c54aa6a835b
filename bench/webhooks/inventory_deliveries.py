"""The inventory webhook benchmark's deliveries and figures, pure (no Django, no I/O but the file).

A delivery is what Shopify sends for `inventory_levels/update` (contract §8.9): the body
`{inventory_item_id, location_id, available, updated_at, admin_graphql_api_id}` signed with the
app's secret (§4.2: base64 of HMAC-SHA256 over the raw body). The bodies are made ahead of the load
(wrk cannot sign) and written one a line, `index TAB signature TAB body`, for `inventory_load.lua`;
the index names the delivery's event and webhook ids, so a stored row leads back to its body.

`updated_at` carries milliseconds and grows with the index: two updates of one level always have
an order, so the level each key must end with is known (`expected_levels`), whichever worker
applied which update first. Shopify's own bodies carry seconds; equal clocks are a different test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

TOPIC = "inventory_levels/update"
# Ids in the ranges Shopify's have (13 digits); locations and items never collide.
FIRST_LOCATION_ID = 7_000_000_000_001
FIRST_ITEM_ID = 4_000_000_000_001


@dataclass(frozen=True, slots=True)
class LevelDelivery:
    index: int
    item_id: int
    location_id: int
    available: int
    updated_at: datetime
    body: bytes
    signature: str


def location_ids(count: int) -> list[int]:
    return [FIRST_LOCATION_ID + number for number in range(count)]


def item_ids(count: int) -> list[int]:
    return [FIRST_ITEM_ID + number for number in range(count)]


def sign(body: bytes, secret: str) -> str:
    """`X-Shopify-Hmac-Sha256` of a body: base64 (not hex) of HMAC-SHA256 over the raw bytes."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_time(moment: datetime) -> str:
    """ISO 8601 with milliseconds and an explicit offset, as REST bodies write times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "-00:00")


def level_body(*, item_id: int, location_id: int, available: int, updated_at: datetime) -> bytes:
    return orjson.dumps(
        {
            "inventory_item_id": item_id,
            "location_id": location_id,
            "available": available,
            "updated_at": shopify_time(updated_at),
            "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}",
        }
    )


def level_deliveries(
    *, count: int, items: int, locations: int, rate: float, starting_at: datetime, secret: str, seed: int = 1
) -> Iterator[LevelDelivery]:
    """`count` updates of levels picked at random among `items` x `locations`, the i-th with
    `updated_at` = `starting_at` + i / `rate` seconds (the clock of a store changing at `rate`)."""
    rng = random.Random(seed)
    items_at = item_ids(items)
    locations_at = location_ids(locations)
    for index in range(count):
        item_id, location_id = rng.choice(items_at), rng.choice(locations_at)
        available = rng.randint(0, 500)
        updated_at = starting_at + timedelta(seconds=index / rate)
        body = level_body(
            item_id=item_id, location_id=location_id, available=available, updated_at=updated_at
        )
        yield LevelDelivery(index, item_id, location_id, available, updated_at, body, sign(body, secret))


def write_delivery_file(deliveries: Iterable[LevelDelivery], path: Path) -> int:
    """One delivery a line for the wrk script: `index TAB signature TAB body`. Returns the count."""
    written = 0
    with path.open("wb") as out:
        for delivery in deliveries:
            out.write(b"%d\t%s\t%s\n" % (delivery.index, delivery.signature.encode(), delivery.body))
            written += 1
    return written


def expected_levels(deliveries: Iterable[LevelDelivery]) -> dict[tuple[int, int], int]:
    """(location, item) -> the `available` of its newest update among `deliveries`: what the mirror
    holds once they are all applied, in whatever order they arrived."""
    newest: dict[tuple[int, int], LevelDelivery] = {}
    for delivery in deliveries:
        key = (delivery.location_id, delivery.item_id)
        kept = newest.get(key)
        if kept is None or kept.updated_at < delivery.updated_at:
            newest[key] = delivery
    return {key: delivery.available for key, delivery in newest.items()}


def percentile(ordered: list[float], share: float) -> float | None:
    """Nearest-rank percentile of sorted values (None for none)."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def spread(values: Iterable[float], *, digits: int = 3) -> dict[str, float | int | None]:
    ordered = sorted(values)

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, digits)

    return {
        "n": len(ordered),
        "p50": rounded(percentile(ordered, 0.50)),
        "p99": rounded(percentile(ordered, 0.99)),
        "max": rounded(ordered[-1] if ordered else None),
    }


def delivery_index(event_id: str) -> int:
    """The delivery's index from its `X-Shopify-Event-Id` (`ev-<run>-<index>`, inventory_load.lua)."""
    return int(event_id.rsplit("-", 1)[1])
