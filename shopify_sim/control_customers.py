"""Control API for a customer in full (registered on control's route table): the address book and
marketing consent (customer_changes.py).

| route | body → answer |
|---|---|
| `POST …/customers/{id}/addresses` | address fields (REST names), `default?` → 201 `{customer_address}` |
| `PATCH …/customers/{id}/addresses/{aid}` | fields, `default: true` makes it the default → `{customer_address}` |
| `DELETE …/customers/{id}/addresses/{aid}` | → `{deleted, id}`; the default address → 422 (as Shopify) |
| `POST …/customers/{id}/marketing_consent` | `{channel: email|sms, state, opt_in_level?}` → `{customer}` (REST) |
"""

from __future__ import annotations

from shopify_sim.control import App, body, route, shop_of
from shopify_sim.httpio import Request, Response, json_response
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
