"""Control API for a customer in full (registered on control's route table): the address book and
marketing consent (customer_changes.py).

| route | body → answer |
|---|---|
| `POST …/customers/{id}/addresses` | address fields (REST names), `default?` → 201 `{customer_address}` |
| `PATCH …/customers/{id}/addresses/{aid}` | fields, `default: true` makes it the default → `{customer_address}` |
| `DELETE …/customers/{id}/addresses/{aid}` | → `{deleted, id}`; the default address → 422 (as Shopify) |
| `POST …/customers/{id}/marketing_consent` | `{channel: email|sms, state, opt_in_level?}` → `{customer}` (REST) |
| `GET …/truth/metafields` | `{resource, records:[{id, owner_type, owner_id, namespace, key, updated_at, hash, record?}], deleted_ids, count}` |
| `POST …/metafields` | `{owner_type: order|customer|product|variant, owner_id, namespace, key, value, type?}` (create or edit) → 201 `{metafield}` |
| `DELETE …/metafields/{id}` | → `{deleted, id}` |
"""

from __future__ import annotations

from typing import Any

import orjson

from shopify_sim import timeutil
from shopify_sim.control import App, body, route, shop_of
from shopify_sim.httpio import Request, Response, json_response
from shopify_sim.render import metafields as render_metafields
from shopify_sim.render import rest as render

CUSTOMER = "/_sim/shops/(?P<domain>[^/]+)/customers/(?P<id>[0-9]+)"
ROUTES_ADDED = True


@route("POST", f"{CUSTOMER}/addresses")
def add_address(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    address = shop.customers.add_address(int(request.path_params["id"]), body(request))
    return json_response({"customer_address": address}, status=201)


@route("PATCH", f"{CUSTOMER}/addresses/(?P<aid>[0-9]+)")
def edit_address(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    params = request.path_params
    address = shop.customers.edit_address(int(params["id"]), int(params["aid"]), body(request))
    return json_response({"customer_address": address})


@route("DELETE", f"{CUSTOMER}/addresses/(?P<aid>[0-9]+)")
def remove_address(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    params = request.path_params
    shop.customers.remove_address(int(params["id"]), int(params["aid"]))
    return json_response({"deleted": True, "id": int(params["aid"])})


@route("POST", f"{CUSTOMER}/marketing_consent")
def marketing_consent(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    data = body(request)
    customer = shop.customers.set_consent(
        int(request.path_params["id"]),
        str(data.get("channel", "email")),
        str(data.get("state", "")),
        data.get("opt_in_level"),
    )
    return json_response({"customer": render.customer(customer, shop.offset_minutes)})


# -- metafields (metafield_changes.py) -----------------------------------------------------------------
@route("GET", "/_sim/shops/(?P<domain>[^/]+)/truth/metafields")
def truth_metafields(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    full = request.arg("full") in ("1", "true")
    with shop.store.snapshot() as conn:
        rows = conn.execute("SELECT hash, data FROM metafields ORDER BY id").fetchall()
        deleted = [
            r[0] for r in conn.execute("SELECT id FROM deleted WHERE resource = 'metafields' ORDER BY id")
        ]
    records = []
    for digest, blob in rows:
        metafield = orjson.loads(blob)
        row: dict[str, Any] = {
            "id": metafield["id"],
            "owner_type": metafield["owner_type"],
            "owner_id": metafield["owner_id"],
            "namespace": metafield["namespace"],
            "key": metafield["key"],
            "updated_at": timeutil.iso_z(metafield["updated_at"]),
            "hash": digest,
        }
        if full:
            row["record"] = render_metafields.metafield(metafield, shop.offset_minutes)
        records.append(row)
    return json_response(
        {"resource": "metafields", "records": records, "deleted_ids": deleted, "count": len(records)}
    )


@route("POST", "/_sim/shops/(?P<domain>[^/]+)/metafields")
def set_metafield(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    made = shop.metafields.set(body(request))
    return json_response({"metafield": render_metafields.metafield(made, shop.offset_minutes)}, status=201)


@route("DELETE", "/_sim/shops/(?P<domain>[^/]+)/metafields/(?P<id>[0-9]+)")
def delete_metafield(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    shop.metafields.delete(int(request.path_params["id"]))
    return json_response({"deleted": True, "id": int(request.path_params["id"])})
