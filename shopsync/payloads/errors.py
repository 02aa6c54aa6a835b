"""The one error an invalid Shopify payload raises, whatever its shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

MAX_REPORTED_ERRORS = 5


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class PayloadValidationError(ValueError):
    """A payload that does not match what we accept; nothing of it may be written.

    `resource` is the singular resource name ("order"), `shopify_id` the record's id when it could be
    read from the payload (else None), `fields` the payload paths that failed (e.g. "total_price",
    "totalPriceSet.shopMoney.amount", "line_items.0.quantity") and `errors` the full list.
    """

    def __init__(self, *, resource: str, shopify_id: int | None, errors: Sequence[FieldError]) -> None:
        self.resource = resource
        self.shopify_id = shopify_id
        self.errors = tuple(errors)
        self.fields = tuple(error.field for error in self.errors)
        super().__init__(self._describe())

    def _describe(self) -> str:
        label = f"{self.resource} {self.shopify_id}" if self.shopify_id is not None else self.resource
        return f"{label}: {self.field_summary()}"

    def field_summary(self) -> str:
        """The failed fields and why, without the record label (for callers that label it themselves)."""
        shown = "; ".join(f"{e.field}: {e.message}" for e in self.errors[:MAX_REPORTED_ERRORS])
        more = len(self.errors) - MAX_REPORTED_ERRORS
        return shown + (f" (and {more} more)" if more > 0 else "")

    @classmethod
    def from_pydantic(
        cls, error: ValidationError, *, resource: str, shopify_id: int | None, prefix: str = ""
    ) -> PayloadValidationError:
        errors = [
            FieldError(field=prefix + _field_path(detail["loc"]), message=detail["msg"])
            for detail in error.errors(include_url=False, include_context=False, include_input=False)
        ]
        return cls(resource=resource, shopify_id=shopify_id, errors=errors)

    @classmethod
    def not_an_object(cls, *, resource: str, payload: Any) -> PayloadValidationError:
        kind = type(payload).__name__
        return cls(
            resource=resource,
            shopify_id=None,
            errors=[FieldError(field="(payload)", message=f"Input should be an object, got {kind}")],
        )


def _field_path(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc) or "(payload)"


def readable_id(payload: Any, *keys: str) -> int | None:
    """The record's numeric id if any of `keys` holds one (a number, digits, or a GID), for messages."""
    if not isinstance(payload, Mapping):
        return None
    for key in keys:
        value = payload.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            tail = value.rpartition("/")[2].partition("?")[0]
            if tail.isdigit():
                return int(tail)
    return None
