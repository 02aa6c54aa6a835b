"""The write-path benchmark's baseline: parse each JSONL line with orjson and COPY the same rows
straight into the same tables, with no validation, no stage tables and no merge.

Which tables and columns: the write path's own (`shopsync.services.upsert.tables.TABLES`, derived
from the resource declarations and models), plus the columns the write path fills itself (row id,
shop, parent row, `synced_at`, the declaration's `insert_only` columns, `is_historical`). So every
table the write path writes is loaded, and a column a declaration adds is loaded too.

How a column's value is read from a GraphQL node: by `GRAPHQL` below where Shopify's name differs
from ours, else by convention against the keys of the declared selection (a bulk export writes
every selected key): the camelCase name (`source_name` -> `sourceName`), a reference's id for
`x_shopify_id` (`customer { id }`), a shop money amount for a money column (`total_tax` ->
`totalTaxSet`). A column neither names is refused before anything is written, with its name
(`tests/shopsync/payloads/test_bench_writepath_baseline.py` checks every declared column). Each
table's row builder is compiled once into one tuple display (as fast as a hand-written one).
Values the write path normalises into JSON (addresses, order extras) are normalised with the
product's own plain functions (no validation), so both sides store the same rows; text is blank-to-null as the write path has it; the comparison after a run is
case-blind (the write path lower-cases enums, the baseline copies them as they come).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from django.db import models

SYNCED_AT = "2026-01-01T00:00:00Z"

# How a column reads from its GraphQL node (`n`), where convention does not find it. A table's
# `prelude` runs once per node (its names are then used by the columns). Keyed by model name.
GRAPHQL: dict[str, dict[str, str]] = {
    "*": {
        "shopify_id": "tail(n['id'])",
        "shopify_created_at": "n.get('createdAt')",
        "shopify_updated_at": "n.get('updatedAt')",
        "body_html": "n.get('descriptionHtml')",
    },
    "order": {
        "prelude": "x = order_extras(n)",
        "order_number": "n['number']",
        "currency": "n['currencyCode']",
        "presentment_currency": "n['presentmentCurrencyCode']",
        "financial_status": "n['displayFinancialStatus']",
        "fulfillment_status": "n['displayFulfillmentStatus']",
        "shipping_address": "address(n['shippingAddress'])",
        # The extras, in `ORDER_EXTRA_COLUMNS` order (filled in below).
    },
    "lineitem": {
        "prelude": "x = line_item_extras(n)",
        "price": "amount(n['originalUnitPriceSet'])",
        "tax_lines": "x[0]",
        "discount_allocations": "x[1]",
    },
    "ordertransaction": {
        "prelude": "m = (n['amountSet'] or {}).get('presentmentMoney') or {}",
        "amount": "m.get('amount')",
        "currency": "m.get('currencyCode')",
    },
    "customer": {
        "prelude": "e = n['defaultEmailAddress'] or {}; p = n['defaultPhoneNumber'] or {}; s = n['amountSpent'] or {}",
        "email": "e.get('emailAddress')",
        "phone": "p.get('phoneNumber')",
        "orders_count": "n['numberOfOrders']",
        "amount_spent": "s.get('amount')",
        "amount_spent_currency": "s.get('currencyCode')",
        "default_address": "address(n['defaultAddress'])",
        "default_address_shopify_id": "default_address_id(n['defaultAddress'])",
        "email_marketing_state": "e.get('marketingState')",
        "email_marketing_opt_in_level": "e.get('marketingOptInLevel')",
        "email_marketing_updated_at": "e.get('marketingUpdatedAt')",
        "sms_marketing_state": "p.get('marketingState')",
        "sms_marketing_opt_in_level": "p.get('marketingOptInLevel')",
        "sms_marketing_updated_at": "p.get('marketingUpdatedAt')",
        "sms_marketing_collected_from": "p.get('marketingCollectedFrom')",
    },
    "customeraddress": {
        "shopify_id": "mailing_address_id(n['id'])",
        "country_code": "n['countryCodeV2']",
    },
    "productvariant": {
        "prelude": "o = [v.get('value') for v in n['selectedOptions'] or ()] + [None, None, None]; "
        "inv = n.get('inventoryItem') or {}",
        "option1": "o[0]",
        "option2": "o[1]",
        "option3": "o[2]",
        "inventory_tracked": "inv.get('tracked')",
        "unit_cost": "(inv.get('unitCost') or {}).get('amount')",
    },
    "refund": {"total_refunded": "presentment(n.get('totalRefundedSet'))"},
    "fulfillment": {
        "prelude": "t = (n.get('trackingInfo') or [{}])[0]; d = lower(n.get('displayStatus'))",
        "status": "lower(n.get('status'))",
        "display_status": "d",
        "shipment_status": "d if d in SHIPMENT_STATUSES else None",
        "tracking_company": "t.get('company') or None",
        "tracking_number": "t.get('number') or None",
        "tracking_url": "t.get('url') or None",
    },
    "inventorylevel": {
        "prelude": "q = {e['name']: e['quantity'] for e in n.get('quantities') or ()}",
        # A level's key is its inventory item (contract §8.1), not its composite GID.
        "shopify_id": "tail(n['item']['id'])",
        "available": "q.get('available')",
        "on_hand": "q.get('on_hand')",
        "committed": "q.get('committed')",
        "incoming": "q.get('incoming')",
    },
    "location": {
        "prelude": "a = n.get('address') or {}",
        **{
            column: f"blank(a.get('{key}'))"
            for column, key in (
                ("address1", "address1"),
                ("address2", "address2"),
                ("city", "city"),
                ("province", "province"),
                ("province_code", "provinceCode"),
                ("country_code", "countryCode"),
                ("zip", "zip"),
                ("phone", "phone"),
            )
        },
    },
    "productoption": {"option_values": "n['values']"},
    "productmedia": {
        "prelude": "i = n.get('image') or {}",
        "url": "i.get('url')",
        "width": "i.get('width')",
        "height": "i.get('height')",
    },
    "collection": {
        "prelude": "r = n['ruleSet']",
        "sort_order": "(n['sortOrder'] or '').replace('_', '-')",
        "kind": "'custom' if r is None else 'smart'",
        "rules": "[{k: (v.lower() if k != 'condition' else v) for k, v in rule.items()} for rule in (r or {}).get('rules') or ()]",
        "disjunctive": "None if r is None else r.get('appliedDisjunctively')",
        "image": "collection_image(n['image'])",
    },
}


def _namespace() -> dict[str, Any]:
    from shopsync.payloads.catalogue import _image
    from shopsync.payloads.customers import default_address_id, mailing_address_id
    from shopsync.payloads.order_children import SHIPMENT_STATUSES, _lower, _presentment
    from shopsync.payloads.order_extras import (
        ORDER_EXTRA_COLUMNS,
        line_item_extras_graphql,
        order_extras_graphql,
    )
    from shopsync.payloads.types import address_from_graphql, blank_to_none

    GRAPHQL["order"].update({column: f"x[{i}]" for i, column in enumerate(ORDER_EXTRA_COLUMNS)})
    return {
        "tail": lambda gid: gid[gid.rindex("/") + 1 :] if gid else None,
        "ref": lambda ref: ref["id"][ref["id"].rindex("/") + 1 :] if ref else None,
        "amount": lambda bag: bag["shopMoney"]["amount"] if bag else None,
        # None is SQL NULL, as the write path writes it (not a JSON null).
        "js": lambda value: None if value is None else orjson.dumps(value).decode(),
        "order_extras": order_extras_graphql,
        "line_item_extras": line_item_extras_graphql,
        "address": address_from_graphql,
        "default_address_id": default_address_id,
        "mailing_address_id": mailing_address_id,
        "collection_image": _image,
        "blank": blank_to_none,
        "lower": _lower,
        "presentment": _presentment,
        "SHIPMENT_STATUSES": SHIPMENT_STATUSES,
    }


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _reading(model: str, column: str, sample: dict[str, Any]) -> str | None:
    """How `column` reads from a node like `sample`, or None if neither `GRAPHQL` nor convention says."""
    for spec in (GRAPHQL.get(model, {}), GRAPHQL["*"]):
        if column in spec:
            return spec[column]
    key = _camel(column)
    if key in sample:
        return f"n[{key!r}]"
    if column.endswith("_shopify_id") and _camel(column.removesuffix("_shopify_id")) in sample:
        return f"ref(n[{_camel(column.removesuffix('_shopify_id'))!r}])"
    if f"{key}Set" in sample:
        return f"amount(n[{key + 'Set'!r}])"
    return None


@dataclass(eq=False)
class Table:
    """One table the baseline COPYs into: its columns (the write path's and its own) and row builder."""

    name: str
    model: type[models.Model]
    record_columns: tuple[str, ...]  # what the write path writes from the record, compared after a run
    columns: tuple[str, ...] = ()  # what the COPY lists
    build: Callable[..., tuple] | None = None  # (node, pk, parent pk, position) -> row
    numbered_column: str = ""
    parent_column: str = ""
    graphql_field: str = ""  # inline children: the list's key in the parent's node
    types: tuple[str, ...] = ()  # connection children: the node types of their JSONL lines
    own: tuple[tuple[str, str], ...] = ()  # (column, expression) the write path fills itself

    def compile(self, sample: dict[str, Any], namespace: dict[str, Any]) -> None:
        model = self.model._meta.model_name
        readings, missing = [], []
        for column in self.record_columns:
            if column == self.numbered_column:
                readings.append("position")
                continue
            reading = _reading(model, column, sample)
            if reading is None:
                missing.append(column)
                continue
            field = self.model._meta.get_field(column)
            if isinstance(field, models.JSONField):
                reading = f"js({reading})"
            elif isinstance(field, models.CharField | models.TextField):
                reading = f"({reading}) or None"
            readings.append(reading)
        if missing:
            raise SystemExit(
                f"bench/writepath/baseline.py: no GraphQL reading for {self.name}.{', '.join(missing)} "
                f"(its selection has {sorted(sample)}); add it to GRAPHQL[{model!r}]"
            )
        prelude = GRAPHQL.get(model, {}).get("prelude", "")
        source = (
            "def build(n, pk, parent, position):\n"
            + (f"    {prelude}\n" if prelude else "")
            + f"    return ({', '.join([*(e for _, e in self.own), *readings])},)\n"
        )
        scope = dict(namespace)
        exec(compile(source, f"<baseline {self.name}>", "exec"), scope)
        self.build = scope["build"]
        self.columns = (*(c for c, _ in self.own), *self.record_columns)


def _own_root_columns(parent) -> tuple[tuple[str, str], ...]:
    own = [("id", "pk"), ("shop_id", "shop_id"), ("synced_at", repr(SYNCED_AT))]
    own += [(column, repr(literal.strip("'"))) for column, literal in parent.insert_only]
    if parent.computes_is_historical:
        own.append(("is_historical", "False"))  # the bench shop has no cutover
    return tuple(own)


@dataclass
class ResourceTables:
    resource: str
    root: Table
    inline: tuple[Table, ...]
    connections: dict[str, Table]  # node type -> table

    @property
    def tables(self) -> list[Table]:
        return [self.root, *self.inline, *dict.fromkeys(self.connections.values())]


def resource_tables(resource: str, shop_id: int) -> ResourceTables:
    """The tables the write path writes for `resource`, from its declaration and `TABLES`."""
    from shopsync.resources import declaration_for
    from shopsync.services.upsert.tables import TABLES

    declaration = declaration_for(resource)
    parent = TABLES[declaration.name]
    root = Table(parent.table, parent.model, tuple(c.name for c in parent.columns))
    root.own = tuple((c, e.replace("shop_id", str(shop_id))) for c, e in _own_root_columns(parent))
    inline, connections = [], {}
    for child, table in zip(declaration.children, parent.children, strict=True):
        if child.children and (child.is_connection or not all(p.is_connection for p in child.children)):
            # A list's items' connections (a refund's line items) are not in a bulk line (Shopify
            # refuses a connection under a list): the sync reads them in a pass after the export,
            # which this benchmark does not time. Any other grandchild would be in the file.
            raise SystemExit(
                f"bench/writepath/baseline.py: {child.name} has children; teach the baseline them"
            )
        made = Table(
            table.table, table.model, tuple(c.name for c in table.columns),
            numbered_column=table.numbered_column, parent_column=table.parent_column,
            graphql_field=child.graphql_field, types=(child.graphql_type, *child.graphql_other_types),
            own=(("shop_id", str(shop_id)), (table.parent_column, "parent")),
        )  # fmt: skip
        if child.is_connection:
            connections.update(dict.fromkeys(made.types, made))
        else:
            inline.append(made)
    return ResourceTables(resource, root, tuple(inline), connections)


def node_type(gid: str) -> str:
    """`gid://shopify/MediaImage/1` -> `MediaImage`."""
    return gid[14 : gid.index("/", 14)]


def nodes(path: Path) -> Iterable[dict[str, Any]]:
    with path.open("rb") as lines:
        for line in lines:
            yield orjson.loads(line)


def selection_keys(fields: str) -> dict[str, None]:
    """The keys a node selected by `fields` has (a bulk export writes every selected key, null or
    not; an inline fragment's keys are the node's own)."""
    from graphql import parse
    from graphql.language import FieldNode, InlineFragmentNode

    def keys(selections) -> dict[str, None]:
        found: dict[str, None] = {}
        for selection in selections:
            if isinstance(selection, FieldNode):
                found[(selection.alias or selection.name).value] = None
            elif isinstance(selection, InlineFragmentNode):
                found.update(keys(selection.selection_set.selections))
        return found

    return keys(parse(f"{{ {fields} }}").definitions[0].selection_set.selections)


def compile_tables(tables: ResourceTables) -> None:
    """Each table's row builder, its columns read from a node of the declared selection."""
    from shopsync.resources import declaration_for

    declaration = declaration_for(tables.resource)
    selections = {tables.root.name: declaration.graphql_fields}
    selections.update({child.model._meta.db_table: child.graphql_fields for child in declaration.children})
    namespace = _namespace()
    for table in tables.tables:
        table.compile(selection_keys(selections[table.name]), namespace)


def load(cursor, tables: ResourceTables, path: Path, batch_size: int) -> int:
    """COPY the file's rows into every table, `batch_size` roots per transaction; returns the roots."""
    cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{tables.root.name}', 'id'))")
    pk = cursor.fetchone()[0] - 1
    rows: dict[str, list[tuple]] = {table.name: [] for table in tables.tables}
    root_rows = rows[tables.root.name]
    build_root = tables.root.build
    inline = [(table.graphql_field, table.build, rows[table.name]) for table in tables.inline]
    connections = {
        kind: (table.name, table.build, rows[table.name]) for kind, table in tables.connections.items()
    }
    written = 0
    # A child's place among its parent's children of the same table (a product's media: images and
    # videos alike), for a numbered column.
    position: dict[str, int] = {}
    for node in nodes(path):
        if "__parentId" in node:
            name, build, out = connections[node_type(node["id"])]
            position[name] = place = position.get(name, 0) + 1
            out.append(build(node, None, pk, place))
            continue
        if len(root_rows) >= batch_size:
            written += _copy(cursor, tables, rows)
        pk += 1
        position.clear()
        root_rows.append(build_root(node, pk, None, None))
        for field, build, out in inline:
            for place, child in enumerate(node.get(field) or (), 1):
                out.append(build(child, None, pk, place))
    written += _copy(cursor, tables, rows)
    if written:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{tables.root.name}', 'id'), {pk})")
    return written


def _copy(cursor, tables: ResourceTables, rows: dict[str, list[tuple]]) -> int:
    for table in tables.tables:
        found = rows[table.name]
        if found:
            with cursor.copy(f"COPY {table.name} ({', '.join(table.columns)}) FROM STDIN") as copy:
                for row in found:
                    copy.write_row(row)
    cursor.connection.commit()
    roots = len(rows[tables.root.name])
    for found in rows.values():
        found.clear()
    return roots


def expected_rows(tables: ResourceTables, path: Path) -> dict[str, int]:
    """Rows per table the file holds, counted apart from the loaders."""
    counts = dict.fromkeys((table.name for table in tables.tables), 0)
    for node in nodes(path):
        if "__parentId" in node:
            counts[tables.connections[node_type(node["id"])].name] += 1
            continue
        counts[tables.root.name] += 1
        for table in tables.inline:
            counts[table.name] += len(node.get(table.graphql_field) or ())
    return counts


# -- comparing what both sides wrote ----------------------------------------------------------------


def digest_sql(table: Table, parent: Table | None) -> str:
    """Rows and one digest per column (so a difference names its column): every column the write path
    writes from the record, as text in lower case (the write path lower-cases enums, inside the JSON
    columns too), each value hashed with its row's key (the parent's Shopify id and its own) and the
    hashes summed: one scan, no sort, the same digest whatever the rows' physical order."""
    join, key = "", "t.shopify_id::text"
    if parent is not None:
        join = f" JOIN {parent.name} AS p ON p.id = t.{table.parent_column}"
        key = "p.shopify_id::text || '/' || t.shopify_id::text"
    parts = ["count(*)"]
    for column in table.record_columns:
        value = f"coalesce(lower(t.{column}::text), '~')"
        parts.append(f"sum(('x' || substr(md5({key} || '|' || {value}), 1, 15))::bit(60)::bigint)::text")
    return f"SELECT {', '.join(parts)} FROM {table.name} AS t{join}"


def table_digests(conn, tables: ResourceTables) -> dict[str, dict]:
    found = {}
    for table in tables.tables:
        parent = None if table is tables.root else tables.root
        rows, *digests = conn.execute(digest_sql(table, parent)).fetchone()
        names = list(table.record_columns)
        found[table.name] = {"rows": rows, "columns": dict(zip(names, digests, strict=True))}
    return found


def differences(found: dict[str, dict], reference: dict[str, dict]) -> list[str]:
    """`table.column` whose content differs between two runs."""
    return [
        f"{table}.{column}"
        for table, seen in found.items()
        for column, digest in seen["columns"].items()
        if digest != reference[table]["columns"].get(column)
    ]
