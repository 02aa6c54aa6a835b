"""A small scripted Shopify for the sync engine's own tests: the GraphQL documents the engine sends
(bulk start / poll, counts, pages sorted by UPDATED_AT with nested children, child pages) answered
from in-memory records over real HTTP. End-to-end tests use the full simulator instead."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.shopsync.shopify.scripted_http import Reply, ScriptedServer

GID_TYPES = {"orders": "Order", "customers": "Customer", "products": "Product", "collections": "Collection"}
CHILD_TYPES = {
    "orders": ("lineItems", "LineItem"), "products": ("variants", "ProductVariant"),
    "collections": ("products", "Product"),
}  # fmt: skip
BASE = datetime(2025, 1, 1, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Operation:
    id: str
    resource: str
    roots: list[dict]
    status: str = "COMPLETED"
    partial_roots: int | None = None  # FAILED after this many roots (their lines are the partial data)
    error_code: str | None = None
    # Roots exported so far as the next polls report them while the operation is RUNNING.
    running_polls: list[int] = field(default_factory=list)


@dataclass
class FakeShopify:
    server: ScriptedServer
    api_version: str = "2026-01"
    records: dict[str, dict[int, dict]] = field(
        default_factory=lambda: {"orders": {}, "customers": {}, "products": {}, "collections": {}}
    )
    operations: dict[str, Operation] = field(default_factory=dict)
    # The next bulk operation reports RUNNING with these root counts before it finishes.
    next_bulk_running_polls: list[int] = field(default_factory=list)
    # Next bulk operations fail after N roots, in order (None = complete).
    fail_next_bulk_after: list[int] = field(default_factory=list)
    # shopify_id (root or child) -> raw line(s) replacing the record's line
    bad_lines: dict[int, bytes] = field(default_factory=dict)
    graphql_requests: list[dict] = field(default_factory=list)
    # BasicEvent nodes the `events` query answers with, all in one page, whatever its filter (the
    # engine must check each node itself).
    events: list[dict] = field(default_factory=list)
    # Bulk starts answered "already in progress" (another operation holds the shop's bulk slot).
    bulk_slot_taken: bool = False
    # Answers for the next GraphQL requests, before any real one (e.g. a 429 with Retry-After).
    replies_next: list[Reply] = field(default_factory=list)
    # The bucket's points reported free after each page (None: nearly full, as after any answer).
    available_after_page: float | None = None
    _next_id: int = 1000

    def __post_init__(self) -> None:
        self.server.handle(f"/admin/api/{self.api_version}/graphql.json", self._graphql)

    # --- store ---------------------------------------------------------------------------------

    def add(
        self, resource: str, *, children: int = 0, updated_at: datetime | None = None, **fields: Any
    ) -> int:
        self._next_id += 1
        shopify_id = self._next_id
        updated_at = updated_at or BASE + timedelta(minutes=shopify_id)
        node = {"id": f"gid://shopify/{GID_TYPES[resource]}/{shopify_id}", "legacyResourceId": str(shopify_id),
                "createdAt": iso(BASE), "updatedAt": iso(updated_at), **fields}  # fmt: skip
        if resource == "products":
            node.setdefault("title", f"Product {shopify_id}")
        kids = []
        for _ in range(children):
            self._next_id += 1
            kid_type = CHILD_TYPES[resource][1]
            kid = {"id": f"gid://shopify/{kid_type}/{self._next_id}"}
            if resource != "collections":  # a member is only its product's id
                kid |= {"quantity": 1} if resource == "orders" else {"title": "Default", "price": "9.99"}
            kids.append(kid)
        self.records[resource][shopify_id] = {"node": node, "children": kids}
        return shopify_id

    def touch(self, resource: str, shopify_id: int, updated_at: datetime, **fields: Any) -> None:
        self.records[resource][shopify_id]["node"].update(updatedAt=iso(updated_at), **fields)

    def delete(self, resource: str, shopify_id: int) -> None:
        del self.records[resource][shopify_id]

    # --- GraphQL -------------------------------------------------------------------------------

    def _graphql(self, seen) -> Reply:
        body = seen.json()
        self.graphql_requests.append(body)
        query, variables = body["query"], body.get("variables") or {}
        if self.replies_next:
            return self.replies_next.pop(0)
        if "bulkOperationRunQuery" in query:
            return self._bulk_start(variables["query"])
        if "ShopsyncBulkOperation" in query:
            op = self.operations.get(variables["id"])  # unknown (expired, restarted): null node
            if op is not None and op.running_polls:
                return self._ok({"node": self._running_node(op, op.running_polls.pop(0))})
            return self._ok({"node": self._operation_node(op) if op else None})
        if "Count(" in query:
            resource = re.search(r"(\w+)Count\(query", query).group(1)
            return self._ok({f"{resource}Count": {"count": len(self._filter(resource, variables.get("query"))),
                                                  "precision": "EXACT"}})  # fmt: skip
        if "SyncChildren" in query:
            return self._children(query, variables)
        if "SyncPage" in query:
            return self._page(query, variables)
        if "SyncDeletionEvents" in query:
            return self._ok(
                {"events": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": self.events}}
            )
        return Reply(status=200, json={"errors": [{"message": f"unknown query {query[:80]}"}]})

    def _ok(self, data: dict, *, available: float | None = None) -> Reply:
        free = 1990 if available is None else available
        cost = {"requestedQueryCost": 10, "actualQueryCost": 5,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": free, "restoreRate": 100.0}}  # fmt: skip
        return Reply(json={"data": data, "extensions": {"cost": cost}})

    def _filter(self, resource: str, search: str | None) -> list[dict]:
        units = list(self.records[resource].values())
        for field_name, op, value in re.findall(r"(\w+):(>=|<=|>|<)'?([^' ]+)'?", search or ""):
            units = [u for u in units if _compare(_field(u["node"], field_name), op, value)]
        return units

    def _bulk_start(self, bulk_query: str) -> Reply:
        if self.bulk_slot_taken:
            message = "A bulk query operation for this app and shop is already in progress: gid://shopify/BulkOperation/1."
            return self._ok({"bulkOperationRunQuery": {"bulkOperation": None,
                                                       "userErrors": [{"field": None, "message": message}]}})  # fmt: skip
        resource = re.match(r"\{ (\w+)\(", bulk_query).group(1)
        search = re.search(r'query: "(.*?)"\)', bulk_query)
        roots = sorted(
            self._filter(resource, search.group(1) if search else None), key=lambda u: _id(u["node"])
        )
        op = Operation(
            id=f"gid://shopify/BulkOperation/{len(self.operations) + 1}", resource=resource, roots=roots
        )
        op.running_polls, self.next_bulk_running_polls = self.next_bulk_running_polls, []
        if self.fail_next_bulk_after:
            op.status, op.partial_roots, op.error_code = (
                "FAILED",
                self.fail_next_bulk_after.pop(0),
                "INTERNAL_SERVER_ERROR",
            )
        self.operations[op.id] = op
        number = op.id.rsplit("/", 1)[1]
        self.server.handle(f"/bulk/{number}.jsonl", lambda seen, op=op: Reply(body=self._jsonl(op)))
        return self._ok({"bulkOperationRunQuery": {"bulkOperation": self._operation_node(op, created=True),
                                                   "userErrors": []}})  # fmt: skip

    def _operation_node(self, op: Operation, created: bool = False) -> dict:
        number = op.id.rsplit("/", 1)[1]
        url = f"{self.server.base_url}/bulk/{number}.jsonl"
        roots = len(op.roots) if op.partial_roots is None else op.partial_roots
        # Shopify's objectCount counts every line: roots and their children.
        objects = roots + sum(len(unit["children"]) for unit in op.roots[:roots])
        return {"id": op.id, "status": "CREATED" if created else op.status, "errorCode": op.error_code,
                "objectCount": str(objects), "rootObjectCount": str(roots), "fileSize": None,
                "url": url if op.status == "COMPLETED" and op.roots else None,
                "partialDataUrl": url if op.status == "FAILED" and op.partial_roots else None,
                "createdAt": iso(BASE), "completedAt": iso(BASE)}  # fmt: skip

    def _running_node(self, op: Operation, roots: int) -> dict:
        return {**self._operation_node(op), "status": "RUNNING", "objectCount": str(roots),
                "rootObjectCount": str(roots), "url": None, "partialDataUrl": None}  # fmt: skip

    def _jsonl(self, op: Operation) -> bytes:
        roots = op.roots if op.partial_roots is None else op.roots[: op.partial_roots]
        lines = []
        for unit in roots:
            shopify_id = _id(unit["node"])
            lines.append(self.bad_lines.get(shopify_id) or json.dumps(unit["node"]).encode())
            lines += [
                self.bad_lines.get(_id(kid)) or json.dumps({**kid, "__parentId": unit["node"]["id"]}).encode()
                for kid in unit["children"]
            ]
        return b"\n".join(lines) + b"\n"

    def _page(self, query: str, variables: dict) -> Reply:
        resource = re.search(r"\{ (\w+)\(first: \$first", query).group(1)
        units = sorted(self._filter(resource, variables.get("query")),
                       key=lambda u: (u["node"]["updatedAt"], _id(u["node"])))  # fmt: skip
        start = int(base64.b64decode(variables["after"])) if variables.get("after") else 0
        chunk = units[start : start + variables["first"]]
        end = start + len(chunk)
        nodes = []
        for unit in chunk:
            node = dict(unit["node"])
            if resource in CHILD_TYPES:
                first = variables["childFirst"]
                kids = unit["children"]
                node[CHILD_TYPES[resource][0]] = {
                    "pageInfo": {"hasNextPage": len(kids) > first, "endCursor": base64.b64encode(str(first).encode()).decode()},
                    "nodes": kids[:first],
                }  # fmt: skip
            nodes.append(node)
        cursor = base64.b64encode(str(end).encode()).decode()
        info = {"hasNextPage": end < len(units), "endCursor": cursor if chunk else None}
        return self._ok({resource: {"pageInfo": info, "nodes": nodes}}, available=self.available_after_page)

    def _children(self, query: str, variables: dict) -> Reply:
        single = re.search(r"\{ (\w+)\(id: \$id\)", query).group(1)
        resource = single + "s"
        unit = self.records[resource][int(variables["id"].rsplit("/", 1)[1])]
        start = int(base64.b64decode(variables["after"])) if variables.get("after") else 0
        kids = unit["children"][start : start + variables["first"]]
        end = start + len(kids)
        info = {
            "hasNextPage": end < len(unit["children"]),
            "endCursor": base64.b64encode(str(end).encode()).decode(),
        }
        return self._ok({single: {CHILD_TYPES[resource][0]: {"pageInfo": info, "nodes": kids}}})

    def bulk_starts(self) -> int:
        return sum("bulkOperationRunQuery" in r["query"] for r in self.graphql_requests)

    def events_requests(self) -> list[dict]:
        return [r for r in self.graphql_requests if "SyncDeletionEvents" in r["query"]]

    def page_requests(self) -> list[dict]:
        return [r for r in self.graphql_requests if "SyncPage" in r["query"]]


def _id(node: dict) -> int:
    return int(node["id"].rsplit("/", 1)[1])


def _field(node: dict, name: str) -> Any:
    if name == "id":
        return _id(node)
    return {"updated_at": node.get("updatedAt"), "created_at": node.get("createdAt")}[name]


def _compare(left: Any, op: str, right: str) -> bool:
    value: Any = int(right) if isinstance(left, int) else right
    return {">": left > value, ">=": left >= value, "<": left < value, "<=": left <= value}[op]
