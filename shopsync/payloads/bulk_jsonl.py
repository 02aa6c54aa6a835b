"""Streaming reader for bulk-operation JSONL: records in batches, children attached by `__parentId`.

Shopify writes each parent, then its children (line items / variants) as separate lines carrying
`"__parentId": "<parent GID>"`. The guide says children come *after* their parent, usually right
after it, but not necessarily (Shopify/shopify-api-ruby#729). So:

1. A parent is held until the batch is full and the next parent line arrives; the batch is then
   yielded with `resume_line` = that next parent's line, the line to resume from after a checkpoint.
2. A child whose parent is still held is attached to it. A child whose parent was already yielded
   (a late child) is attached to the kept copy and the parent is yielded *again* in a later batch,
   with all its children; the write path replaces its children then. Only the last `late_window`
   yielded parents are kept, so memory stays bounded; a child whose parent is unknown (beyond the
   window, before the resume point, or never seen) is reported as a child error naming that parent.
3. A line that fails (bad JSON, invalid record) is reported and reading continues:
   - an invalid root line is one error, `shopify_id` its id if readable (else None). The child lines
     right after it (up to the next root line) belong to it: they are dropped and named in that one
     error's `child_ids`, not reported one by one;
   - an invalid child takes its parent out of the batch (it would otherwise be written without that
     child, deleting it); the error has `is_child` set and `shopify_id` = the parent, which is what a
     caller dead-letters and refetches. A child's own id is only ever in `child_id` / `child_ids`.

Line numbers are 1-based. Lines are validated straight from bytes by pydantic-core (no dict
round trip); orjson only reads the ids of failed lines for the error report.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from shopsync.payloads.cleaning import NUL_ESCAPE, loads_without_nul
from shopsync.payloads.errors import FieldError, PayloadValidationError, readable_id
from shopsync.payloads.graphql import validate_node
from shopsync.payloads.records import AnyRecord
from shopsync.payloads.types import reference_id

PARENT_ID_KEY = b'"__parentId"'
DEFAULT_BATCH_SIZE = 1000
MAX_RAW_LINE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class BulkLineError:
    """One line that could not be used.

    `shopify_id` is always a top-level (root) record id, the one to refetch, or None if unreadable:
    for a root line its own id, for a child line (`is_child`) its parent's. Only root errors
    (`is_child` False) say where the export is: the roots are in id order, children name any parent.
    `child_id` is a failed child line's own id; `child_ids` are the children dropped with a failed root.
    """

    line_number: int
    shopify_id: int | None
    raw_line: bytes
    message: str
    is_child: bool = False
    child_id: int | None = None
    child_ids: tuple[int, ...] = ()


@dataclass(slots=True)
class BulkBatch:
    records: list[AnyRecord]
    errors: list[BulkLineError] = field(default_factory=list)
    # Checkpoint: every line before this one is in this batch or an earlier one (or reported);
    # pass it back as `start_line` to resume.
    resume_line: int = 1


@dataclass(frozen=True, slots=True)
class _ChildShape:
    """One connection child of a resource declaration: its JSONL lines carry `__parentId`."""

    attribute: str  # on the parent record: "line_items"
    label: str  # "line item"
    adapter: TypeAdapter
    build: Callable[..., Any]
    gid_type: bytes  # b"LineItem"
    also: tuple[bytes, ...] = ()  # other node types of the same connection (a Video among media)


class _Shape:
    """What the reader needs of a resource declaration (`shopsync.resources`): its root node and its
    connection children (inline list children are in the root's own line)."""

    def __init__(self, declaration: Any) -> None:
        self.name = declaration.singular
        self.parent_adapter = declaration.node_adapter
        self.build_parent = declaration.build
        self.children = tuple(
            _ChildShape(
                child.name,
                child.label,
                child.bulk_line_adapter,
                child.build,
                child.graphql_type.encode(),
                tuple(other.encode() for other in child.graphql_other_types),
            )
            for child in declaration.connection_children
        )
        self.child_name = " or ".join(child.label for child in self.children)

    def parent_record(self, line: bytes) -> AnyRecord:
        try:
            # The adapter's validator itself: this runs once per line of an export (millions). The
            # NUL check is a byte search; only a line that has one pays for decoding and cleaning.
            if NUL_ESCAPE in line and (cleaned := _decoded_without_nul(line)) is not None:
                node = self.parent_adapter.validator.validate_python(cleaned)
            else:
                node = self.parent_adapter.validator.validate_json(line)
        except ValidationError:
            validate_node(self.parent_adapter, line, resource=self.name)  # raises, naming id and field
            raise
        record = self.build_parent(node)
        for shape in self.children:
            # The export selects every connection: a root without child lines has none.
            if getattr(record, shape.attribute) is None:
                setattr(record, shape.attribute, [])
        return record

    def child(self, line: bytes) -> tuple[int, str, Any]:
        """(parent id, attribute on the parent record, child record)."""
        shape = self.children[0] if len(self.children) == 1 else self._child_shape(line)
        try:
            if shape is None:
                raise PayloadValidationError(
                    resource=self.name, shopify_id=_parent_id_of(line),
                    errors=[FieldError(field="id", message="not a child type this resource declares")],
                )  # fmt: skip
            if NUL_ESCAPE in line and (cleaned := _decoded_without_nul(line)) is not None:
                node = shape.adapter.validator.validate_python(cleaned)
            else:
                node = shape.adapter.validator.validate_json(line)
        except ValidationError as error:
            raise PayloadValidationError.from_pydantic(
                error, resource=self.name, shopify_id=_parent_id_of(line)
            ) from None
        return reference_id(node["__parentId"]), shape.attribute, shape.build(node)

    def child_label(self, line: bytes) -> str:
        """What a child line is ("line item"), for messages; the generic name if unknown."""
        shape = self.children[0] if len(self.children) == 1 else self._child_shape(line)
        return shape.label if shape is not None else self.child_name

    def _child_shape(self, line: bytes) -> _ChildShape | None:
        """With several connection children, a line's kind is the type of the first GID in it: every
        child selection starts with the node's own `id` (a rule of `shopsync.resources`), and
        Shopify writes fields in selection order."""
        at = line.find(b"gid://shopify/")
        gid_type = line[at + 14 : line.find(b"/", at + 14)] if at >= 0 else b""
        shape = next((shape for shape in self.children if shape.gid_type == gid_type), None)
        return shape or next((shape for shape in self.children if gid_type in shape.also), None)


@dataclass(slots=True)
class _BrokenRoot:
    """An invalid root line whose error stays open until the next root line, collecting its children."""

    line_number: int
    shopify_id: int | None
    raw_line: bytes
    message: str
    slot: int  # its place in the batch's error list, so errors stay in line order
    child_ids: list[int] = field(default_factory=list)
    unreadable_children: int = 0
    named_parents: set[int] = field(default_factory=set)

    def owns(self, parent_id: int | None) -> bool:
        # Without its own id, the broken root owns the child lines that follow it and name no parent
        # we hold: they cannot belong to a parent we parsed.
        return self.shopify_id is None or parent_id == self.shopify_id

    def error(self, child_name: str) -> BulkLineError:
        message = self.message
        if self.child_ids or self.unreadable_children:
            dropped = ", ".join(map(str, self.child_ids))
            unreadable = f" and {self.unreadable_children} without an id" if self.unreadable_children else ""
            message += (
                f"; its {child_name} lines were dropped with it: {dropped or 'none with an id'}{unreadable}"
            )
        if self.shopify_id is None and self.named_parents:
            message += f" (they name parent {', '.join(map(str, sorted(self.named_parents)))})"
        return BulkLineError(
            self.line_number, self.shopify_id, self.raw_line, message, child_ids=tuple(self.child_ids)
        )


class _Reader:
    def __init__(self, shape: _Shape, batch_size: int, late_window: int, on_error) -> None:
        self.shape = shape
        self.batch_size = batch_size
        self.late_window = late_window
        self.on_error = on_error
        self.pending: dict[int, AnyRecord] = {}
        self.recent: OrderedDict[int, AnyRecord] = OrderedDict()
        self.poisoned: OrderedDict[int, None] = OrderedDict()
        self.errors: list[BulkLineError | None] = []
        self.broken: _BrokenRoot | None = None

    def take_batch(self, resume_line: int) -> BulkBatch:
        self._close_broken()
        errors = [error for error in self.errors if error is not None]  # every slot is filled by now
        batch = BulkBatch(records=list(self.pending.values()), errors=errors, resume_line=resume_line)
        for shopify_id, record in self.pending.items():
            self._remember(self.recent, shopify_id, record)
        self.pending = {}
        self.errors = []
        return batch

    def parent_line(self, line_number: int, line: bytes) -> None:
        self._close_broken()
        try:
            record = self.shape.parent_record(line)
        except PayloadValidationError as error:
            if error.shopify_id is not None:
                self._poison(error.shopify_id)
            raw = bytes(line[:MAX_RAW_LINE_BYTES])
            self.broken = _BrokenRoot(line_number, error.shopify_id, raw, str(error), slot=len(self.errors))
            self.errors.append(None)  # filled in by _close_broken
            return
        self.recent.pop(record.shopify_id, None)
        self.poisoned.pop(record.shopify_id, None)
        self.pending[record.shopify_id] = record

    def child_line(self, line_number: int, line: bytes) -> None:
        try:
            parent_id, attribute, child = self.shape.child(line)
        except PayloadValidationError as error:
            self._invalid_child(line_number, line, error)
            return
        parent = self.pending.get(parent_id)
        if parent is None and parent_id in self.recent:
            # A late child: yield its parent again, now with every child it has.
            parent = self.pending[parent_id] = self.recent.pop(parent_id)
        if parent is not None:
            getattr(parent, attribute).append(child)
        elif self._dropped_with_broken_root(parent_id, child.shopify_id):
            return
        elif parent_id not in self.poisoned:
            label = next(c.label for c in self.shape.children if c.attribute == attribute)
            message = (
                f"{label} {child.shopify_id} of {self.shape.name} {parent_id}: its parent is not in reach"
            )
            self._report(line_number, parent_id, line, message, child_id=child.shopify_id)

    def _invalid_child(self, line_number: int, line: bytes, error: PayloadValidationError) -> None:
        parent_id = error.shopify_id
        child_id = _readable_id(line)
        if parent_id not in self.pending and parent_id not in self.recent:
            if self._dropped_with_broken_root(parent_id, child_id):
                return
            if parent_id in self.poisoned:
                return  # its parent is reported already
        if parent_id is not None:
            self._poison(parent_id)
        label = f"{self.shape.child_label(line)} {child_id if child_id is not None else '(no id)'}"
        message = f"{label} of {self.shape.name} {parent_id}: {error.field_summary()}"
        self._report(line_number, parent_id, line, message, child_id=child_id)

    def _dropped_with_broken_root(self, parent_id: int | None, child_id: int | None) -> bool:
        broken = self.broken
        if broken is None or not broken.owns(parent_id):
            return False
        if child_id is None:
            broken.unreadable_children += 1
        else:
            broken.child_ids.append(child_id)
        if parent_id is not None:
            broken.named_parents.add(parent_id)
        return True

    def _close_broken(self) -> None:
        broken, self.broken = self.broken, None
        if broken is None:
            return
        error = broken.error(self.shape.child_name)
        self.errors[broken.slot] = error
        if self.on_error is not None:
            self.on_error(error)

    def _poison(self, parent_id: int) -> None:
        self.pending.pop(parent_id, None)
        self.recent.pop(parent_id, None)
        self._remember(self.poisoned, parent_id, None)

    def _remember(self, window: OrderedDict, key: int, value) -> None:
        window[key] = value
        window.move_to_end(key)
        if len(window) > self.late_window:
            window.popitem(last=False)

    def _report(
        self, line_number: int, parent_id: int | None, line: bytes, message: str, *, child_id: int | None
    ) -> None:
        raw = bytes(line[:MAX_RAW_LINE_BYTES])
        error = BulkLineError(line_number, parent_id, raw, message, is_child=True, child_id=child_id)
        self.errors.append(error)
        if self.on_error is not None:
            self.on_error(error)


def read_bulk_jsonl(
    lines: Iterable[bytes],
    *,
    resource: Any,
    batch_size: int = DEFAULT_BATCH_SIZE,
    start_line: int = 1,
    late_window: int | None = None,
    on_error: Callable[[BulkLineError], None] | None = None,
) -> Iterator[BulkBatch]:
    """Yield `BulkBatch`es of up to `batch_size` parent records (a re-yielded parent may add a few),
    each with the errors found since the previous batch. Lines before `start_line` are skipped.
    `late_window` (default twice batch_size) is how many yielded parents stay reachable for late children.
    `resource` is a resource declaration (`shopsync.resources`) or its `Resource` member.
    """
    reader = _Reader(_Shape(_declaration(resource)), batch_size, late_window or 2 * batch_size, on_error)
    has_children = bool(reader.shape.children)
    line_number = start_line - 1
    for line_number, line in enumerate(lines, 1):
        if line_number < start_line or line.isspace() or not line:
            continue
        if has_children and PARENT_ID_KEY in line:
            reader.child_line(line_number, line)
            continue
        if len(reader.pending) >= batch_size:
            yield reader.take_batch(resume_line=line_number)
        reader.parent_line(line_number, line)
    if reader.pending or reader.errors:
        yield reader.take_batch(resume_line=max(line_number, start_line - 1) + 1)


def _declaration(resource: Any) -> Any:
    # A `Resource` member carries its declaration; this package sits below `shopsync.resources`
    # (the declarations are built from its parsers), so it never imports them.
    return getattr(resource, "declaration", resource)


def _decoded_without_nul(line: bytes) -> Any:
    """The line decoded and cleaned of NULs; None when it is not JSON (pydantic-core then reads the
    raw line and reports it the way it reports any other broken line)."""
    try:
        return loads_without_nul(line)
    except orjson.JSONDecodeError:
        return None


def _parent_id_of(line: bytes) -> int | None:
    """The parent's numeric id from a child line, read from the bytes (cheaper than a JSON parse)."""
    key_at = line.rfind(PARENT_ID_KEY)
    if key_at < 0:
        return None
    start = line.find(b'"', line.find(b":", key_at + len(PARENT_ID_KEY)) + 1)
    end = line.find(b'"', start + 1)
    value = line[start + 1 : end] if start >= 0 and end > start else b""
    tail = value[value.rfind(b"/") + 1 :]
    if not value.startswith(b"gid://shopify/") or not tail.isdigit() or len(tail) > 19:
        return None
    return int(tail)


def _readable_id(line: bytes) -> int | None:
    """A failed line's own id (its `id` / `legacyResourceId`), if the line is JSON at all."""
    try:
        node = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return readable_id(node, "id", "legacyResourceId")
