"""Run-time metafield changes (contract §8.10, §8.15.5): set (create or edit) and delete, from the control
API and the change generator (`metafields/update` edits a value, `metafields/create` adds a key,
`metafields/delete` removes one).

Readings of UNSURE points (README): a metafield write never sends a webhook (no `metafields/*` topic;
`products/update` and the others are not sent for a metafield-only change). Whether it bumps the owner's
`updatedAt` is unknown: by default it does not (the metafield's own `updatedAt` moves), so a mirror that
finds changed metafields through its owners' `updated_at` misses them, as the contract's safer reading
warns; the shop setting `metafield_bumps_owner` bumps the owner (a variant's product too), still silently.
An owner's deletion takes its metafields with it (listed among the truth's deleted ids).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import orjson

from shopify_sim import timeutil
from shopify_sim.store import metafields as store
from shopify_sim.store.db import Store
from shopify_sim.store.mutations import Change, MutationError, bump

KINDS = ("metafields/update", "metafields/create", "metafields/delete")
OWNER_RESOURCES = {"orders": "order", "customers": "customer", "products": "product"}


class MetafieldChanges:
    def __init__(self, store_: Store, settings: Callable[[], dict[str, Any]]) -> None:
        self.store = store_
        self.settings = settings

    def _touch_owner(self, conn: Any, owner_type: str, owner_id: int) -> None:
        if not self.settings().get("metafield_bumps_owner"):
            return
        if owner_type == "variant":
            found = conn.execute("SELECT product_id FROM variants WHERE id = ?", (owner_id,)).fetchone()
            if found is None:
                return
            product = self.store.get("products", found[0])
            if product is None:
                return
            product["updated_at"] = bump(product["updated_at"])
            for variant in product["variants"]:
                if variant["id"] == owner_id:
                    variant["updated_at"] = product["updated_at"]
            self.store.put(conn, "products", product)
            return
        resource = store.OWNER_TABLES[owner_type]
        record = self.store.get(resource, owner_id)
        if record is not None:
            record["updated_at"] = bump(record["updated_at"])
            self.store.put(conn, resource, record)

    def _owner_exists(self, conn: Any, owner_type: str, owner_id: int) -> bool:
        table = store.OWNER_TABLES[owner_type]
        return conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (owner_id,)).fetchone() is not None  # noqa: S608

    def set(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create or edit (by owner, namespace and key) a metafield; `value` is kept as a string."""
        owner_type, owner_id = str(fields.get("owner_type", "")), int(fields.get("owner_id") or 0)
        if owner_type not in store.OWNER_TABLES:
            raise MutationError(422, f"owner_type must be one of {', '.join(store.OWNER_TYPES)}")
        namespace, key = str(fields.get("namespace") or ""), str(fields.get("key") or "")
        if not namespace or not key or "value" not in fields:
            raise MutationError(422, "namespace, key and value are required")
        value = fields["value"]
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        with self.store.writing() as conn:
            if not self._owner_exists(conn, owner_type, owner_id):
                raise MutationError(404, f"{owner_type} {owner_id} not found")
            now = timeutil.now()
            current = next(
                (
                    m
                    for m in store.of_owner(conn, owner_type, owner_id)
                    if (m["namespace"], m["key"]) == (namespace, key)
                ),
                None,
            )
            if current is None:
                ids = store.load_ids(conn)
                current = {
                    "id": ids.next(random.Random(now)),
                    "owner_type": owner_type,
                    "owner_id": owner_id,
                    "namespace": namespace,
                    "key": key,
                    "type": str(fields.get("type") or "single_line_text_field"),
                    "value": text,
                    "description": None,
                    "created_at": now,
                    "updated_at": now,
                }
                store.save_ids(conn, ids)
            else:
                current["value"] = text
                current["type"] = str(fields.get("type") or current["type"])
                current["updated_at"] = bump(current["updated_at"])
            conn.execute(store.INSERT, store.row(current))
            self._touch_owner(conn, owner_type, owner_id)
        return current

    def delete(self, metafield_id: int) -> None:
        with self.store.writing() as conn:
            found = store.by_id(conn, metafield_id)
            if found is None:
                raise MutationError(404, f"metafield {metafield_id} not found")
            conn.execute("DELETE FROM metafields WHERE id = ?", (metafield_id,))
            conn.execute(
                "INSERT OR REPLACE INTO deleted (resource, id, deleted_at) VALUES ('metafields', ?, ?)",
                (metafield_id, timeutil.now()),
            )
            self._touch_owner(conn, found["owner_type"], found["owner_id"])

    def on_owner_event(self, topic: str, resource: str, record_id: int) -> None:
        """An owner's deletion (and a product's gone variants) take their metafields with them."""
        if resource not in OWNER_RESOURCES:
            return
        with self.store.writing() as conn:
            now = timeutil.now()
            if topic.endswith("/delete"):
                store.forget_owner(conn, OWNER_RESOURCES[resource], [record_id], now)
            if resource == "products":
                orphans = [
                    r[0]
                    for r in conn.execute(
                        "SELECT DISTINCT owner_id FROM metafields WHERE owner_type = 'variant' "
                        "AND owner_id NOT IN (SELECT id FROM variants)"
                    )
                ]
                store.forget_owner(conn, "variant", orphans, now)

    # -- the change generator --------------------------------------------------------------------------
    def random_change(self, rng: random.Random, kind: str) -> Change | None:
        conn = self.store.conn()
        if kind == "metafields/create":
            owner_type = rng.choice(store.OWNER_TYPES)
            table = store.OWNER_TABLES[owner_type]
            owner_id = (
                self.store.random_id(table, rng.random())
                if table != "variants"
                else self._random_variant(rng)
            )
            if owner_id is None:
                return None
            taken = {(m["namespace"], m["key"]) for m in store.of_owner(conn, owner_type, owner_id)}
            free = [spec for spec in store.POOL[owner_type] if (spec[0], spec[1]) not in taken]
            if not free:
                return None
            namespace, key, kind_name, make = rng.choice(free)
            made = self.set(
                {
                    "owner_type": owner_type,
                    "owner_id": owner_id,
                    "namespace": namespace,
                    "key": key,
                    "type": kind_name,
                    "value": make(rng),
                }
            )
            return Change("metafields", "create", made["id"], made["updated_at"])
        low, high = conn.execute("SELECT MIN(id), MAX(id) FROM metafields").fetchone()
        if low is None:
            return None
        target = low + int((high - low) * rng.random())
        found = conn.execute(
            "SELECT data FROM metafields WHERE id >= ? ORDER BY id LIMIT 1", (target,)
        ).fetchone()
        metafield = orjson.loads(found[0])
        if kind == "metafields/delete":
            self.delete(metafield["id"])
            return Change("metafields", "delete", metafield["id"], None)
        spec = next(
            (
                s
                for s in store.POOL[metafield["owner_type"]]
                if (s[0], s[1]) == (metafield["namespace"], metafield["key"])
            ),
            None,
        )
        value = spec[3](rng) if spec else f"{metafield['value']}!"
        made = self.set({**metafield, "value": value})
        return Change("metafields", "update", made["id"], made["updated_at"])

    def _random_variant(self, rng: random.Random) -> int | None:
        conn = self.store.conn()
        low, high = conn.execute("SELECT MIN(id), MAX(id) FROM variants").fetchone()
        if low is None:
            return None
        found = conn.execute(
            "SELECT id FROM variants WHERE id >= ? ORDER BY id LIMIT 1",
            (low + int((high - low) * rng.random()),),
        ).fetchone()
        return found[0] if found else None
