"""REST for a customer's address book (contract §6.2, §8.6): `customers/{id}/addresses.json` (every
address, `limit` + `page_info` Link paging), `customers/{id}/addresses/{aid}.json`. Tried by the server
before `rest.handle`; None when the path is not ours."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopify_sim.httpio import Request, Response, error, json_response
from shopify_sim.render import rest as render_rest
from shopify_sim.rest import RestError, decode, encode, limit_of

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
