"""POST /admin/api/{version}/graphql.json: parse, validate, cost, throttle, execute, refund."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
)

from shopify_sim.admin_graphql import cost
from shopify_sim.admin_graphql.context import GraphQLContext
from shopify_sim.admin_graphql.errors import shopify_errors
from shopify_sim.admin_graphql.schema import field_resolver, schema_for
from shopify_sim.httpio import Request, Response, json_response

if TYPE_CHECKING:
    from shopify_sim.shops import ShopState

MAX_QUERY_COST = 1000
RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"


def cost_block(shop: ShopState, requested: int, actual: int | None) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": shop.graphql_bucket.status(),
        }
    }


def error_response(
    shop: ShopState, errors: list[dict], requested: int = 0, actual: int | None = 0
) -> Response:
    return json_response({"errors": errors, "extensions": cost_block(shop, requested, actual)})


def throttled(shop: ShopState, requested: int) -> Response:
    errors = [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": RATE_LIMIT_DOCS}}]
    response = error_response(shop, errors, requested, None)
    response.throttled = True
    return response


def max_cost_exceeded(shop: ShopState, requested: int) -> Response:
    message = (
        f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).\n\n"
        "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
        "cost of a query is calculated.\n\n"
        "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
        "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
    )
    extensions = {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST}
    return error_response(shop, [{"message": message, "extensions": extensions}], requested, None)


def read_body(request: Request) -> tuple[str, dict[str, Any], str | None] | None:
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("application/graphql"):
        return request.body.decode("utf-8", "replace"), {}, None
    try:
        payload = orjson.loads(request.body or b"null")
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return None
    return payload["query"], payload.get("variables") or {}, payload.get("operationName")


def pick_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((op for op in operations if op.name and op.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def handle(shop: ShopState, request: Request, version: str, scopes: frozenset[str]) -> Response:
    body = read_body(request)
    if body is None:
        return json_response({"errors": {"query": "Required parameter missing or invalid"}}, status=400)
    source, variables, operation_name = body
    schema = schema_for(version)
    try:
        document = parse(source)
    except GraphQLSyntaxError as error:
        return error_response(shop, [error.formatted])
    problems = validate(schema, document)
    if problems:
        return error_response(shop, shopify_errors(problems, document))
    operation = pick_operation(document, operation_name)
    if operation is None:
        return error_response(shop, [{"message": "An operation name is required"}])
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walk = cost.Walk(schema, fragments, variables)
    try:
        requested = cost.operation_cost(walk, operation)
    except GraphQLError as error:
        return error_response(shop, [error.formatted])
    if requested > MAX_QUERY_COST:
        return max_cost_exceeded(shop, requested)
    if shop.faults.graphql_throttle(shop.domain) or not shop.graphql_bucket.take(requested):
        return throttled(shop, requested)
    context = GraphQLContext(shop=shop, version=version, scopes=scopes, base_url=request.root_url)
    result = execute(
        schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        field_resolver=field_resolver,
    )
    spent = cost.operation_actual(walk, operation, result.data)
    shop.graphql_bucket.refund(requested - spent)
    data = result.data
    if data is not None:
        shop.faults.malform_graphql(shop.domain, data)
    payload: dict[str, Any] = {}
    if result.errors:
        payload["errors"] = [e.formatted for e in result.errors]
    payload["data"] = data
    payload["extensions"] = cost_block(shop, requested, spent)
    return json_response(payload)
