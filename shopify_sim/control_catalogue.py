"""Control API for the catalogue (registered on control's route table): its truth, and explicit changes.

| route | body → answer |
|---|---|
| `GET …/truth/{collections,locations}` | `{resource, records:[{id, updated_at, hash, record?}], deleted_ids, count}` (`?full=1` adds the REST record) |
| `GET …/truth/collects` | `{memberships:[{collection_id, kind, product_ids}]}` (custom and smart, by position) |
| `GET …/truth/inventory_levels` | `{levels:[{inventory_item_id, location_id, available, on_hand, committed, incoming, reserved, damaged, quality_control, safety_stock, updated_at}]}` |
| `POST …/inventory_levels/set` | `{inventory_item_id, location_id, delta | available}` → `{inventory_level}` |
| `POST …/inventory_levels/connect`, `…/disconnect` | `{inventory_item_id, location_id}` → `{inventory_level}` |
| `POST …/collections`, `PATCH/DELETE …/collections/{id}` | fields → `{collection}` |
| `POST …/collections/{id}/products`, `DELETE …/collections/{id}/products/{pid}` | `{product_id}` → `{collect}` (custom only; 403 smart) |
| `POST …/locations`, `PATCH/DELETE …/locations/{id}` | fields (`active: false` deactivates) → `{location}` |
"""

from __future__ import annotations

from typing import Any

import orjson

from shopify_sim import timeutil
from shopify_sim.control import App, body, route, shop_of
from shopify_sim.httpio import Request, Response, json_response
from shopify_sim.render import catalogue as render
from shopify_sim.store import catalogue as cat

SHOP = "/_sim/shops/(?P<domain>[^/]+)"
ROUTES_ADDED = True


@route("GET", f"{SHOP}/truth/(?P<table>collections|locations)")
def truth_blobs(app: App, request: Request) -> Response:
    shop, table = shop_of(app, request), request.path_params["table"]
    full = request.arg("full") in ("1", "true")
    with shop.store.snapshot() as conn:
        rows = conn.execute(f"SELECT id, updated_at, hash, data FROM {table} ORDER BY id").fetchall()  # noqa: S608
        deleted = [
            r[0] for r in conn.execute("SELECT id FROM deleted WHERE resource = ? ORDER BY id", (table,))
        ]
    render_one = render.location if table == "locations" else render.collection
    records = []
    for record_id, updated_at, digest, data in rows:
        row: dict[str, Any] = {"id": record_id, "updated_at": timeutil.iso_z(updated_at), "hash": digest}
        if full:
            row["record"] = render_one(orjson.loads(data), shop.offset_minutes)
        records.append(row)
    return json_response(
        {"resource": table, "records": records, "deleted_ids": deleted, "count": len(records)}
    )


@route("GET", f"{SHOP}/truth/collects")
def truth_collects(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    with shop.store.snapshot() as conn:
        kinds = {
            rid: orjson.loads(data)["kind"] for rid, data in conn.execute("SELECT id, data FROM collections")
        }
        members: dict[int, list[int]] = {rid: [] for rid in kinds}
        for collection_id, product_id in conn.execute(
            "SELECT collection_id, product_id FROM collects ORDER BY collection_id, position, product_id"
        ):
            members.setdefault(collection_id, []).append(product_id)
    return json_response(
        {
            "memberships": [
                {"collection_id": cid, "kind": kinds.get(cid), "product_ids": ids}
                for cid, ids in sorted(members.items())
            ]
        }
    )


@route("GET", f"{SHOP}/truth/inventory_levels")
def truth_levels(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    with shop.store.snapshot() as conn:
        levels = cat.levels_where(conn, "", ())
    names = ("inventory_item_id", "location_id", *cat.QUANTITY_NAMES)
    return json_response(
        {
            "levels": [
                {**{n: level[n] for n in names}, "updated_at": timeutil.iso_z(level["updated_at"])}
                for level in levels
            ]
        }
    )


def level_keys(data: dict[str, Any]) -> tuple[int, int]:
    return int(data["inventory_item_id"]), int(data["location_id"])


@route("POST", f"{SHOP}/inventory_levels/(?P<action>set|connect|disconnect)")
def change_level(app: App, request: Request) -> Response:
    shop, data = shop_of(app, request), body(request)
    item_id, location_id = level_keys(data)
    action = request.path_params["action"]
    if action == "set":
        available = data.get("available")
        level = shop.catalogue.set_level(
            item_id,
            location_id,
            delta=int(data.get("delta", 0)),
            available=None if available is None else int(available),
        )
    elif action == "connect":
        level = shop.catalogue.connect(item_id, location_id)
    else:
        level = shop.catalogue.disconnect(item_id, location_id)
    return json_response({"inventory_level": render.inventory_level(level, shop.offset_minutes)})


@route("POST", f"{SHOP}/collections")
def create_collection(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    collection = shop.catalogue.create_collection(body(request))
    return json_response({"collection": render.collection(collection, shop.offset_minutes)}, status=201)


@route("PATCH", f"{SHOP}/collections/(?P<id>\\d+)")
def update_collection(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    collection = shop.catalogue.update_collection(int(request.path_params["id"]), body(request))
    return json_response({"collection": render.collection(collection, shop.offset_minutes)})


@route("DELETE", f"{SHOP}/collections/(?P<id>\\d+)")
def delete_collection(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    shop.catalogue.delete_collection(int(request.path_params["id"]))
    return json_response({"deleted": True, "id": int(request.path_params["id"])})


@route("POST", f"{SHOP}/collections/(?P<id>\\d+)/products")
def add_member(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    collect = shop.catalogue.add_member(int(request.path_params["id"]), int(body(request)["product_id"]))
    return json_response({"collect": render.collect(collect, shop.offset_minutes)}, status=201)


@route("DELETE", f"{SHOP}/collections/(?P<id>\\d+)/products/(?P<pid>\\d+)")
def remove_member(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    shop.catalogue.remove_member(int(request.path_params["id"]), int(request.path_params["pid"]))
    return json_response({"deleted": True})


@route("POST", f"{SHOP}/locations")
def create_location(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    location = shop.catalogue.create_location(body(request))
    return json_response({"location": render.location(location, shop.offset_minutes)}, status=201)


@route("PATCH", f"{SHOP}/locations/(?P<id>\\d+)")
def update_location(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    location = shop.catalogue.update_location(int(request.path_params["id"]), body(request))
    return json_response({"location": render.location(location, shop.offset_minutes)})


@route("DELETE", f"{SHOP}/locations/(?P<id>\\d+)")
def delete_location(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    shop.catalogue.delete_location(int(request.path_params["id"]))
    return json_response({"deleted": True, "id": int(request.path_params["id"])})
