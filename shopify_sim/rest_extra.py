"""REST for a customer's address book (contract §6.2, §8.6): `customers/{id}/addresses.json` (every
address, `limit` + `page_info` Link paging), `customers/{id}/addresses/{aid}.json`, `…/count.json`; and
metafields (§8.10): `{orders,customers,products}/{id}/metafields.json`, `variants/{id}/metafields.json`,
`products/{pid}/variants/{vid}/metafields.json` (+ `/count`, `/{mid}`; `namespace`, `key`, `since_id`,
`limit`). Tried by the server before `rest.handle`; None when the path is not ours."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopify_sim.httpio import Request, Response, error, json_response
from shopify_sim.render import metafields as render_metafields
from shopify_sim.render import rest as render_rest
from shopify_sim.rest import RestError, decode, encode, limit_of, visible_order
from shopify_sim.store import metafields as store_metafields

OWNERS = {"orders": "order", "customers": "customer", "products": "product", "variants": "variant"}
SCOPES = {
    "order": "read_orders",
    "customer": "read_customers",
    "product": "read_products",
    "variant": "read_products",
}

if TYPE_CHECKING:
    from shopify_sim.shops import ShopState


def allowed(scopes: frozenset[str], scope: str) -> bool:
    return scope in scopes or scope.replace("read_", "write_") in scopes


def forbidden(scope: str) -> Response:
    return error(403, f"[API] This action requires merchant approval for {scope} scope.")


def handle(
    shop: ShopState, request: Request, version: str, rest_path: str, scopes: frozenset[str]
) -> Response | None:
    if request.method != "GET":
        return None
    parts = rest_path.removesuffix(".json").split("/")
    try:
        if len(parts) >= 3 and parts[0] == "customers" and parts[1].isdigit() and parts[2] == "addresses":
            if not allowed(scopes, "read_customers"):
                return forbidden("read_customers")
            return addresses(shop, request, version, int(parts[1]), parts[3:])
        owner = metafield_owner(parts)
        if owner is not None:
            owner_type, owner_id, rest = owner
            if not allowed(scopes, SCOPES[owner_type]):
                return forbidden(SCOPES[owner_type])
            all_orders = shop.options.read_all_orders and "read_all_orders" in scopes
            return metafields(shop, request, owner_type, owner_id, rest, all_orders)
    except RestError as exc:
        return error(exc.status, exc.message)
    return None


def addresses(shop: ShopState, request: Request, version: str, customer_id: int, rest: list[str]) -> Response:
    customer = shop.store.get("customers", customer_id)
    if customer is None:
        return error(404, "Not Found")
    default_id = customer.get("default_address_id")
    rendered = [render_rest.address(a, customer_id, a["id"] == default_id) for a in customer["addresses"]]
    if rest == ["count"]:
        return json_response({"count": len(rendered)})
    if len(rest) == 1 and rest[0].isdigit():
        found = next((a for a in rendered if a and a["id"] == int(rest[0])), None)
        return json_response({"customer_address": found}) if found else error(404, "Not Found")
    if rest:
        return error(404, "Not Found")
    limit = limit_of(request)
    token = request.arg("page_info")
    start = 0
    if token:
        start = int(decode(token).get("o", 0))
    page = rendered[start : start + limit]
    headers = {}
    links = []
    path = f"{request.root_url}/admin/api/{version}/customers/{customer_id}/addresses.json?limit={limit}"
    if start > 0:
        links.append(f'<{path}&page_info={encode({"o": max(0, start - limit)})}>; rel="previous"')
    if start + limit < len(rendered):
        links.append(f'<{path}&page_info={encode({"o": start + limit})}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return json_response({"addresses": page}, headers=headers)


def metafield_owner(parts: list[str]) -> tuple[str, int, list[str]] | None:
    """(owner type, owner id, what follows `metafields`) of a metafield path, else None."""
    if len(parts) >= 5 and parts[0] == "products" and parts[2] == "variants" and parts[4] == "metafields":
        if parts[1].isdigit() and parts[3].isdigit():
            return "variant", int(parts[3]), parts[5:]
        return None
    if len(parts) >= 3 and parts[0] in OWNERS and parts[1].isdigit() and parts[2] == "metafields":
        return OWNERS[parts[0]], int(parts[1]), parts[3:]
    return None


def owner_exists(shop: ShopState, owner_type: str, owner_id: int, all_orders: bool) -> bool:
    if owner_type == "order":
        return visible_order(shop, owner_id, all_orders) is not None
    table = store_metafields.OWNER_TABLES[owner_type]
    query = f"SELECT 1 FROM {table} WHERE id = ?"  # noqa: S608 — a fixed table name
    return shop.store.conn().execute(query, (owner_id,)).fetchone() is not None


def metafields(
    shop: ShopState, request: Request, owner_type: str, owner_id: int, rest: list[str], all_orders: bool
) -> Response:
    if not owner_exists(shop, owner_type, owner_id, all_orders):
        return error(404, "Not Found")
    found = store_metafields.of_owner(shop.store.conn(), owner_type, owner_id)
    if request.arg("namespace"):
        found = [m for m in found if m["namespace"] == request.arg("namespace")]
    if request.arg("key"):
        found = [m for m in found if m["key"] == request.arg("key")]
    since = request.arg("since_id")
    if since and since.isdigit():
        found = [m for m in found if m["id"] > int(since)]
    if rest == ["count"]:
        return json_response({"count": len(found)})
    offset = shop.offset_minutes
    if len(rest) == 1 and rest[0].isdigit():
        one = next((m for m in found if m["id"] == int(rest[0])), None)
        return (
            json_response({"metafield": render_metafields.metafield(one, offset)})
            if one
            else error(404, "Not Found")
        )
    if rest:
        return error(404, "Not Found")
    limit = limit_of(request)
    return json_response({"metafields": [render_metafields.metafield(m, offset) for m in found[:limit]]})
