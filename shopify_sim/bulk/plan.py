"""Compile a bulk query into a plan the exporter runs per record without graphql-core (fast path).

Field meanings come from the same tables as the GraphQL resolvers (admin_graphql/fields.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSyntaxError,
    get_named_type,
    parse,
    validate,
)
from graphql.execution.values import get_argument_values

from shopify_sim.admin_graphql import cost
from shopify_sim.admin_graphql.endpoint import pick_operation
from shopify_sim.admin_graphql.errors import shopify_errors
from shopify_sim.admin_graphql.fields import FieldFn
from shopify_sim.admin_graphql.schema import NESTED, TABLES, schema_for
from shopify_sim.gid import gid

MAX_CONNECTIONS = 5
MAX_NESTING = 2
# References whose selection is only `id` are answered from the foreign key and a set of live ids,
# instead of loading the referenced record per row (the difference between 4k and 20k+ orders/s).
ID_ONLY_REFERENCES = {
    ("Order", "customer"): ("customer_id", "Customer", "customers"),
    ("LineItem", "variant"): ("variant_id", "ProductVariant", "variants"),
    ("LineItem", "product"): ("product_id", "Product", "products"),
}


# List fields whose items' connections come as child lines of the record holding the list, when the
# shop allows it (`ShopOptions.bulk_connections_under_lists`). Shopify itself refuses such a query
# ("Queries that contain a connection field within a list field are not currently supported.";
# estuary/connectors PR #4650 found it refuses `refundLineItems` under `Order.refunds`), so the
# default refuses too; the option keeps the old reading (contract §8.13 [UNSURE]) for tests of it.
LIST_PARENTS = ("Refund", "Fulfillment")


def is_list(output_type: Any) -> bool:
    inner = output_type.of_type if isinstance(output_type, GraphQLNonNull) else output_type
    return isinstance(inner, GraphQLList)


def hoisted(list_fn: FieldFn, list_args: dict[str, Any], children: list[PlanField]) -> list[PlanField]:
    """The children of a list's items as children of the list's owner: one iterator over every item."""
    found = []
    for child in children:
        item_fn = child.fn
        assert item_fn is not None

        def every(obj: Any, args: dict, ctx: Any, item_fn: FieldFn = item_fn) -> Any:
            for item in list_fn(obj, list_args, ctx) or ():
                yield from item_fn(item, args, ctx)

        found.append(PlanField(child.key, child.name, every, child.args, connection=child.connection))
    return found


class BulkQueryError(ValueError):
    pass


@dataclass
class PlanField:
    key: str
    name: str
    fn: FieldFn | None
    args: dict[str, Any]
    sub: Plan | None = None  # inline object selection
    connection: Plan | None = None  # nested connection -> child lines
    plain: bool = False  # a dict lookup by field name (value objects), no resolver needed


@dataclass
class Plan:
    typename: str
    fields: list[PlanField] = field(default_factory=list)
    children: list[PlanField] = field(default_factory=list)
    projector: Any = None  # compiled lazily by bulk.export
    writer: Any = None  # compiled lazily by bulk.export (root plans)


@dataclass
class RootPlan:
    resource: str
    field_name: str
    args: dict[str, Any]
    plan: Plan
    connections: int


def getter(name: str) -> FieldFn:
    return lambda obj, args, ctx: obj.get(name) if isinstance(obj, dict) else None


def id_only_reference(column: str, typename: str, table: str, key: str) -> FieldFn:
    cache_key, prefix = f"live:{table}", gid(typename, "")

    def resolve(obj: Any, args: dict, ctx: Any) -> dict | None:
        target = obj.get(column)
        if target is None:
            return None
        live = ctx.cache.get(cache_key)
        if live is None:
            live = {row[0] for row in ctx.store.conn().execute(f"SELECT id FROM {table}")}  # noqa: S608
            ctx.cache[cache_key] = live
        return {key: f"{prefix}{target}"} if target in live else None

    return resolve


def connection_node_selection(
    walk: cost.Walk, node: FieldNode, connection_type: GraphQLObjectType
) -> tuple[Any, list]:
    """The node type of a connection and the merged selections of `edges { node }` and `nodes`."""
    node_type, selections = None, []
    for found_type, selection_set, _, _ in cost.node_selections(walk, connection_type, node):
        node_type = found_type
        if selection_set is not None:
            selections.extend(selection_set.selections)
    return node_type, selections


class Compiler:
    def __init__(self, walk: cost.Walk, *, connections_under_lists: bool = False) -> None:
        self.walk = walk
        self.connections = 0
        self.connections_under_lists = connections_under_lists

    def compile_selection(self, parent: Any, selection_set: Any, depth: int) -> Plan:
        plan = Plan(parent.name)
        has_id = False
        for node, definition, owner in cost.collect(self.walk, parent, selection_set):
            name = node.name.value
            key = node.alias.value if node.alias else name
            named = get_named_type(definition.type)
            args = get_argument_values(definition, node, self.walk.variables)
            resolver = TABLES.get(owner.name, {}).get(name)
            fn = resolver or getter(name)
            if cost.is_connection(named):
                plan.children.append(self.compile_connection(owner, node, named, key, args, depth + 1))
                continue
            if name == "id" and not node.alias:
                has_id = True
            sub = None
            if node.selection_set is not None:
                sub = self.compile_selection(named, node.selection_set, depth)
                if (
                    sub.children
                    and self.connections_under_lists
                    and named.name in LIST_PARENTS
                    and is_list(definition.type)
                ):
                    # A connection under a list (`refunds { refundLineItems }`): its lines follow the
                    # record's, `__parentId` the record's id (contract §8.13 [UNSURE]).
                    plan.children.extend(hoisted(fn, args, sub.children))
                    sub.children = []
                if sub.children:
                    raise BulkQueryError(
                        "Queries that contain a connection field within a list field are not currently supported."
                    )
                reference = ID_ONLY_REFERENCES.get((owner.name, name))
                if reference and [f.name for f in sub.fields] == ["id"]:
                    fn, sub = id_only_reference(*reference, key=sub.fields[0].key), None
            plan.fields.append(
                PlanField(key, name, fn, args, sub=sub, plain=resolver is None and name != "__typename")
            )
        if plan.children and not has_id:
            raise BulkQueryError(
                "The parent 'node' field for a nested connection must select the 'id' field without an alias "
                "and must be of 'ID' return type."
            )
        return plan

    def compile_connection(
        self, owner: Any, node: FieldNode, named: Any, key: str, args: dict, depth: int
    ) -> PlanField:
        self.connections += 1
        if self.connections > MAX_CONNECTIONS:
            raise BulkQueryError(f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections.")
        if depth > MAX_NESTING:
            raise BulkQueryError(
                f"Bulk queries cannot contain connections with a nesting depth greater than {MAX_NESTING}."
            )
        iterator = NESTED.get(owner.name, {}).get(node.name.value)
        if iterator is None:
            raise BulkQueryError(f"The connection '{node.name.value}' is not supported in bulk queries.")
        node_type, selections = connection_node_selection(self.walk, node, named)
        selection_set = type(node.selection_set)(selections=tuple(selections)) if selections else None
        child = self.compile_selection(node_type, selection_set, depth)
        return PlanField(key, node.name.value, iterator, args, connection=child)


TOP_LEVEL = {
    "orders": "orders",
    "customers": "customers",
    "products": "products",
    "collections": "collections",
    "locations": "locations",
}


def compile_bulk(walk: cost.Walk, operation: Any, *, connections_under_lists: bool = False) -> RootPlan:
    query_type = walk.schema.query_type
    fields = list(cost.collect(walk, query_type, operation.selection_set))
    for node, _, _ in fields:
        if node.name.value in ("node", "nodes"):
            raise BulkQueryError("Bulk queries cannot contain a top level `node` or `nodes` field.")
    roots = [(n, d) for n, d, _ in fields if cost.is_connection(get_named_type(d.type))]
    if not roots:
        raise BulkQueryError("Bulk queries must contain at least one connection.")
    if len(fields) > 1:
        raise BulkQueryError("Bulk queries must contain exactly one top-level field.")
    node, definition = roots[0]
    resource = TOP_LEVEL.get(node.name.value)
    if resource is None:
        raise BulkQueryError(f"The connection '{node.name.value}' is not supported in bulk queries.")
    compiler = Compiler(walk, connections_under_lists=connections_under_lists)
    compiler.connections = 1
    node_type, selections = connection_node_selection(walk, node, get_named_type(definition.type))
    selection_set = type(node.selection_set)(selections=tuple(selections)) if selections else None
    plan = compiler.compile_selection(node_type, selection_set, 0)
    args = get_argument_values(definition, node, walk.variables)
    return RootPlan(resource, node.name.value, args, plan, compiler.connections)


def compile_query(text: str, version: str, *, connections_under_lists: bool = False) -> RootPlan:
    """Parse, validate and compile a bulk query (BulkQueryError or GraphQLError when refused).
    `connections_under_lists`: accept a connection under a Refund / Fulfillment list (Shopify refuses it)."""
    schema = schema_for(version)
    try:
        document = parse(text)
    except GraphQLSyntaxError as error:
        raise BulkQueryError(error.message) from error
    problems = validate(schema, document)
    if problems:
        raise BulkQueryError(shopify_errors(problems[:1], document)[0]["message"])
    operation = pick_operation(document, None)
    if operation is None or operation.operation.value != "query":
        raise BulkQueryError("Bulk queries must contain exactly one query operation.")
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return compile_bulk(
        cost.Walk(schema, fragments, {}), operation, connections_under_lists=connections_under_lists
    )
