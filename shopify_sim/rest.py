"""Legacy REST Admin API (contract §3): list/single/count for orders, customers, products, and an
order's transactions (§8.2).

Cursor pagination through the `Link` header; the opaque `page_info` carries the filters, so a request
with `page_info` may only add `limit` and `fields`.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson

from shopify_sim import rest_order_children
from shopify_sim.admin_graphql.context import ORDER_WINDOW_SECONDS, RESOURCE_SCOPES
from shopify_sim.admin_graphql.search import ORDER_STATUS
from shopify_sim.httpio import Request, Response, error, json_response
from shopify_sim.render import rest as render
from shopify_sim.store import events
from shopify_sim.timeutil import iso_offset, parse_iso

if TYPE_CHECKING:
    from shopify_sim.shops import ShopState

DEFAULT_LIMIT, MAX_LIMIT = 50, 250
PAGING_PARAMS = {"limit", "fields", "page_info"}
SINGULAR = {"orders": "order", "customers": "customer", "products": "product"}
TIME_FILTERS = ("created_at", "updated_at", "processed_at")
ORDERINGS = {"id", "created_at", "updated_at", "processed_at"}


class RestError(Exception):
    def __init__(self, status: int, message: Any) -> None:
        super().__init__(str(message))
        self.status, self.message = status, message


def encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


def decode(token: str) -> dict[str, Any]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise RestError(400, {"page_info": "Invalid value."}) from exc
    if not isinstance(data, dict):
        raise RestError(400, {"page_info": "Invalid value."})
    return data


def limit_of(request: Request) -> int:
    raw = request.arg("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or int(raw) < 1:
        raise RestError(400, {"limit": "Invalid value."})
    return min(int(raw), MAX_LIMIT)


def filters_from(request: Request, resource: str) -> dict[str, Any]:
    """First-page parameters -> the filter dict that page_info cursors carry forward."""
    filters: dict[str, Any] = {}
    for name in ("since_id", "ids", "status", "financial_status", "fulfillment_status", "order"):
        value = request.arg(name)
        if value:
            filters[name] = value
    for base in TIME_FILTERS:
        for bound in ("min", "max"):
            value = request.arg(f"{base}_{bound}")
            if value:
                filters[f"{base}_{bound}"] = value
    return filters


def where_clause(
    shop: ShopState, resource: str, filters: dict[str, Any], all_orders: bool
) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if "since_id" in filters:
        clauses.append("id > ?")
        params.append(int(filters["since_id"]))
    if "ids" in filters:
        ids = [int(x) for x in str(filters["ids"]).split(",") if x.strip().isdigit()]
        clauses.append(f"id IN ({','.join('?' * len(ids))})" if ids else "0")
        params.extend(ids)
    for base in TIME_FILTERS:
        for bound, op in (("min", ">="), ("max", "<=")):
            value = filters.get(f"{base}_{bound}")
            if value and (base != "processed_at" or resource == "orders"):
                try:
                    moment = parse_iso(value, shop.offset_minutes)[0]
                except ValueError as exc:
                    raise RestError(400, {f"{base}_{bound}": "Invalid value."}) from exc
                clauses.append(f"{base} {op} ?")
                params.append(moment)
    if resource == "orders":
        status = filters.get("status", "open")
        clauses.append(ORDER_STATUS.get(status, "0") if status != "any" else "1")
        for name in ("financial_status", "fulfillment_status"):
            value = filters.get(name)
            if value and value != "any":
                if value in ("unshipped", "unfulfilled"):
                    clauses.append("json_extract(data, '$.fulfillment_status') IS NULL")
                else:
                    clauses.append(f"json_extract(data, '$.{name}') = ?")
                    params.append("fulfilled" if value == "shipped" else value)
        if not all_orders:
            clauses.append("created_at >= strftime('%s','now') - ?")
            params.append(ORDER_WINDOW_SECONDS)
    elif resource == "products" and filters.get("status"):
        statuses = [s.strip() for s in filters["status"].split(",")]
        clauses.append(f"json_extract(data, '$.status') IN ({','.join('?' * len(statuses))})")
        params.extend(statuses)
    return clauses, params


def ordering(filters: dict[str, Any]) -> tuple[str, bool]:
    column, _, direction = str(filters.get("order", "id asc")).partition(" ")
    if column not in ORDERINGS:
        column = "id"
    return column, direction.strip().lower() != "desc"


def select_page(
    shop: ShopState,
    resource: str,
    where: tuple[list[str], list[Any]],
    filters: dict,
    cursor: dict | None,
    limit: int,
) -> tuple[list[dict], bool, bool]:
    """(rows, has_next, has_previous) for the page after/before the cursor key; `resource` is the
    table, `where` its filter clauses and parameters."""
    clauses, params = where
    column, ascending = ordering(filters)
    key = f"({column}, id)"
    backwards = cursor is not None and cursor["d"] == "prev"
    forward_op = ">" if ascending else "<"
    backward_op = "<" if ascending else ">"
    page_clauses, page_params = list(clauses), list(params)
    if cursor is not None:
        page_clauses.append(f"{key} {backward_op if backwards else forward_op} (?, ?)")
        page_params.extend(cursor["k"])
    direction = ("ASC" if ascending else "DESC") if not backwards else ("DESC" if ascending else "ASC")
    rows = shop.store.select(
        resource, " AND ".join(page_clauses), page_params, f"{column} {direction}, id {direction}", limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    beyond = False
    if cursor is not None:
        op = (forward_op if backwards else backward_op) + "="
        beyond = shop.store.exists(
            resource, " AND ".join([*clauses, f"{key} {op} (?, ?)"]), [*params, *cursor["k"]]
        )
    return (rows, beyond, more) if backwards else (rows, more, beyond)


def link_header(
    request: Request,
    version: str,
    resource: str,
    rows: list[dict],
    filters: dict,
    limit: int,
    has_next: bool,
    has_previous: bool,
) -> str | None:
    column, _ = ordering(filters)
    links = []
    extra = {"fields": request.arg("fields")} if request.arg("fields") else {}
    for rel, present, row in (
        ("previous", has_previous, rows[0] if rows else None),
        ("next", has_next, rows[-1] if rows else None),
    ):
        if present and row is not None:
            token = encode(
                {"f": filters, "k": [row[column], row["id"]], "d": "prev" if rel == "previous" else "next"}
            )
            query = urlencode({"limit": limit, **extra, "page_info": token})
            links.append(f'<{request.root_url}/admin/api/{version}/{resource}.json?{query}>; rel="{rel}"')
    return ", ".join(links) or None


def wanted_fields(request: Request) -> list[str]:
    """The `fields` asked, in order; empty: every field."""
    return [f.strip() for f in (request.arg("fields") or "").split(",") if f.strip()]


def trim_fields(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    wanted = wanted_fields(request)
    if not wanted:
        return record
    return {key: record[key] for key in wanted if key in record}


def render_rows(
    shop: ShopState, resource: str, rows: list[dict], wanted: list[str] | None = None
) -> list[dict]:
    """The rows rendered; `wanted` (the `fields` asked, if any): orders asked only for fields that
    `render.order_fields` renders alone are rendered to those (the same as whole, then trimmed)."""
    customers, references = None, None
    if resource == "orders" and wanted and render.PARTIAL_ORDER_FIELDS.issuperset(wanted):
        references = render.live_references(shop.store, rows)
        return [render.order_fields(row, shop.offset_minutes, references, wanted) for row in rows]
    if resource == "orders":
        customers = shop.store.get_many("customers", [r["customer_id"] for r in rows if r["customer_id"]])
        references = render.live_references(shop.store, rows)
    return [
        render.render(resource, row, shop.offset_minutes, customers, references, domain=shop.domain)
        for row in rows
    ]


def list_resource(
    shop: ShopState, request: Request, version: str, resource: str, all_orders: bool
) -> Response:
    first_page = filters_from(request, resource) if not request.arg("page_info") else {}
    filters, cursor, limit = page_request(request, first_page)
    where = where_clause(shop, resource, filters, all_orders)
    rows, has_next, has_previous = select_page(shop, resource, where, filters, cursor, limit)
    records = [trim_fields(request, r) for r in render_rows(shop, resource, rows, wanted_fields(request))]
    response = json_response({resource: records})
    link = link_header(request, version, resource, rows, filters, limit, has_next, has_previous)
    if link:
        response.headers["Link"] = link
    return response


def page_request(request: Request, first_page: dict[str, Any]) -> tuple[dict[str, Any], dict | None, int]:
    """(filters, cursor, limit): a first page's filters, or those a `page_info` cursor carries (which
    may then only be combined with `limit` and `fields`)."""
    if request.arg("page") is not None:
        raise RestError(400, {"page": "page cannot be passed. Use page_info for cursor-based pagination."})
    limit = limit_of(request)
    token = request.arg("page_info")
    if not token:
        return first_page, None, limit
    extra = sorted(set(request.query) - PAGING_PARAMS)
    if extra:
        raise RestError(400, {"page_info": f"Invalid value. Cannot be combined with: {', '.join(extra)}."})
    cursor = decode(token)
    return cursor.get("f", {}), cursor, limit


# -- events (contract §8.12 "Events API alternative"; shapes from Shopify's REST Event reference) --------
EVENT_ORDERINGS = {"id", "created_at"}


def event_filters(request: Request, subject: tuple[str, int] | None) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for name in ("since_id", "created_at_min", "created_at_max", "filter", "verb", "order"):
        value = request.arg(name)
        if value:
            filters[name] = value
    if filters.get("order", "id").partition(" ")[0] not in EVENT_ORDERINGS:
        raise RestError(400, {"order": "Invalid value."})
    if subject is not None:
        filters["subject"] = list(subject)
    return filters


def event_where(
    shop: ShopState, filters: dict[str, Any], scopes: frozenset[str]
) -> tuple[list[str], list[Any]]:
    """Events of subjects the token may read ([UNSURE] Shopify's rule for events of unreadable
    subjects; hiding them is the safer reading), narrowed by the REST filters."""
    readable = [
        events.SUBJECT_TYPES[resource]
        for resource, scope in (*RESOURCE_SCOPES.items(), ("collections", "read_products"))
        if scope in scopes or scope.replace("read_", "write_") in scopes
    ]
    wanted = readable
    if "filter" in filters:
        asked = {part.strip().lower() for part in str(filters["filter"]).split(",")}
        wanted = [kind for kind in readable if kind.lower() in asked]
    clauses = [f"subject_type IN ({','.join('?' * len(wanted))})" if wanted else "0"]
    params: list[Any] = list(wanted)
    if "subject" in filters:
        clauses.append("subject_type = ? AND subject_id = ?")
        params.extend(filters["subject"])
    if "verb" in filters:
        clauses.append("verb = ?")
        params.append(filters["verb"])
    if "since_id" in filters:
        clauses.append("id > ?")
        params.append(int(filters["since_id"]) if str(filters["since_id"]).isdigit() else 0)
    for bound, op in (("min", ">="), ("max", "<=")):
        value = filters.get(f"created_at_{bound}")
        if value:
            try:
                moment = parse_iso(value, shop.offset_minutes)[0]
            except ValueError as exc:
                raise RestError(400, {f"created_at_{bound}": "Invalid value."}) from exc
            clauses.append(f"created_at {op} ?")
            params.append(moment)
    return clauses, params


def render_event(shop: ShopState, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event["id"],
        "subject_id": event["subject_id"],
        "created_at": iso_offset(event["created_at"], shop.offset_minutes),
        "subject_type": event["subject_type"],
        "verb": event["verb"],
        "arguments": event["arguments"],
        "body": None,
        "message": event["message"],
        "author": "Shopify",
        "description": event["message"],
        "path": event["path"],
    }


def list_events(
    shop: ShopState,
    request: Request,
    version: str,
    scopes: frozenset[str],
    subject: tuple[str, int] | None,
    url_path: str,
) -> Response:
    filters, cursor, limit = page_request(
        request, event_filters(request, subject) if not request.arg("page_info") else {}
    )
    where = event_where(shop, filters, scopes)
    rows, has_next, has_previous = select_page(shop, "events", where, filters, cursor, limit)
    response = json_response({"events": [trim_fields(request, render_event(shop, r)) for r in rows]})
    link = link_header(request, version, url_path, rows, filters, limit, has_next, has_previous)
    if link:
        response.headers["Link"] = link
    return response


def event_routes(
    shop: ShopState, request: Request, version: str, name: str, scopes: frozenset[str]
) -> Response | None:
    """`events`, `events/count`, `events/{id}`, and `{orders|products|customers}/{id}/events`."""
    parts = name.split("/")
    if parts == ["events"]:
        return list_events(shop, request, version, scopes, None, "events")
    if parts == ["events", "count"]:
        where = event_where(shop, event_filters(request, None), scopes)
        return json_response({"count": shop.store.count("events", " AND ".join(where[0]), where[1])})
    if len(parts) == 2 and parts[0] == "events" and parts[1].isdigit():
        clauses, params = event_where(shop, {}, scopes)
        found = shop.store.get("events", int(parts[1]), " AND ".join(clauses), params)
        return (
            json_response({"event": trim_fields(request, render_event(shop, found))})
            if found
            else error(404, "Not Found")
        )
    if len(parts) == 3 and parts[0] in events.SUBJECT_TYPES and parts[1].isdigit() and parts[2] == "events":
        subject = (events.SUBJECT_TYPES[parts[0]], int(parts[1]))
        return list_events(shop, request, version, scopes, subject, name)
    return None


def single(shop: ShopState, request: Request, resource: str, record_id: int, all_orders: bool) -> Response:
    where, params = ("", [])
    if resource == "orders" and not all_orders:
        where, params = "created_at >= strftime('%s','now') - ?", [ORDER_WINDOW_SECONDS]
    record = shop.store.get(resource, record_id, where, params)
    if record is None:
        return error(404, "Not Found")
    return json_response({SINGULAR[resource]: trim_fields(request, render_rows(shop, resource, [record])[0])})


# -- order transactions (contract §8.2): per order only, no shop-wide list --------------------------------
def visible_order(shop: ShopState, order_id: int, all_orders: bool) -> dict | None:
    where, params = ("", [])
    if not all_orders:
        where, params = "created_at >= strftime('%s','now') - ?", [ORDER_WINDOW_SECONDS]
    return shop.store.get("orders", order_id, where, params)


def transaction_routes(shop: ShopState, request: Request, rest: str, all_orders: bool) -> Response | None:
    """`{order}/transactions`, `{order}/transactions/count`, `{order}/transactions/{id}` (after
    `orders/`): list (`since_id`, `fields`, `in_shop_currency`), count, show."""
    parts = rest.split("/")
    if len(parts) not in (2, 3) or not parts[0].isdigit() or parts[1] != "transactions":
        return None
    order = visible_order(shop, int(parts[0]), all_orders)
    if order is None:
        return error(404, "Not Found")
    items = order["transactions"]
    if len(parts) == 3 and parts[2] == "count":
        return json_response({"count": len(items)})
    in_shop = request.arg("in_shop_currency") in ("true", "1")
    if len(parts) == 3:
        if not parts[2].isdigit():
            return None
        found = next((tx for tx in items if tx["id"] == int(parts[2])), None)
        if found is None:
            return error(404, "Not Found")
        rendered = render.transaction(found, order, shop.offset_minutes, in_shop)
        return json_response({"transaction": trim_fields(request, rendered)})
    since = request.arg("since_id")
    if since and since.isdigit():
        items = [tx for tx in items if tx["id"] > int(since)]
    rendered_all = [render.transaction(tx, order, shop.offset_minutes, in_shop) for tx in items]
    return json_response({"transactions": [trim_fields(request, tx) for tx in rendered_all]})


def count(shop: ShopState, request: Request, resource: str, all_orders: bool) -> Response:
    clauses, params = where_clause(shop, resource, filters_from(request, resource), all_orders)
    return json_response({"count": shop.store.count(resource, " AND ".join(clauses), params)})


def shop_resource(shop: ShopState) -> Response:
    return json_response({"shop": shop.rest_shop()})


def handle(
    shop: ShopState, request: Request, version: str, rest_path: str, scopes: frozenset[str], all_orders: bool
) -> Response:
    """`rest_path` is what follows /admin/api/{version}/, e.g. 'orders.json' or 'orders/12.json'."""
    if request.method != "GET":
        return error(405, "Method Not Allowed")
    name = rest_path.removesuffix(".json")
    if name == "shop":
        return shop_resource(shop)
    try:
        routed = event_routes(shop, request, version, name, scopes)
    except RestError as exc:
        return error(exc.status, exc.message)
    if routed is not None:
        return routed
    resource, _, rest = name.partition("/")
    if resource not in SINGULAR:
        return error(404, "Not Found")
    scope = RESOURCE_SCOPES[resource]
    if scope not in scopes and scope.replace("read_", "write_") not in scopes:
        return error(403, f"[API] This action requires merchant approval for {scope} scope.")
    try:
        if rest == "":
            return list_resource(shop, request, version, resource, all_orders)
        if rest == "count":
            return count(shop, request, resource, all_orders)
        if rest.isdigit():
            return single(shop, request, resource, int(rest), all_orders)
        parts = rest.split("/")
        if (
            resource == "orders"
            and parts[0].isdigit()
            and parts[1:2]
            and parts[1] in rest_order_children.KINDS
        ):
            order = visible_order(shop, int(parts[0]), all_orders)
            return rest_order_children.routes(shop, request, order, parts) or error(404, "Not Found")
        if resource == "orders":
            routed = transaction_routes(shop, request, rest, all_orders)
            if routed is not None:
                return routed
    except RestError as exc:
        return error(exc.status, exc.message)
    return error(404, "Not Found")
