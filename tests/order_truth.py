"""The order totals only GraphQL carries (`shopsync.payloads.order_extras.GRAPHQL_ONLY_TOTALS`) are not in
the simulator's truth record (a REST order, which has none); its truth row gives them apart, under
`graphql_totals`, keyed by the GraphQL field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shopsync.payloads.order_extras import GRAPHQL_ONLY_TOTALS

GRAPHQL_FIELDS = {"total_refunded": "totalRefundedSet", "net_payment": "netPaymentSet",
                  "total_received": "totalReceivedSet"}  # fmt: skip
assert set(GRAPHQL_FIELDS) == set(GRAPHQL_ONLY_TOTALS)


def with_graphql_totals(record: Any, truth_row: dict[str, Any]) -> Any:
    """`record` (a parsed truth order) with the totals its REST shape lacks, from its truth row."""
    for column, field_name in GRAPHQL_FIELDS.items():
        setattr(record, column, Decimal(truth_row["graphql_totals"][field_name]))
    return record
