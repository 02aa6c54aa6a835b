"""Control API under /_sim/ (no auth, JSON) for demos and tests. Documented in README.md."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from shopify_sim import oauth, timeutil
from shopify_sim.httpio import Request, Response, error, json_response
from shopify_sim.options import ShopOptions
from shopify_sim.render import derived
from shopify_sim.render import rest as render
from shopify_sim.store import RESOURCES, customers_extra
from shopify_sim.store.db import content_hash
from shopify_sim.store.mutations import MutationError
from shopify_sim.store.records import money
from shopify_sim.webhooks.topics import PRIVACY_TOPICS

if TYPE_CHECKING:
    from shopify_sim.faults import Faults
    from shopify_sim.requestlog import RequestLog
    from shopify_sim.shops import Registry, ShopState
    from shopify_sim.webhooks.dispatcher import Dispatcher


class App(Protocol):
    """What the control API uses of the server (`shopify_sim.server.App`, which routes /_sim/ here):
    described here so that control does not import the server that imports it."""

    registry: Registry
    faults: Faults
    requests: RequestLog
    dispatcher: Dispatcher


Handler = Callable[[App, Request], Response]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ROUTES.append((method, re.compile(f"^{pattern}$"), fn))
        return fn

    return register


def body(request: Request) -> dict[str, Any]:
    data = request.json() if request.body else {}
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def shop_of(app: App, request: Request) -> ShopState:
    shop = app.registry.get(request.path_params["domain"])
    if shop is None:
        raise LookupError(f"no shop {request.path_params['domain']}")
    return shop


def resource_of(request: Request) -> str:
    resource = request.path_params["resource"]
    if resource not in RESOURCES:
        raise LookupError(f"unknown resource {resource}")
    return resource


# -- general -------------------------------------------------------------------------------------------
@route("GET", "/_sim/health")
def health(app: App, request: Request) -> Response:
    return json_response({"ok": True, "shops": [s.domain for s in app.registry.all()]})


@route("GET", "/_sim/shops")
def list_shops(app: App, request: Request) -> Response:
    return json_response({"shops": [s.describe() for s in app.registry.all()]})


@route("POST", "/_sim/shops")
def create_shop(app: App, request: Request) -> Response:
    options = ShopOptions.from_mapping(body(request))
    shop = app.registry.create(options)
    return json_response(shop.describe(), status=201)


@route("GET", "/_sim/shops/(?P<domain>[^/]+)")
def get_shop(app: App, request: Request) -> Response:
    return json_response(shop_of(app, request).describe())


@route("DELETE", "/_sim/shops/(?P<domain>[^/]+)")
def delete_shop(app: App, request: Request) -> Response:
    removed = app.registry.remove(request.path_params["domain"])
    return json_response({"deleted": removed}, status=200 if removed else 404)


@route("GET", "/_sim/shops/(?P<domain>[^/]+)/settings")
def get_settings(app: App, request: Request) -> Response:
    return json_response(shop_of(app, request).settings())


@route("PATCH", "/_sim/shops/(?P<domain>[^/]+)/settings")
def patch_settings(app: App, request: Request) -> Response:
    return json_response(shop_of(app, request).update_settings(body(request)))


# -- records -------------------------------------------------------------------------------------------
def rendered(shop: ShopState, resource: str, record: dict[str, Any]) -> dict[str, Any]:
    customers, references = None, None
    if resource == "orders":
        if record.get("customer_id"):
            customers = shop.store.get_many("customers", [record["customer_id"]])
        references = render.live_references(shop.store, [record])
    return render.render(resource, record, shop.offset_minutes, customers, references, domain=shop.domain)


@route("POST", "/_sim/shops/(?P<domain>[^/]+)/(?P<resource>orders|customers|products)")
def create_record(app: App, request: Request) -> Response:
    shop, resource = shop_of(app, request), resource_of(request)
    record = shop.mutator.create(resource, body(request))
    return json_response({resource[:-1]: rendered(shop, resource, record)}, status=201)


@route("GET", "/_sim/shops/(?P<domain>[^/]+)/(?P<resource>orders|customers|products)/(?P<id>\\d+)")
def get_record(app: App, request: Request) -> Response:
    shop, resource = shop_of(app, request), resource_of(request)
    record = shop.store.get(resource, int(request.path_params["id"]))
    if record is None:
        return error(404, "Not Found")
    return json_response({resource[:-1]: rendered(shop, resource, record)})


@route("PATCH", "/_sim/shops/(?P<domain>[^/]+)/(?P<resource>orders|customers|products)/(?P<id>\\d+)")
def update_record(app: App, request: Request) -> Response:
    shop, resource = shop_of(app, request), resource_of(request)
    record = shop.mutator.update(resource, int(request.path_params["id"]), body(request) or None)
    return json_response({resource[:-1]: rendered(shop, resource, record)})


@route("DELETE", "/_sim/shops/(?P<domain>[^/]+)/(?P<resource>orders|customers|products)/(?P<id>\\d+)")
def delete_record(app: App, request: Request) -> Response:
    shop, resource = shop_of(app, request), resource_of(request)
    shop.mutator.delete(resource, int(request.path_params["id"]))
    return json_response({"deleted": True, "id": int(request.path_params["id"])})


@route("POST", "/_sim/shops/(?P<domain>[^/]+)/mutate")
def mutate(app: App, request: Request) -> Response:
    shop, data = shop_of(app, request), body(request)
    changes = shop.mutator.random_changes(int(data.get("count", 1)), data.get("seed"), data.get("mix"))
    return json_response({"changes": [c.as_dict() for c in changes]})


# -- truth ---------------------------------------------------------------------------------------------
def beyond_rest_customer(record: dict[str, Any]) -> dict[str, Any]:
    """What a REST customer cannot say: its locale (GraphQL only) and its whole address book (REST
    lists the 10 most recent)."""
    default_id = record.get("default_address_id")
    return {
        "locale": customers_extra.locale(record),
        "addresses": [render.address(a, record["id"], a["id"] == default_id) for a in record["addresses"]],
    }


def truth_rows(shop: ShopState, resource: str, full: bool) -> Iterator[dict[str, Any]]:
    conn = shop.store.open_connection()
    try:
        conn.execute("BEGIN")
        cursor = conn.execute(f"SELECT id, updated_at, hash, data FROM {resource} ORDER BY id")  # noqa: S608
        while rows := cursor.fetchmany(2000):
            customers, references = None, None
            if full and resource == "orders":
                orders = [orjson.loads(r[3]) for r in rows]
                customers = shop.store.get_many("customers", [o["customer_id"] for o in orders])
                # Read in this snapshot: a product deleted meanwhile must not null half the truth.
                references = render.live_references(shop.store, orders, conn)
            for record_id, updated_at, digest, data in rows:
                row: dict[str, Any] = {
                    "id": record_id,
                    "updated_at": timeutil.iso_z(updated_at),
                    "hash": digest,
                }
                if full:
                    record = orjson.loads(data)
                    if resource == "products":
                        row["record"] = render.product(record, shop.offset_minutes, variant_cap=None)
                    else:
                        row["record"] = render.render(
                            resource, record, shop.offset_minutes, customers, references, domain=shop.domain
                        )
                    if resource == "customers":
                        row["beyond_rest"] = beyond_rest_customer(record)
                    if resource == "orders":
                        row["graphql_totals"] = graphql_totals(record)
                yield row
        deleted = [
            r[0] for r in conn.execute("SELECT id FROM deleted WHERE resource = ? ORDER BY id", (resource,))
        ]
        yield {"__deleted__": deleted}
    finally:
        conn.execute("COMMIT")
        shop.store.release(conn)


def graphql_totals(order: dict[str, Any]) -> dict[str, str]:
    """The order totals only GraphQL serves (a REST order has no received, net or refunded total,
    contract §8.5), in shop money, as `Order.totalReceivedSet` & co. answer them: the truth's REST
    record cannot carry them, so its row does."""
    paid = derived.payments(order)
    return {
        "totalReceivedSet": money(paid["received"]),
        "netPaymentSet": money(paid["net"]),
        "totalRefundedSet": money(paid["refunded"]),
    }


def truth_transaction_rows(shop: ShopState, full: bool) -> Iterator[dict[str, Any]]:
    """Every live order's transactions (by order id, then in creation order), from one snapshot.
    `hash` = blake2b-80 of the canonical transaction: it changes iff the transaction does."""
    conn = shop.store.open_connection()
    try:
        conn.execute("BEGIN")
        cursor = conn.execute("SELECT data FROM orders ORDER BY id")
        while rows := cursor.fetchmany(2000):
            for (data,) in rows:
                order = orjson.loads(data)
                for tx in order["transactions"]:
                    row: dict[str, Any] = {
                        "id": tx["id"],
                        "order_id": order["id"],
                        "created_at": timeutil.iso_z(tx["created_at"]),
                        "hash": content_hash(orjson.dumps(tx)),
                    }
                    if full:
                        row["record"] = render.transaction(tx, order, shop.offset_minutes)
                    yield row
        deleted = [
            r[0] for r in conn.execute("SELECT id FROM deleted WHERE resource = 'transactions' ORDER BY id")
        ]
        yield {"__deleted__": deleted}
    finally:
        conn.execute("COMMIT")
        shop.store.release(conn)


def truth_json(rows: Iterator[dict[str, Any]], resource: str) -> Iterator[bytes]:
    yield b'{"resource":' + orjson.dumps(resource) + b',"records":['
    count = 0
    deleted: list[int] = []
    for row in rows:
        if "__deleted__" in row:
            deleted = row["__deleted__"]
            continue
        yield (b"," if count else b"") + orjson.dumps(row)
        count += 1
    yield b'],"deleted_ids":' + orjson.dumps(deleted) + b',"count":' + str(count).encode() + b"}"


def truth_ndjson(rows: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    for row in rows:
        if "__deleted__" in row:
            yield orjson.dumps({"deleted_ids": row["__deleted__"]}) + b"\n"
        else:
            yield orjson.dumps(row) + b"\n"


@route("GET", "/_sim/shops/(?P<domain>[^/]+)/truth/(?P<resource>orders|customers|products)")
def truth(app: App, request: Request) -> Response:
    shop, resource = shop_of(app, request), resource_of(request)
    full = request.arg("full") in ("1", "true")
    rows = truth_rows(shop, resource, full)
    if request.arg("format") == "ndjson":
        return Response(body=truth_ndjson(rows), content_type="application/x-ndjson")
    return Response(body=truth_json(rows, resource))


@route("GET", "/_sim/shops/(?P<domain>[^/]+)/truth/transactions")
def truth_transactions(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    rows = truth_transaction_rows(shop, request.arg("full") in ("1", "true"))
    if request.arg("format") == "ndjson":
        return Response(body=truth_ndjson(rows), content_type="application/x-ndjson")
    return Response(body=truth_json(rows, "transactions"))


# -- webhooks ------------------------------------------------------------------------------------------
@route("GET", "/_sim/shops/(?P<domain>[^/]+)/webhooks/subscriptions")
def list_subscriptions(app: App, request: Request) -> Response:
    return json_response({"subscriptions": [s.control() for s in shop_of(app, request).webhooks.list()]})


@route("POST", "/_sim/shops/(?P<domain>[^/]+)/webhooks/subscriptions")
def add_subscription(app: App, request: Request) -> Response:
    shop, data = shop_of(app, request), body(request)
    topics = data.get("topics") or [data.get("topic")]
    created = []
    for topic in topics:
        subscription, message = shop.webhooks.subscribe(
            topic_enum=str(topic),
            uri=str(data.get("address") or data.get("uri") or ""),
            data_format=data.get("format", "JSON"),
            source=data.get("source", "api"),
            include_fields=data.get("include_fields"),
        )
        if subscription is None:
            return error(422, message)
        created.append(subscription.control())
    return json_response({"subscriptions": created, "subscription": created[0]}, status=201)


@route("DELETE", "/_sim/shops/(?P<domain>[^/]+)/webhooks/subscriptions/(?P<id>\\d+)")
def delete_subscription(app: App, request: Request) -> Response:
    removed = shop_of(app, request).webhooks.unsubscribe(int(request.path_params["id"]))
    return json_response({"deleted": removed}, status=200 if removed else 404)


@route("GET", "/_sim/shops/(?P<domain>[^/]+)/webhooks/deliveries")
def deliveries(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    include_body = request.arg("include_body") in ("1", "true")
    topic, status = request.arg("topic"), request.arg("status")
    items = [
        d.summary(include_body)
        for d in app.dispatcher.deliveries(shop.domain)
        if (not topic or d.topic == topic) and (not status or d.status == status)
    ]
    return json_response({"deliveries": items, "pending": app.dispatcher.pending(shop.domain)})


@route("DELETE", "/_sim/shops/(?P<domain>[^/]+)/webhooks/deliveries")
def clear_deliveries(app: App, request: Request) -> Response:
    app.dispatcher.clear_log(shop_of(app, request).domain)
    return json_response({"cleared": True})


@route("POST", "/_sim/shops/(?P<domain>[^/]+)/webhooks/flush")
def flush(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    timeout = float(body(request).get("timeout", 30))
    attempted = app.dispatcher.flush(shop.domain, timeout)
    return json_response({"flushed": attempted, "pending": app.dispatcher.pending(shop.domain)})


def privacy_payload(shop: ShopState, topic: str, data: dict[str, Any]) -> dict[str, Any]:
    base = {"shop_id": shop.shop_id, "shop_domain": shop.domain}
    if topic == "shop/redact":
        return base
    customer_id = data.get("customer_id") or shop.store.random_id("customers", 0.5)
    customer = shop.store.get("customers", customer_id) if customer_id else None
    orders = [
        r[0]
        for r in shop.store.conn().execute(
            "SELECT id FROM orders WHERE customer_id = ? ORDER BY id", (customer_id,)
        )
    ]
    person = {
        "id": customer_id,
        "email": (customer or {}).get("email"),
        "phone": (customer or {}).get("phone"),
    }
    if topic == "customers/data_request":
        return {
            **base,
            "orders_requested": orders,
            "customer": person,
            "data_request": {"id": int(data.get("data_request_id", 9999))},
        }
    return {**base, "customer": person, "orders_to_redact": orders}


@route("POST", "/_sim/shops/(?P<domain>[^/]+)/webhooks/privacy")
def privacy(app: App, request: Request) -> Response:
    shop, data = shop_of(app, request), body(request)
    topic = data.get("topic")
    if topic not in PRIVACY_TOPICS:
        return error(422, f"topic must be one of {', '.join(PRIVACY_TOPICS)}")
    address = data.get("address") or shop.options.webhook_url
    if not address:
        return error(422, "address is required (or start the shop with webhook_url)")
    payload = privacy_payload(shop, topic, data)
    shop.deliver(topic, address, orjson.dumps(payload), str(uuid.uuid4()), time.time(), None)
    return json_response({"topic": topic, "address": address, "payload": payload}, status=202)


@route("POST", "/_sim/shops/(?P<domain>[^/]+)/uninstall")
def uninstall(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    shop.uninstall()
    return json_response({"uninstalled": True})


@route("POST", "/_sim/shops/(?P<domain>[^/]+)/session_token")
def mint_session_token(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    lifetime = int(body(request).get("lifetime", 60))
    return json_response({"session_token": oauth.session_token(shop, lifetime)})


@route("POST", "/_sim/shops/(?P<domain>[^/]+)/tokens")
def mint_token(app: App, request: Request) -> Response:
    shop, data = shop_of(app, request), body(request)
    scopes = frozenset(data.get("scopes") or shop.options.scopes)
    issued = oauth.issue(shop, scopes, online=False, expiring=bool(data.get("expiring")))
    if data.get("expires_in") is not None:
        shop.oauth.tokens[issued["access_token"]].expires_at = time.time() + float(data["expires_in"])
    return json_response(issued, status=201)


# -- bulk ----------------------------------------------------------------------------------------------
@route("GET", "/_sim/shops/(?P<domain>[^/]+)/bulk")
def bulk_list(app: App, request: Request) -> Response:
    return json_response({"operations": shop_of(app, request).bulk.describe()})


@route("POST", "/_sim/shops/(?P<domain>[^/]+)/bulk/(?P<id>\\d+)/expire")
def bulk_expire(app: App, request: Request) -> Response:
    shop = shop_of(app, request)
    operation = shop.bulk.get(int(request.path_params["id"]))
    if operation is None:
        return error(404, "Not Found")
    shop.bulk.expire(operation)
    return json_response({"status": operation.status})


# -- faults and requests -------------------------------------------------------------------------------
@route("GET", "/_sim/faults")
def get_faults(app: App, request: Request) -> Response:
    return json_response(app.faults.describe())


@route("PUT", "/_sim/faults")
def put_faults(app: App, request: Request) -> Response:
    app.faults.configure(body(request))
    return json_response(app.faults.describe())


@route("DELETE", "/_sim/faults")
def reset_faults(app: App, request: Request) -> Response:
    app.faults.reset()
    return json_response(app.faults.describe())


@route("GET", "/_sim/requests")
def get_requests(app: App, request: Request) -> Response:
    return json_response(app.requests.describe())


@route("DELETE", "/_sim/requests")
def reset_requests(app: App, request: Request) -> Response:
    app.requests.reset()
    return json_response({"reset": True})


def handle(app: App, request: Request) -> Response:
    for method, pattern, fn in ROUTES:
        match = pattern.match(request.path)
        if match and method == request.method:
            request.path_params = match.groupdict()
            try:
                return fn(app, request)
            except MutationError as exc:
                return error(exc.status, str(exc))
            except LookupError as exc:
                return error(404, str(exc))
            except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
                return error(422, str(exc))
    return error(404, f"no control route {request.method} {request.path}")
