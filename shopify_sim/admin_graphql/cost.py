"""Query cost (contract §1.3): scalars/enums 0, objects 1, connections 2 + size x (node cost),
mutations 10. Requested cost uses first/last; actual cost counts what came back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    TypeNameMetaFieldDef,
    get_named_type,
    value_from_ast,
)

MAX_PAGE = 250
MUTATION_COST = 10
CONNECTION_OVERHEAD = 2


@dataclass
class Walk:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]


def is_connection(named: GraphQLNamedType) -> bool:
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and "pageInfo" in named.fields
    )


def is_list(field_type: Any) -> bool:
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


def collect(
    walk: Walk, parent: GraphQLNamedType, selection_set: SelectionSetNode | None
) -> Iterator[tuple[FieldNode, GraphQLField, GraphQLNamedType]]:
    """Fields of a selection set with their definitions, flattening fragments."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            fields = getattr(parent, "fields", {})
            # `__typename` is a meta-field, never among the type's own fields: without this the bulk
            # compiler dropped it from every line (it costs 0, so the cost walk is unaffected).
            name = selection.name.value
            definition = TypeNameMetaFieldDef if name == "__typename" else fields.get(name)
            if definition is not None:
                yield selection, definition, parent
        elif isinstance(selection, InlineFragmentNode):
            target = (
                walk.schema.get_type(selection.type_condition.name.value)
                if selection.type_condition
                else parent
            )
            yield from collect(walk, target or parent, selection.selection_set)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = walk.fragments.get(selection.name.value)
            if fragment is not None:
                target = walk.schema.get_type(fragment.type_condition.name.value)
                yield from collect(walk, target or parent, fragment.selection_set)


def arguments(walk: Walk, node: FieldNode, definition: GraphQLField) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for argument in node.arguments or ():
        arg_def = definition.args.get(argument.name.value)
        if arg_def is not None:
            values[argument.name.value] = value_from_ast(argument.value, arg_def.type, walk.variables)
    return values


def page_arg(walk: Walk, node: FieldNode, definition: GraphQLField) -> int:
    args = arguments(walk, node, definition)
    sizes = [args[name] for name in ("first", "last") if isinstance(args.get(name), int)]
    for size in sizes:
        if size > MAX_PAGE:
            raise GraphQLError(
                f"The '{'first' if args.get('first') == size else 'last'}' argument on the field "
                f"'{node.name.value}' exceeds the maximum of {MAX_PAGE} (requested {size}).",
                extensions={"code": "BAD_REQUEST"},
            )
    return max(sizes) if sizes else MAX_PAGE


def node_selections(
    walk: Walk, connection: GraphQLObjectType, node: FieldNode
) -> Iterator[tuple[GraphQLNamedType, SelectionSetNode | None, str, str | None]]:
    """(node type, node selection set, response key, edge node key) for `edges{node}` and `nodes`."""
    for field_node, definition, _ in collect(walk, connection, node.selection_set):
        name = field_node.name.value
        key = field_node.alias.value if field_node.alias else name
        edge_type = get_named_type(definition.type)
        if name == "nodes":
            yield edge_type, field_node.selection_set, key, None
        elif name == "edges":
            for inner, inner_def, _ in collect(walk, edge_type, field_node.selection_set):
                if inner.name.value == "node":
                    inner_key = inner.alias.value if inner.alias else "node"
                    yield get_named_type(inner_def.type), inner.selection_set, key, inner_key


def requested(walk: Walk, parent: GraphQLNamedType, selection_set: SelectionSetNode | None) -> int:
    total = 0
    for node, definition, _ in collect(walk, parent, selection_set):
        named = get_named_type(definition.type)
        if is_connection(named):
            size = page_arg(walk, node, definition)
            per_node = max(
                (1 + requested(walk, t, s) for t, s, _, _ in node_selections(walk, named, node)), default=0
            )
            total += CONNECTION_OVERHEAD + size * per_node
        elif isinstance(named, GraphQLObjectType) or hasattr(named, "resolve_type"):
            count = 1
            if is_list(definition.type):
                args = arguments(walk, node, definition)
                count = len(args.get("ids") or []) or args.get("first") or 1
            total += count * (1 + requested(walk, named, node.selection_set))
    return total


def actual(walk: Walk, parent: GraphQLNamedType, selection_set: SelectionSetNode | None, data: Any) -> int:
    if not isinstance(data, dict):
        return 0
    total = 0
    for node, definition, _ in collect(walk, parent, selection_set):
        named = get_named_type(definition.type)
        value = data.get(node.alias.value if node.alias else node.name.value)
        if value is None:
            continue
        if is_connection(named):
            per_shape = []
            for node_type, node_set, key, inner_key in node_selections(walk, named, node):
                items = value.get(key) or []
                objects = [item.get(inner_key) if inner_key else item for item in items]
                per_shape.append(sum(1 + actual(walk, node_type, node_set, obj) for obj in objects))
            total += CONNECTION_OVERHEAD + max(per_shape, default=0)
        elif isinstance(named, GraphQLObjectType) or hasattr(named, "resolve_type"):
            items = value if isinstance(value, list) else [value]
            total += sum(
                1 + actual(walk, named, node.selection_set, item) for item in items if item is not None
            )
    return total


def operation_cost(walk: Walk, operation: OperationDefinitionNode) -> int:
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * len(operation.selection_set.selections)
    return requested(walk, walk.schema.query_type, operation.selection_set)


def operation_actual(walk: Walk, operation: OperationDefinitionNode, data: Any) -> int:
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * len(operation.selection_set.selections)
    return actual(walk, walk.schema.query_type, operation.selection_set, data)
