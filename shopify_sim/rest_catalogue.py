"""REST over the catalogue (contract §3, §8.8, §8.9): custom_collections, smart_collections,
collections/{id}(/products), collects, locations(/{id}/inventory_levels), inventory_levels,
inventory_items. Tried by the server before `rest.handle`; None when the path is not ours."""

# Fixed table and column names and `?` marks only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from shopify_sim.httpio import Request, Response, error, json_response
from shopify_sim.render import catalogue as render
from shopify_sim.render import rest as render_rest
from shopify_sim.rest import RestError, decode, encode, limit_of, select_page, trim_fields
from shopify_sim.store import catalogue as cat

if TYPE_CHECKING:
    from shopify_sim.shops import ShopState

KINDS = {"custom_collections": "custom", "smart_collections": "smart"}
SCOPES = {
    "custom_collections": ("read_products",),
    "smart_collections": ("read_products",),
    "collections": ("read_products",),
    "collects": ("read_products",),
    "locations": ("read_locations", "read_inventory"),
    "inventory_levels": ("read_inventory",),
    "inventory_items": ("read_inventory", "read_products"),
}


def allowed(scopes: frozenset[str], wanted: tuple[str, ...]) -> bool:
    return any(s in scopes or s.replace("read_", "write_") in scopes for s in wanted)


def id_list(request: Request, name: str) -> list[int] | None:
    raw = request.arg(name)
    if raw is None:
        return None
    return [int(part) for part in raw.split(",") if part.strip().isdigit()]


def page_links(
    request: Request, version: str, path: str, filters: dict, key: list | None, limit: int
) -> str | None:
    if key is None:
        return None
    token = encode({"f": filters, "k": key, "d": "next"})
    return f'<{request.root_url}/admin/api/{version}/{path}.json?limit={limit}&page_info={token}>; rel="next"'


def blob_list(
    shop: ShopState, request: Request, version: str, path: str, table: str, clauses: list[str], params: list
) -> Response:
    """A blob table's list (collections, locations) with `since_id`, `ids`, `limit` and Link paging."""
    token = request.arg("page_info")
    limit = limit_of(request)
    cursor = decode(token) if token else None
    filters = cursor["f"] if cursor else {k: request.arg(k) for k in ("since_id", "ids") if request.arg(k)}
    if "since_id" in filters:
        clauses.append("id > ?")
        params.append(int(filters["since_id"]))
    if "ids" in filters:
        ids = [int(x) for x in str(filters["ids"]).split(",") if x.strip().isdigit()]
        clauses.append(f"id IN ({','.join('?' * len(ids))})" if ids else "0")
        params.extend(ids)
    rows, has_next, _ = select_page(shop, table, (clauses, params), {}, cursor, limit)
    render_one = render.location if table == "locations" else render.collection
    key = "locations" if table == "locations" else path
    response = json_response({key: [trim_fields(request, render_one(r, shop.offset_minutes)) for r in rows]})
    link = page_links(
        request, version, path, filters, [rows[-1]["id"], rows[-1]["id"]] if has_next else None, limit
    )
    if link:
        response.headers["Link"] = link
    return response


def keyed_rows(
    shop: ShopState, request: Request, sql: str, params: list, key_columns: tuple[str, str], limit: int
) -> tuple[list[tuple], list | None]:
    token = request.arg("page_info")
    if token:
        after = decode(token)["k"]
        sql += f" AND ({key_columns[0]}, {key_columns[1]}) > (?, ?)"
        params = [*params, *after]
    sql += f" ORDER BY {key_columns[0]}, {key_columns[1]} LIMIT {limit + 1}"
    rows = shop.store.conn().execute(sql, params).fetchall()
    more = len(rows) > limit
    return rows[:limit], more


def collects(shop: ShopState, request: Request, version: str) -> Response:
    """Custom collections' collects only (a smart collection's members have none, as on Shopify)."""
    token = request.arg("page_info")
    filters = (
        decode(token)["f"]
        if token
        else {k: request.arg(k) for k in ("collection_id", "product_id") if request.arg(k)}
    )
    clauses, params = ["smart = 0"], []
    for name in ("collection_id", "product_id"):
        if str(filters.get(name, "")).isdigit():
            clauses.append(f"{name} = ?")
            params.append(int(filters[name]))
    limit = limit_of(request)
    sql = (
        "SELECT id, collection_id, product_id, position, created_at, updated_at FROM collects WHERE "
        + " AND ".join(clauses)
    )
    page, more = keyed_rows(shop, request, sql, params, ("id", "id"), limit)
    names = ("id", "collection_id", "product_id", "position", "created_at", "updated_at")
    body = [
        trim_fields(request, render.collect(dict(zip(names, row, strict=True)), shop.offset_minutes))
        for row in page
    ]
    response = json_response({"collects": body})
    link = page_links(
        request, version, "collects", filters, [page[-1][0], page[-1][0]] if more else None, limit
    )
    if link:
        response.headers["Link"] = link
    return response


def levels(
    shop: ShopState, request: Request, version: str, path: str, forced_location: int | None
) -> Response:
    token = request.arg("page_info")
    if token:
        filters = decode(token)["f"]
    else:
        filters = {
            "inventory_item_ids": id_list(request, "inventory_item_ids"),
            "location_ids": [forced_location] if forced_location else id_list(request, "location_ids"),
        }
    items, places = filters.get("inventory_item_ids"), filters.get("location_ids")
    if not items and not places:
        raise RestError(422, {"base": ["Must specify at least one of inventory_item_ids or location_ids"]})
    clauses, params = ["1"], []
    for column, values in (("inventory_item_id", items), ("location_id", places)):
        if values:
            clauses.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    limit = limit_of(request)
    sql = f"SELECT {', '.join(cat.LEVEL_COLUMNS)} FROM inventory_levels WHERE " + " AND ".join(clauses)
    page, more = keyed_rows(shop, request, sql, params, ("inventory_item_id", "location_id"), limit)
    tracked = tracked_items(shop, [row[0] for row in page])
    body = []
    for row in page:
        level = cat.level_dict(row)
        body.append(
            trim_fields(
                request,
                render.inventory_level(
                    level, shop.offset_minutes, tracked.get(level["inventory_item_id"], True)
                ),
            )
        )
    response = json_response({"inventory_levels": body})
    link = page_links(request, version, path, filters, [page[-1][0], page[-1][1]] if more else None, limit)
    if link:
        response.headers["Link"] = link
    return response


def variants_of_items(shop: ShopState, item_ids: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    variant_ids = [i - cat.INVENTORY_ITEM_OFFSET for i in item_ids]
    for start in range(0, len(variant_ids), 500):
        chunk = variant_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for vid, data in shop.store.conn().execute(
            f"SELECT id, data FROM variants WHERE id IN ({marks})", chunk
        ):
            found[vid + cat.INVENTORY_ITEM_OFFSET] = orjson.loads(data)
    return found


def tracked_items(shop: ShopState, item_ids: list[int]) -> dict[int, bool]:
    return {i: v["inventory_management"] == "shopify" for i, v in variants_of_items(shop, item_ids).items()}


def inventory_items(shop: ShopState, request: Request, ids: list[int] | None) -> Response:
    if not ids:
        raise RestError(422, {"ids": ["can't be blank"]})
    found = variants_of_items(shop, ids[:250])
    items = [render.inventory_item(found[i], shop.offset_minutes) for i in ids[:250] if i in found]
    return json_response({"inventory_items": [trim_fields(request, item) for item in items]})


def collection_products(shop: ShopState, request: Request, collection_id: int) -> Response:
    if shop.store.get("collections", collection_id) is None:
        return error(404, "Not Found")
    limit = limit_of(request)
    ids = cat.member_ids(shop.store.conn(), collection_id)[:limit]
    products = cat.blobs(shop.store.conn(), "products", ids)
    body = [render_rest.product(products[i], shop.offset_minutes) for i in ids if i in products]
    return json_response({"products": [trim_fields(request, p) for p in body]})


def handle(
    shop: ShopState, request: Request, version: str, rest_path: str, scopes: frozenset[str]
) -> Response | None:
    if request.method != "GET":
        return None
    parts = rest_path.removesuffix(".json").split("/")
    if parts[0] not in SCOPES:
        return None
    if not allowed(scopes, SCOPES[parts[0]]):
        return error(403, f"[API] This action requires merchant approval for {SCOPES[parts[0]][0]} scope.")
    try:
        return route(shop, request, version, parts)
    except RestError as exc:
        return error(exc.status, exc.message)


def route(shop: ShopState, request: Request, version: str, parts: list[str]) -> Response:
    offset = shop.offset_minutes
    head, rest = parts[0], parts[1:]
    if head in KINDS:
        kind_clause = ["json_extract(data, '$.kind') = ?"]
        if not rest:
            return blob_list(shop, request, version, head, "collections", kind_clause, [KINDS[head]])
        if rest == ["count"]:
            return json_response({"count": shop.store.count("collections", kind_clause[0], [KINDS[head]])})
        if len(rest) == 1 and rest[0].isdigit():
            found = shop.store.get("collections", int(rest[0]), kind_clause[0], [KINDS[head]])
            singular = head[:-1]
            return (
                json_response({singular: render.collection(found, offset)})
                if found
                else error(404, "Not Found")
            )
    if head == "collections" and rest and rest[0].isdigit():
        if len(rest) == 1:
            found = shop.store.get("collections", int(rest[0]))
            return (
                json_response({"collection": render.collection(found, offset)})
                if found
                else error(404, "Not Found")
            )
        if rest[1:] == ["products"]:
            return collection_products(shop, request, int(rest[0]))
    if head == "collects":
        if not rest:
            return collects(shop, request, version)
        if rest == ["count"]:
            (count,) = shop.store.conn().execute("SELECT COUNT(*) FROM collects WHERE smart = 0").fetchone()
            return json_response({"count": count})
    if head == "locations":
        if not rest:
            return blob_list(shop, request, version, "locations", "locations", [], [])
        if rest == ["count"]:
            return json_response({"count": shop.store.count("locations", "", [])})
        if rest[0].isdigit():
            location_id = int(rest[0])
            if len(rest) == 1:
                found = shop.store.get("locations", location_id)
                return (
                    json_response({"location": render.location(found, offset)})
                    if found
                    else error(404, "Not Found")
                )
            if rest[1:] == ["inventory_levels"]:
                return levels(shop, request, version, "/".join(parts), location_id)
    if head == "inventory_levels" and not rest:
        return levels(shop, request, version, "inventory_levels", None)
    if head == "inventory_items":
        if not rest:
            return inventory_items(shop, request, id_list(request, "ids"))
        if len(rest) == 1 and rest[0].isdigit():
            found = variants_of_items(shop, [int(rest[0])]).get(int(rest[0]))
            return (
                json_response({"inventory_item": render.inventory_item(found, offset)})
                if found
                else error(404, "Not Found")
            )
    return error(404, "Not Found")
