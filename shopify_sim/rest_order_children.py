"""REST routes and truth of an order's refunds and fulfillments (contract §8.3, §8.4).

| route | answer |
|---|---|
| `GET /admin/api/{v}/orders/{id}/refunds.json` | `{refunds: [...]}` (`since_id`, `fields`) |
| `GET /admin/api/{v}/orders/{id}/refunds/{rid}.json` | `{refund}` |
| `GET /admin/api/{v}/orders/{id}/fulfillments.json`, `…/count.json`, `…/{fid}.json` | `{fulfillments}`, `{count}`, `{fulfillment}` |
| `GET /_sim/shops/{domain}/truth/{refunds,fulfillments}` | `{resource, records: [{id, order_id, created_at, updated_at?, hash, record?}], deleted_ids, count}` |

Every shape is cut from the REST order (`render/rest.py` renders refunds and fulfillments inside it), so
the routes, the webhooks and the truth cannot disagree with the order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

from shopify_sim import timeutil
from shopify_sim.control import App, route, shop_of, truth_json, truth_ndjson
from shopify_sim.httpio import Request, Response, error, json_response
from shopify_sim.order_children_payloads import rendered_order
from shopify_sim.store.db import content_hash

if TYPE_CHECKING:
    from shopify_sim.shops import ShopState

KINDS = {"refunds": "refund", "fulfillments": "fulfillment"}
ROUTES_ADDED = True


def trim(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    fields = request.arg("fields")
    if not fields:
        return record
    wanted = {f.strip() for f in fields.split(",") if f.strip()}
    return {k: v for k, v in record.items() if k in wanted}


def routes(
    shop: ShopState, request: Request, order: dict[str, Any] | None, parts: list[str]
) -> Response | None:
    """`{order}/refunds[/{id}]`, `{order}/fulfillments[/count|/{id}]` (after `orders/`); None: not ours."""
    if len(parts) not in (2, 3) or parts[1] not in KINDS:
        return None
    kind = parts[1]
    if order is None:
        return error(404, "Not Found")
    items = rendered_order(shop, order)[kind]
    if len(parts) == 3:
        if parts[2] == "count" and kind == "fulfillments":
            return json_response({"count": len(items)})
        if not parts[2].isdigit():
            return error(404, "Not Found")
        found = next((c for c in items if c["id"] == int(parts[2])), None)
        if found is None:
            return error(404, "Not Found")
        return json_response({KINDS[kind]: trim(request, found)})
    since = request.arg("since_id")
    if since and since.isdigit():
        items = [c for c in items if c["id"] > int(since)]
    return json_response({kind: [trim(request, c) for c in items]})


def truth_rows(shop: ShopState, kind: str, full: bool) -> Iterator[dict[str, Any]]:
    """Every live order's refunds or fulfillments (by order id, then in creation order), one snapshot.
    `hash` = blake2b-80 of the canonical child: it changes iff the child does."""
    conn = shop.store.open_connection()
    try:
        conn.execute("BEGIN")
        cursor = conn.execute("SELECT data FROM orders ORDER BY id")
        while rows := cursor.fetchmany(500):
            for (data,) in rows:
                order = orjson.loads(data)
                children = order.get(kind) or []
                rendered = rendered_order(shop, order, conn)[kind] if full and children else []
                for index, child in enumerate(children):
                    row: dict[str, Any] = {
                        "id": child["id"],
                        "order_id": order["id"],
                        "created_at": timeutil.iso_z(child["created_at"]),
                    }
                    if "updated_at" in child:
                        row["updated_at"] = timeutil.iso_z(child["updated_at"])
                    row["hash"] = content_hash(orjson.dumps(child))
                    if full:
                        row["record"] = rendered[index]
                    yield row
        deleted = [
            r[0] for r in conn.execute("SELECT id FROM deleted WHERE resource = ? ORDER BY id", (kind,))
        ]
        yield {"__deleted__": deleted}
    finally:
        conn.execute("COMMIT")
        shop.store.release(conn)


@route("GET", "/_sim/shops/(?P<domain>[^/]+)/truth/(?P<kind>refunds|fulfillments)")
def truth(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    kind = request.path_params["kind"]
    rows = truth_rows(shop, kind, request.arg("full") in ("1", "true"))
    if request.arg("format") == "ndjson":
        return Response(body=truth_ndjson(rows), content_type="application/x-ndjson")
    return Response(body=truth_json(rows, kind))
