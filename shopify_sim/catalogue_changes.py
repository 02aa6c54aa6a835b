"""Run-time catalogue changes: inventory moves (the most frequent real webhooks), collection edits and
membership, locations; and the catalogue's reaction to product creates, updates and deletes (levels for
new variants, smart collection membership, a variant's quantity spread over its levels).

Readings of UNSURE points (README):
- A level change moves the variant's `inventory_quantity` (= sum of available), so it bumps the variant
  and its product's `updated_at` and sends `products/update` besides `inventory_levels/update`.
- Adding or removing a product from a custom collection (a collect) changes neither the collection's
  `updated_at` nor sends `collections/update` (contract §8.8: never increment membership by it), unless
  the shop setting `membership_bumps_collection` is on. A smart collection's membership follows its
  products' tags/vendor/type; only the product changes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import orjson

from shopify_sim import timeutil
from shopify_sim.render import catalogue as render
from shopify_sim.store import catalogue as cat
from shopify_sim.store.db import Store
from shopify_sim.store.events import record_event
from shopify_sim.store.mutations import Change, MutationError, bump

Emit = Callable[[str, dict[str, Any]], Any]
Sink = Callable[[str, str, dict[str, Any]], None]

KINDS = (
    "inventory_levels/update",
    "inventory_levels/connect",
    "inventory_levels/disconnect",
    "collections/create",
    "collections/update",
    "collections/delete",
    "collects/create",
    "collects/delete",
    "locations/create",
    "locations/update",
)


class CatalogueChanges:
    def __init__(
        self,
        store: Store,
        emit: Emit,
        sink: Sink,
        offset: int,
        settings: Callable[[], dict[str, Any]],
    ) -> None:
        self.store = store
        self.emit = emit
        self.sink = sink
        self.offset = offset
        self.settings = settings
        self.rng = random.Random()

    # -- helpers -----------------------------------------------------------------------------------
    def _send(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        for topic, payload in events:
            self.emit(topic, payload)

    def _active_locations(self, conn: Any) -> list[int]:
        rows = conn.execute("SELECT id, data FROM locations ORDER BY id").fetchall()
        return [rid for rid, data in rows if orjson.loads(data)["active"]]

    def _save_level(self, conn: Any, level: dict[str, Any]) -> None:
        conn.execute(cat.LEVEL_INSERT, tuple(level[name] for name in cat.LEVEL_COLUMNS))

    # -- reaction to product changes -----------------------------------------------------------------
    def on_product_event(self, topic: str, record: dict[str, Any]) -> None:
        events: list[tuple[str, dict[str, Any]]] = []
        with self.store.writing() as conn:
            if topic == "products/delete":
                events = self._forget_product(conn, record["id"])
            else:
                product = self.store.get("products", record["id"])
                if product is not None:
                    events = self._sync_levels(conn, product) + self._sync_smart(conn, product)
        self._send(events)

    def _forget_product(self, conn: Any, product_id: int) -> list[tuple[str, dict[str, Any]]]:
        items = [
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT inventory_item_id FROM inventory_levels WHERE product_id = ?", (product_id,)
            )
        ]
        conn.execute("DELETE FROM inventory_levels WHERE product_id = ?", (product_id,))
        conn.execute("DELETE FROM collects WHERE product_id = ?", (product_id,))
        return [("inventory_items/delete", {"id": item}) for item in items]

    def _sync_levels(self, conn: Any, product: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        events: list[tuple[str, dict[str, Any]]] = []
        now = timeutil.now()
        levels = cat.levels_where(conn, "product_id = ?", (product["id"],))
        by_variant: dict[int, list[dict[str, Any]]] = {}
        for level in levels:
            by_variant.setdefault(level["variant_id"], []).append(level)
        live = {variant["id"] for variant in product["variants"]}
        for variant_id in sorted(set(by_variant) - live):
            conn.execute("DELETE FROM inventory_levels WHERE variant_id = ?", (variant_id,))
            events.append(("inventory_items/delete", {"id": variant_id + cat.INVENTORY_ITEM_OFFSET}))
        active = self._active_locations(conn)
        for variant in product["variants"]:
            tracked = variant["inventory_management"] == "shopify"
            mine = by_variant.get(variant["id"])
            if not mine:
                if not active:
                    continue
                row = cat.new_level(self.rng, variant, active[0], variant["inventory_quantity"], now, now)
                conn.execute(cat.LEVEL_INSERT, row)
                level = cat.level_dict(row)
                events.append(("inventory_items/create", render.inventory_item(variant, self.offset)))
                events.append(
                    ("inventory_levels/connect", render.inventory_level(level, self.offset, tracked))
                )
                continue
            difference = variant["inventory_quantity"] - sum(level["available"] for level in mine)
            if difference:
                level = mine[0]
                level["available"] += difference
                level["updated_at"] = max(now, level["updated_at"])
                self._save_level(conn, level)
                events.append(
                    ("inventory_levels/update", render.inventory_level(level, self.offset, tracked))
                )
        return events

    def _sync_smart(self, conn: Any, product: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        ids = cat.CatalogueIds.load(conn)
        rows = conn.execute("SELECT data FROM collections WHERE json_extract(data, '$.kind') = 'smart'")
        smart = [orjson.loads(row[0]) for row in rows.fetchall()]
        present = set(cat.collection_ids_of(conn, product["id"]))
        now = timeutil.now()
        for collection in smart:
            matches = cat.smart_matches(collection, product)
            if matches and collection["id"] not in present:
                (position,) = conn.execute(
                    "SELECT COALESCE(MAX(position), 0) + 1 FROM collects WHERE collection_id = ?",
                    (collection["id"],),
                ).fetchone()
                cat.add_collect(conn, ids, self.rng, collection, product["id"], position, now)
            elif not matches and collection["id"] in present:
                conn.execute(
                    "DELETE FROM collects WHERE collection_id = ? AND product_id = ?",
                    (collection["id"], product["id"]),
                )
        ids.save(conn)
        return []

    # -- inventory ---------------------------------------------------------------------------------
    def set_level(
        self, item_id: int, location_id: int, *, delta: int | None = None, available: int | None = None
    ) -> dict[str, Any]:
        """Change one level's available (a sale, a restock, a count) and the variant's quantity with it."""
        with self.store.writing() as conn:
            level = cat.level(conn, item_id, location_id)
            if level is None:
                raise MutationError(404, f"inventory level {item_id}/{location_id} not found")
            change = (available - level["available"]) if available is not None else int(delta or 0)
            level["available"] += change
            product, variant = self._move_variant(conn, level, change)
            level["updated_at"] = max(product["updated_at"], level["updated_at"] + 1)
            self._save_level(conn, level)
        tracked = variant["inventory_management"] == "shopify"
        self.emit("inventory_levels/update", render.inventory_level(level, self.offset, tracked))
        self.sink("products/update", "products", product)
        return level

    def _move_variant(self, conn: Any, level: dict[str, Any], change: int) -> tuple[dict, dict]:
        product = self.store.get("products", level["product_id"])
        if product is None:
            raise MutationError(404, f"product {level['product_id']} not found")
        variant = next(v for v in product["variants"] if v["id"] == level["variant_id"])
        if change:
            product["updated_at"] = bump(product["updated_at"])
            variant["inventory_quantity"] += change
            variant["updated_at"] = product["updated_at"]
            self.store.put(conn, "products", product)
            record_event(conn, resource="products", record=product, verb="update", at=product["updated_at"])
        return product, variant

    def connect(self, item_id: int, location_id: int) -> dict[str, Any]:
        with self.store.writing() as conn:
            if cat.level(conn, item_id, location_id) is not None:
                raise MutationError(422, "Inventory item is already stocked at this location")
            if self.store.get("locations", location_id) is None:
                raise MutationError(404, f"location {location_id} not found")
            others = cat.levels_where(conn, "inventory_item_id = ?", (item_id,))
            variant_id = item_id - cat.INVENTORY_ITEM_OFFSET
            product_id = self.store.variant_product_ids([variant_id]).get(variant_id)
            if product_id is None:
                raise MutationError(404, f"inventory item {item_id} not found")
            product = self.store.get("products", product_id) or {"variants": []}
            variant = next(v for v in product["variants"] if v["id"] == variant_id)
            now = timeutil.now()
            row = cat.new_level(self.rng, variant, location_id, 0, now, now)
            conn.execute(cat.LEVEL_INSERT, row)
            level = cat.level_dict(row)
            del others
        tracked = variant["inventory_management"] == "shopify"
        self.emit("inventory_levels/connect", render.inventory_level(level, self.offset, tracked))
        return level

    def disconnect(self, item_id: int, location_id: int) -> dict[str, Any]:
        """The item is no longer stocked there: the level goes, and its available leaves the variant."""
        with self.store.writing() as conn:
            level = cat.level(conn, item_id, location_id)
            if level is None:
                raise MutationError(404, f"inventory level {item_id}/{location_id} not found")
            if len(cat.levels_where(conn, "inventory_item_id = ?", (item_id,))) <= 1:
                raise MutationError(422, "An inventory item must be stocked at one location at least")
            conn.execute(
                "DELETE FROM inventory_levels WHERE inventory_item_id = ? AND location_id = ?",
                (item_id, location_id),
            )
            product, _ = self._move_variant(conn, level, -level["available"])
        self.emit(
            "inventory_levels/disconnect",
            {"inventory_item_id": item_id, "location_id": location_id},
        )
        if level["available"]:
            self.sink("products/update", "products", product)
        return level

    # -- collections -------------------------------------------------------------------------------
    def create_collection(self, fields: dict[str, Any], rng: random.Random | None = None) -> dict[str, Any]:
        rng = rng or self.rng
        with self.store.writing() as conn:
            ids = cat.CatalogueIds.load(conn)
            now = timeutil.now()
            products = [orjson.loads(row[0]) for row in conn.execute("SELECT data FROM products ORDER BY id")]
            collection = cat.make_collection(rng, ids, now, now, products)
            for key, value in fields.items():
                if key in ("id", "created_at", "updated_at") or key not in collection:
                    raise MutationError(422, f"unknown or protected field {key!r}")
                collection[key] = value
            cat.put_blob(conn, "collections", collection)
            if collection["kind"] == "smart":
                members = [p["id"] for p in products if cat.smart_matches(collection, p)]
            else:
                members = [p["id"] for p in products if rng.random() < 0.1]
            for position, product_id in enumerate(members, start=1):
                cat.add_collect(conn, ids, rng, collection, product_id, position, now)
            ids.save(conn)
            record_event(conn, resource="collections", record=collection, verb="create", at=now)
        self.emit("collections/create", render.collection(collection, self.offset))
        return collection

    def update_collection(
        self, collection_id: int, fields: dict[str, Any], rng: random.Random | None = None
    ) -> dict:
        rng = rng or self.rng
        with self.store.writing() as conn:
            collection = self.store.get("collections", collection_id)
            if collection is None:
                raise MutationError(404, f"collection {collection_id} not found")
            if not fields:
                fields = {
                    "title": f"{rng.choice(('New', 'Best', 'Seasonal', 'Top'))} {collection['title']}"[:80]
                }
            for key, value in fields.items():
                if key in ("id", "created_at", "updated_at", "kind") or key not in collection:
                    raise MutationError(422, f"unknown or protected field {key!r}")
                collection[key] = value
            collection["updated_at"] = bump(collection["updated_at"])
            cat.put_blob(conn, "collections", collection)
            if collection["kind"] == "smart" and ("rules" in fields or "disjunctive" in fields):
                self._rematch(conn, collection)
            record_event(
                conn, resource="collections", record=collection, verb="update", at=collection["updated_at"]
            )
        self.emit("collections/update", render.collection(collection, self.offset))
        return collection

    def _rematch(self, conn: Any, collection: dict[str, Any]) -> None:
        ids = cat.CatalogueIds.load(conn)
        conn.execute("DELETE FROM collects WHERE collection_id = ?", (collection["id"],))
        position = 0
        for (blob,) in conn.execute("SELECT data FROM products ORDER BY id").fetchall():
            product = orjson.loads(blob)
            if cat.smart_matches(collection, product):
                position += 1
                cat.add_collect(
                    conn, ids, self.rng, collection, product["id"], position, collection["updated_at"]
                )
        ids.save(conn)

    def delete_collection(self, collection_id: int) -> None:
        with self.store.writing() as conn:
            collection = self.store.get("collections", collection_id)
            if collection is None or not self.store.remove(
                conn, "collections", collection_id, timeutil.now()
            ):
                raise MutationError(404, f"collection {collection_id} not found")
            conn.execute("DELETE FROM collects WHERE collection_id = ?", (collection_id,))
            # Shopify's event log lists a collection's `destroy` (contract §8.12).
            record_event(conn, resource="collections", record=collection, verb="destroy", at=timeutil.now())
        self.emit(
            "collections/delete", {"id": collection_id, "published_scope": collection["published_scope"]}
        )

    def add_member(self, collection_id: int, product_id: int) -> dict[str, Any]:
        """A collect: a product joins a custom collection (403 on a smart one, as REST)."""
        with self.store.writing() as conn:
            collection = self.store.get("collections", collection_id)
            if collection is None or self.store.get("products", product_id) is None:
                raise MutationError(404, "collection or product not found")
            if collection["kind"] == "smart":
                raise MutationError(403, "Collects can only be created for custom collections")
            ids = cat.CatalogueIds.load(conn)
            (position,) = conn.execute(
                "SELECT COALESCE(MAX(position), 0) + 1 FROM collects WHERE collection_id = ?",
                (collection_id,),
            ).fetchone()
            now = timeutil.now()
            if product_id in cat.member_ids(conn, collection_id):
                raise MutationError(422, "product is already in the collection")
            collect_id = cat.add_collect(conn, ids, self.rng, collection, product_id, position, now)
            ids.save(conn)
            touched = self._touch_for_membership(conn, collection)
        self._send(touched)
        return {
            "id": collect_id,
            "collection_id": collection_id,
            "product_id": product_id,
            "position": position,
            "created_at": now,
            "updated_at": now,
        }

    def remove_member(self, collection_id: int, product_id: int) -> None:
        with self.store.writing() as conn:
            collection = self.store.get("collections", collection_id)
            if collection is None:
                raise MutationError(404, f"collection {collection_id} not found")
            if collection["kind"] == "smart":
                raise MutationError(403, "Collects can only be deleted from custom collections")
            gone = conn.execute(
                "DELETE FROM collects WHERE collection_id = ? AND product_id = ?", (collection_id, product_id)
            ).rowcount
            if not gone:
                raise MutationError(404, "product is not in the collection")
            touched = self._touch_for_membership(conn, collection)
        self._send(touched)

    def _touch_for_membership(
        self, conn: Any, collection: dict[str, Any]
    ) -> list[tuple[str, dict[str, Any]]]:
        if not self.settings().get("membership_bumps_collection"):
            return []
        collection["updated_at"] = bump(collection["updated_at"])
        cat.put_blob(conn, "collections", collection)
        return [("collections/update", render.collection(collection, self.offset))]

    # -- locations ---------------------------------------------------------------------------------
    def create_location(self, fields: dict[str, Any], rng: random.Random | None = None) -> dict[str, Any]:
        rng = rng or self.rng
        with self.store.writing() as conn:
            ids = cat.CatalogueIds.load(conn)
            (count,) = conn.execute("SELECT COUNT(*) FROM locations").fetchone()
            location = cat.make_location(rng, ids, count, timeutil.now(), active=True)
            apply(location, fields)
            cat.put_blob(conn, "locations", location)
            ids.save(conn)
        self.emit("locations/create", render.location(location, self.offset))
        return location

    def update_location(
        self, location_id: int, fields: dict[str, Any], rng: random.Random | None = None
    ) -> dict:
        rng = rng or self.rng
        with self.store.writing() as conn:
            location = self.store.get("locations", location_id)
            if location is None:
                raise MutationError(404, f"location {location_id} not found")
            was_active = location["active"]
            apply(location, fields or {"phone": f"+1613555{rng.randint(1000, 9999)}"})
            location["updated_at"] = bump(location["updated_at"])
            if was_active and not location["active"]:
                if conn.execute(
                    "SELECT 1 FROM inventory_levels WHERE location_id = ? LIMIT 1", (location_id,)
                ).fetchone():
                    raise MutationError(422, "Location has inventory; move it before deactivating")
                location["deactivated_at"] = location["updated_at"]
            elif location["active"]:
                location["deactivated_at"] = None
            cat.put_blob(conn, "locations", location)
        payload = render.location(location, self.offset)
        self.emit("locations/update", payload)
        if was_active != location["active"]:
            self.emit("locations/activate" if location["active"] else "locations/deactivate", payload)
        return location

    def delete_location(self, location_id: int) -> None:
        with self.store.writing() as conn:
            location = self.store.get("locations", location_id)
            if location is None:
                raise MutationError(404, f"location {location_id} not found")
            if location["active"]:
                raise MutationError(422, "Only a deactivated location can be deleted")
            self.store.remove(conn, "locations", location_id, timeutil.now())
        self.emit("locations/delete", {"id": location_id})

    # -- the random mix ----------------------------------------------------------------------------
    def random_change(self, rng: random.Random, kind: str) -> Change | None:
        resource, _, action = kind.partition("/")
        if kind not in KINDS:
            raise MutationError(400, f"unknown mix entry {kind!r}")
        if resource == "inventory_levels":
            return self._random_level_change(rng, action)
        if resource == "collections":
            if action == "create":
                created = self.create_collection({}, rng)
                return Change("collections", "create", created["id"], created["updated_at"])
            collection_id = self.store.random_id("collections", rng.random())
            if collection_id is None:
                return None
            if action == "delete":
                self.delete_collection(collection_id)
                return Change("collections", "delete", collection_id, None)
            updated = self.update_collection(collection_id, {}, rng)
            return Change("collections", "update", collection_id, updated["updated_at"])
        if resource == "collects":
            return self._random_membership(rng, action)
        if action == "create":
            location = self.create_location({}, rng)
            return Change("locations", "create", location["id"], location["updated_at"])
        location_id = self.store.random_id("locations", rng.random())
        if location_id is None:
            return None
        location = self.update_location(location_id, {}, rng)
        return Change("locations", "update", location_id, location["updated_at"])

    def _random_level_change(self, rng: random.Random, action: str) -> Change | None:
        conn = self.store.conn()
        row = conn.execute(
            "SELECT inventory_item_id, location_id FROM inventory_levels WHERE inventory_item_id >= ? "
            "ORDER BY inventory_item_id LIMIT 1",
            (self._item_pick(conn, rng),),
        ).fetchone()
        if row is None:
            return None
        item_id, location_id = row
        if action == "update":
            delta = -rng.randint(1, 3) if rng.random() < 0.7 else rng.randint(5, 50)
            level = self.set_level(item_id, location_id, delta=delta)
            return Change("inventory_levels", "update", item_id, level["updated_at"])
        stocked = {
            lid
            for (lid,) in conn.execute(
                "SELECT location_id FROM inventory_levels WHERE inventory_item_id = ?", (item_id,)
            )
        }
        if action == "connect":
            free = [lid for lid in self._active_locations(conn) if lid not in stocked]
            if not free:
                return None
            level = self.connect(item_id, rng.choice(free))
            return Change("inventory_levels", "connect", item_id, level["updated_at"])
        if len(stocked) <= 1:
            return None
        self.disconnect(item_id, max(stocked))
        return Change("inventory_levels", "disconnect", item_id, None)

    def _item_pick(self, conn: Any, rng: random.Random) -> int:
        low, high = conn.execute(
            "SELECT MIN(inventory_item_id), MAX(inventory_item_id) FROM inventory_levels"
        ).fetchone()
        if low is None:
            return 0
        return low + int((high - low) * rng.random())

    def _random_membership(self, rng: random.Random, action: str) -> Change | None:
        conn = self.store.conn()
        custom = [
            rid
            for rid, data in conn.execute("SELECT id, data FROM collections ORDER BY id")
            if orjson.loads(data)["kind"] == "custom"
        ]
        if not custom:
            return None
        collection_id = rng.choice(custom)
        members = cat.member_ids(conn, collection_id)
        if action == "delete":
            if not members:
                return None
            product_id = rng.choice(members)
            self.remove_member(collection_id, product_id)
            return Change("collects", "delete", product_id, None)
        for _ in range(5):
            product_id = self.store.random_id("products", rng.random())
            if product_id is not None and product_id not in members:
                collect = self.add_member(collection_id, product_id)
                return Change("collects", "create", collect["id"], collect["updated_at"])
        return None


def apply(record: dict[str, Any], fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        if key in ("id", "created_at", "updated_at") or key not in record:
            raise MutationError(422, f"unknown or protected field {key!r}")
        record[key] = value
