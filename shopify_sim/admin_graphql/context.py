"""Per-request GraphQL context and access rules."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

if TYPE_CHECKING:
    from shopify_sim.shops import ShopState

ORDER_WINDOW_SECONDS = 60 * 86400  # without read_all_orders only the last 60 days are visible (§1.7)
DOCS = "https://shopify.dev/api/usage/access-scopes"


@dataclass
class GraphQLContext:
    shop: ShopState
    version: str
    scopes: frozenset[str]
    base_url: str
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def store(self) -> Any:
        return self.shop.store

    @property
    def offset(self) -> int:
        return self.shop.offset_minutes

    def all_orders(self) -> bool:
        return self.shop.options.read_all_orders and "read_all_orders" in self.scopes

    def order_visibility(self) -> tuple[str, list[Any]]:
        if self.all_orders():
            return "", []
        return "created_at >= ?", [int(time.time()) - ORDER_WINDOW_SECONDS]

    def require(self, scope: str, field_name: str) -> None:
        self.require_any((scope,), field_name)

    def require_any(self, scopes: tuple[str, ...], field_name: str) -> None:
        """Granted if the token has any of `scopes` (or the write_ scope implying it)."""
        for scope in scopes:
            if scope in self.scopes or scope.replace("read_", "write_") in self.scopes:
                return
        required = " or ".join(f"`{scope}`" for scope in scopes)
        noun = "access scope" if len(scopes) == 1 else "access scopes"
        raise GraphQLError(
            f"Access denied for {field_name} field. Required access: {required} {noun}.",
            extensions={
                "code": "ACCESS_DENIED",
                "documentation": DOCS,
                "requiredAccess": f"{required} {noun}.",
            },
        )


RESOURCE_SCOPES = {"orders": "read_orders", "customers": "read_customers", "products": "read_products"}
