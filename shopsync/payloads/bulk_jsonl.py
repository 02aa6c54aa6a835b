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
   window, before the resume point, or never seen) is reported as an error naming that parent.
3. A line that fails (bad JSON, invalid record) is reported and reading continues. An invalid child
   takes its parent out of the batch (it would otherwise be written without that child, deleting
   it); the error names the parent, which is what a caller dead-letters and refetches.

Line numbers are 1-based. Lines are validated straight from bytes by pydantic-core (no dict
round trip); orjson only reads the ids of failed lines for the error report.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from pydantic import TypeAdapter, ValidationError

from shopsync.payloads.errors import PayloadValidationError
from shopsync.payloads.graphql import (
    CUSTOMER,
    LINE_ITEM_LINE,
    ORDER,
    PRODUCT,
    VARIANT_LINE,
    customer_record,
    line_item_record,
    order_record,
    product_record,
    validate_node,
    variant_record,
)
from shopsync.payloads.records import (
    AnyRecord,
    LineItemRecord,
    OrderRecord,
    ProductRecord,
    Resource,
    VariantRecord,
)
from shopsync.payloads.types import gid_to_int

PARENT_ID_KEY = b'"__parentId"'
DEFAULT_BATCH_SIZE = 1000
MAX_RAW_LINE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class BulkLineError:
    """One line that could not be used. `shopify_id` is the top-level record to refetch: the record
    itself, or the parent of a failed/orphaned child line (None if unreadable)."""

    line_number: int
    shopify_id: int | None
    raw_line: bytes
    message: str


@dataclass(slots=True)
class BulkBatch:
    records: list[AnyRecord]
    errors: list[BulkLineError] = field(default_factory=list)
    # Checkpoint: every line before this one is in this batch or an earlier one (or reported);
    # pass it back as `start_line` to resume.
    resume_line: int = 1


@dataclass(frozen=True, slots=True)
class _Shape:
    resource: Resource
    parent_adapter: TypeAdapter
    build_parent: Callable[..., AnyRecord]
    child_adapter: TypeAdapter | None = None
    build_child: Callable[..., LineItemRecord | VariantRecord] | None = None

    @property
    def name(self) -> str:
        return self.resource.singular

    def parent_record(self, line: bytes) -> AnyRecord:
        return self.build_parent(validate_node(self.parent_adapter, line, resource=self.name))

    def child(self, line: bytes) -> tuple[int, LineItemRecord | VariantRecord]:
        try:
            node = self.child_adapter.validate_json(line)
        except ValidationError as error:
            raise PayloadValidationError.from_pydantic(
                error, resource=self.name, shopify_id=_parent_id_of(line)
            ) from None
        return gid_to_int(node["__parentId"]), self.build_child(node)


SHAPES = {
    Resource.ORDERS: _Shape(Resource.ORDERS, ORDER, order_record, LINE_ITEM_LINE, line_item_record),
    Resource.CUSTOMERS: _Shape(Resource.CUSTOMERS, CUSTOMER, customer_record),
    Resource.PRODUCTS: _Shape(Resource.PRODUCTS, PRODUCT, product_record, VARIANT_LINE, variant_record),
}


def _children(record: AnyRecord) -> list:
    if isinstance(record, OrderRecord):
        return record.line_items
    if isinstance(record, ProductRecord):
        return record.variants
    raise TypeError(f"{type(record).__name__} has no children")


class _Reader:
    def __init__(self, shape: _Shape, batch_size: int, late_window: int, on_error) -> None:
        self.shape = shape
        self.batch_size = batch_size
        self.late_window = late_window
        self.on_error = on_error
        self.pending: dict[int, AnyRecord] = {}
        self.recent: OrderedDict[int, AnyRecord] = OrderedDict()
        self.poisoned: OrderedDict[int, None] = OrderedDict()
        self.errors: list[BulkLineError] = []

    def take_batch(self, resume_line: int) -> BulkBatch:
        batch = BulkBatch(records=list(self.pending.values()), errors=self.errors, resume_line=resume_line)
        for shopify_id, record in self.pending.items():
            self._remember(self.recent, shopify_id, record)
        self.pending = {}
        self.errors = []
        return batch

    def parent_line(self, line_number: int, line: bytes) -> None:
        try:
            record = self.shape.parent_record(line)
        except PayloadValidationError as error:
            if error.shopify_id is not None:
                self._poison(error.shopify_id)
            self._report(line_number, error.shopify_id, line, str(error))
            return
        self.recent.pop(record.shopify_id, None)
        self.poisoned.pop(record.shopify_id, None)
        self.pending[record.shopify_id] = record

    def child_line(self, line_number: int, line: bytes) -> None:
        try:
            parent_id, child = self.shape.child(line)
        except PayloadValidationError as error:
            parent_id = error.shopify_id
            if parent_id is not None and parent_id not in self.poisoned:
                self._poison(parent_id)
            self._report(line_number, parent_id, line, str(error))
            return
        parent = self.pending.get(parent_id)
        if parent is None and parent_id in self.recent:
            # A late child: yield its parent again, now with every child it has.
            parent = self.pending[parent_id] = self.recent.pop(parent_id)
        if parent is not None:
            _children(parent).append(child)
        elif parent_id not in self.poisoned:
            message = f"{self.shape.name} {parent_id}: child line whose parent is not in reach"
            self._report(line_number, parent_id, line, message)

    def _poison(self, parent_id: int) -> None:
        self.pending.pop(parent_id, None)
        self.recent.pop(parent_id, None)
        self._remember(self.poisoned, parent_id, None)

    def _remember(self, window: OrderedDict, key: int, value) -> None:
        window[key] = value
        window.move_to_end(key)
        if len(window) > self.late_window:
            window.popitem(last=False)

    def _report(self, line_number: int, shopify_id: int | None, line: bytes, message: str) -> None:
        error = BulkLineError(line_number, shopify_id, bytes(line[:MAX_RAW_LINE_BYTES]), message)
        self.errors.append(error)
        if self.on_error is not None:
            self.on_error(error)


def read_bulk_jsonl(
    lines: Iterable[bytes],
    *,
    resource: Resource,
    batch_size: int = DEFAULT_BATCH_SIZE,
    start_line: int = 1,
    late_window: int | None = None,
    on_error: Callable[[BulkLineError], None] | None = None,
) -> Iterator[BulkBatch]:
    """Yield `BulkBatch`es of up to `batch_size` parent records (a re-yielded parent may add a few),
    each with the errors found since the previous batch. Lines before `start_line` are skipped.
    `late_window` (default twice batch_size) is how many yielded parents stay reachable for late children.
    """
    reader = _Reader(SHAPES[resource], batch_size, late_window or 2 * batch_size, on_error)
    has_children = reader.shape.child_adapter is not None
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
