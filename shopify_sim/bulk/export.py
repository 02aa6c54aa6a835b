"""Run a compiled plan over the store and write Shopify-format JSONL.

Each record's line is followed immediately by its nested connection children (with `__parentId`),
depth first; non-connection objects stay inline; only the selected fields appear.

The hot path (a 1M-order export renders ~4M lines) is one function generated per bulk query:
`compile_writer` turns the plan into Python source in which each line is a single dict display
calling the field functions directly, so there is no per-field loop, no generator per record and no
graphql-core at all. Inline object selections still go through the small closures of
`compile_projector`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from shopify_sim.admin_graphql.context import GraphQLContext
from shopify_sim.bulk.plan import Plan

ID_KEY = "id"
LINE = orjson.OPT_APPEND_NEWLINE

Projector = Callable[[Any, GraphQLContext], Any]
# (record, ctx, malform or None) -> the record's lines, each already JSON with its newline.
Writer = Callable[[dict[str, Any], GraphQLContext, Any], list[bytes]]


def compile_projector(plan: Plan) -> Projector:
    """A closure that renders one object's own line (used for inline object selections)."""
    if plan.fields and all(f.sub is None and f.plain for f in plan.fields):
        pairs = tuple((f.key, f.name) for f in plan.fields)

        def plain(obj: Any, ctx: GraphQLContext) -> Any:
            # Value objects (MoneyV2, ...) are dicts keyed by field name: copy the selected keys.
            if isinstance(obj, list):
                return [{key: item.get(name) for key, name in pairs} for item in obj]
            return {key: obj.get(name) for key, name in pairs}

        return plain
    items = tuple(
        (f.key, f.fn, f.args, compile_projector(f.sub) if f.sub is not None else None, f.name == "__typename")
        for f in plan.fields
    )
    typename = plan.typename

    def projector(obj: Any, ctx: GraphQLContext) -> Any:
        if isinstance(obj, list):
            return [projector(item, ctx) for item in obj]
        line = {}
        for key, fn, args, sub, is_typename in items:
            value = (
                ((obj.get("__typename") if isinstance(obj, dict) else None) or typename)
                if is_typename
                else fn(obj, args, ctx)
            )
            if sub is not None and value is not None:
                value = sub(value, ctx)
            line[key] = value
        return line

    return projector


class WriterSource:
    """Builds the source of one writer function; `names` holds the objects the source refers to."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {"dumps": orjson.dumps, "LINE": LINE}
        self.lines: list[str] = []
        self.counter = itertools.count()

    def bind(self, value: Any) -> str:
        name = f"_{next(self.counter)}"
        self.names[name] = value
        return name

    def display(self, plan: Plan, obj: str, parent: str | None) -> str:
        """A dict display rendering `obj` with the plan's fields (and `__parentId` last)."""
        entries = []
        for field in plan.fields:
            if field.name == "__typename":
                value = repr(plan.typename)
            else:
                value = f"{self.bind(field.fn)}({obj}, {self.bind(field.args)}, ctx)"
            if field.sub is not None:
                temp = f"v{next(self.counter)}"
                value = (
                    f"None if ({temp} := {value}) is None else {self.sub_function(field.sub)}({temp}, ctx)"
                )
            entries.append(f"{field.key!r}: {value}")
        if parent is not None:
            entries.append(f"'__parentId': {parent}")
        return "{" + ", ".join(entries) + "}"

    def sub_function(self, plan: Plan) -> str:
        """A generated function rendering an inline object (or a list of them) of `plan`'s type."""
        name = f"sub{next(self.counter)}"
        entries = []
        for field in plan.fields:
            if field.name == "__typename":
                # An interface or union (DiscountApplication, PricingValue) names its concrete type,
                # as Shopify's does; the plan knows only the declared one.
                value = f"(v.get('__typename') if v.__class__ is dict else None) or {plan.typename!r}"
            elif field.plain:
                # Value objects (MoneyV2, ...) are dicts keyed by field name.
                value = f"v.get({field.name!r})"
            else:
                value = f"{self.bind(field.fn)}(v, {self.bind(field.args)}, ctx)"
            if field.sub is not None:
                temp = f"v{next(self.counter)}"
                value = (
                    f"None if ({temp} := {value}) is None else {self.sub_function(field.sub)}({temp}, ctx)"
                )
            entries.append(f"{field.key!r}: {value}")
        source = [
            f"def {name}(v, ctx):",
            "    if v.__class__ is list:",
            f"        return [{name}(item, ctx) for item in v]",
            "    return {" + ", ".join(entries) + "}",
        ]
        namespace = dict(self.names)
        exec(compile("\n".join(source), "<bulk writer>", "exec"), namespace)  # noqa: S102 — our own source
        return self.bind(namespace[name])

    def children(self, plan: Plan, obj: str, line: str, indent: str, own_id: str | None = None) -> None:
        """Loops that append each nested connection's child lines after the parent's line; `own_id`
        names a variable already holding the parent's id."""
        if not plan.children:
            return
        if own_id is None:
            own_id = f"id{next(self.counter)}"
            self.lines.append(f"{indent}{own_id} = {line}.get({ID_KEY!r})")
        for child_field in plan.children:
            assert child_field.connection is not None and child_field.fn is not None
            child, child_line = f"c{next(self.counter)}", f"l{next(self.counter)}"
            fn, args = self.bind(child_field.fn), self.bind(child_field.args)
            self.lines.append(f"{indent}for {child} in {fn}({obj}, {args}, ctx):")
            self.lines.append(
                f"{indent}    {child_line} = {self.display(child_field.connection, child, own_id)}"
            )
            self.lines.append(f"{indent}    append(dumps({child_line}, option=LINE))")
            self.children(child_field.connection, child, child_line, indent + "    ")


def compile_writer(plan: Plan) -> Writer:
    source = WriterSource()
    typename = source.bind(plan.typename)
    body = [
        "def write(o, ctx, malform):",
        f"    o['__typename'] = {typename}",
        f"    line = {source.display(plan, 'o', None)}",
        # Taken before a fault malforms the line: Shopify writes each child's `__parentId` from the
        # parent's real id, so a broken parent line never turns its children into parentless lines.
        f"    own_id = line.get({ID_KEY!r})",
        "    if malform is not None:",
        "        malform(line)",
        "    out = [dumps(line, option=LINE)]",
        "    append = out.append",
    ]
    source.lines = body
    source.children(plan, "o", "line", "    ", own_id="own_id")
    source.lines.append("    return out")
    namespace = dict(source.names)
    exec(compile("\n".join(source.lines), "<bulk writer>", "exec"), namespace)  # noqa: S102 — our own source
    return namespace["write"]


def project(
    plan: Plan, obj: dict[str, Any], ctx: GraphQLContext, parent_id: str | None
) -> Iterator[dict[str, Any]]:
    """The object's own line, then its children's lines (recursively); the reference the writer
    is tested against."""
    if plan.projector is None:
        plan.projector = compile_projector(plan)
    line = plan.projector(obj, ctx)
    if parent_id is not None:
        line["__parentId"] = parent_id
    yield line
    if not plan.children:
        return
    own_id = line.get(ID_KEY)
    for child_field in plan.children:
        assert child_field.connection is not None and child_field.fn is not None
        for child in child_field.fn(obj, child_field.args, ctx):
            yield from project(child_field.connection, child, ctx, own_id)


def forget_loaded(ctx: GraphQLContext) -> None:
    """Drop records memoised by references (`customer { email }` ...), keep the live-id sets: an
    export touches every row, so the memo would otherwise grow with the store."""
    for name in [key for key in ctx.cache if not key.startswith("live:")]:
        del ctx.cache[name]


class Counters:
    def __init__(self) -> None:
        self.objects = 0
        self.roots = 0
        self.bytes = 0


def write_records(
    plan: Plan,
    blobs: list[bytes],
    ctx: GraphQLContext,
    write: Callable[[bytes], Any],
    counters: Counters,
    malform: Callable[[dict[str, Any]], Any] | None,
) -> None:
    """Render a batch of stored records and write their lines in one chunk."""
    if plan.writer is None:
        plan.writer = compile_writer(plan)
    writer, loads, join = plan.writer, orjson.loads, b"".join
    parts: list[bytes] = []
    objects = 0
    for blob in blobs:
        lines = writer(loads(blob), ctx, malform)
        objects += len(lines)
        # One exact-size bytes per record: each orjson result holds a >= 4 KB buffer.
        parts.append(join(lines))
    chunk = join(parts)
    write(chunk)
    counters.objects += objects
    counters.roots += len(blobs)
    counters.bytes += len(chunk)


def write_record(
    plan: Plan,
    record: dict[str, Any],
    ctx: GraphQLContext,
    write: Callable[[bytes], Any],
    counters: Counters,
    malform: Callable[[dict[str, Any]], Any] | None,
) -> None:
    write_records(plan, [orjson.dumps(record)], ctx, write, counters, malform)
