"""Generate a bulk-operation style JSONL file of orders (GraphQL shape, line items as `__parentId` lines,
two transactions inline in each order's line), shaped like what `shopsync.payloads.graphql_fields`
selects (`ORDER_FIELDS`, `LINE_ITEM_FIELDS`, `TRANSACTION_FIELDS`) and the simulator exports.

Transactions follow the order's financial status, two per order (the simulator's stores average
about 1.6): PAID = an authorization and its capture, PENDING = a declined sale and a pending one,
REFUNDED = a sale and its refund."""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)
ORDER_ID_BASE = 5_000_000_000_000
LINE_ITEM_ID_BASE = 13_000_000_000_000
TRANSACTION_ID_BASE = 5_700_000_000_000
TRANSACTIONS_PER_ORDER = 2
# (kind, status, error code, parent: the previous transaction) per financial status.
TRANSACTION_PLANS = {
    "PAID": (("AUTHORIZATION", "SUCCESS", None, False), ("CAPTURE", "SUCCESS", None, True)),
    "PENDING": (("SALE", "FAILURE", "CARD_DECLINED", False), ("SALE", "PENDING", None, False)),
    "REFUNDED": (("SALE", "SUCCESS", None, False), ("REFUND", "SUCCESS", None, True)),
}


def _money(amount: str) -> dict:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def transactions(index: int, status: str, total: str, created: datetime) -> list[dict]:
    """The order's transactions as `TRANSACTION_FIELDS` selects them (inline in the order's line)."""
    made: list[dict] = []
    for position, (kind, tx_status, error_code, has_parent) in enumerate(TRANSACTION_PLANS[status]):
        transaction_id = TRANSACTION_ID_BASE + index * TRANSACTIONS_PER_ORDER + position
        at = _stamp(created + timedelta(seconds=30 * position))
        made.append(
            {
                "id": f"gid://shopify/OrderTransaction/{transaction_id}",
                "kind": kind,
                "status": tx_status,
                "gateway": "shopify_payments",
                "amountSet": {
                    "presentmentMoney": {"amount": total, "currencyCode": "USD"},
                    "shopMoney": {"amount": total, "currencyCode": "USD"},
                },
                "createdAt": at,
                "processedAt": at,
                "parentTransaction": {"id": made[-1]["id"]} if has_parent else None,
                "errorCode": error_code,
                "test": False,
                "authorizationCode": f"{transaction_id % 100_000_000:08d}"
                if tx_status == "SUCCESS"
                else None,
            }
        )
    return made


def order_lines(index: int, items_per_order: int, rng: random.Random) -> list[bytes]:
    order_id = ORDER_ID_BASE + index
    gid = f"gid://shopify/Order/{order_id}"
    created = BASE_TIME + timedelta(seconds=index * 7)
    prices = [f"{rng.randint(100, 20000) / 100:.2f}" for _ in range(items_per_order)]
    total = f"{sum(float(p) for p in prices):.2f}"
    order = {
        "id": gid,
        "legacyResourceId": str(order_id),
        "name": f"#{1001 + index}",
        "number": 1001 + index,
        "email": f"customer{index % 5000}@example.com",
        "phone": None,
        "createdAt": _stamp(created),
        "updatedAt": _stamp(created + timedelta(minutes=5)),
        "processedAt": _stamp(created),
        "cancelledAt": None,
        "cancelReason": None,
        "closedAt": None,
        "currencyCode": "USD",
        "presentmentCurrencyCode": "USD",
        "displayFinancialStatus": (status := rng.choice(["PAID", "PENDING", "REFUNDED"])),
        "displayFulfillmentStatus": rng.choice(["FULFILLED", "UNFULFILLED"]),
        "totalPriceSet": _money(total),
        "subtotalPriceSet": _money(total),
        "totalTaxSet": _money("0.00"),
        "totalDiscountsSet": _money("0.00"),
        "tags": ["bench", f"batch-{index % 10}"],
        "note": None,
        "test": False,
        "customer": {"id": f"gid://shopify/Customer/{7_000_000 + index % 5000}"},
        "shippingAddress": {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "name": "Ada Lovelace",
            "company": None,
            "address1": f"{index} Main St",
            "address2": None,
            "city": "Springfield",
            "province": "Oregon",
            "provinceCode": "OR",
            "country": "United States",
            "countryCodeV2": "US",
            "zip": "97475",
            "phone": None,
        },
        "transactions": transactions(index, status, total, created),
    }
    lines = [orjson.dumps(order)]
    for position, price in enumerate(prices):
        item_id = LINE_ITEM_ID_BASE + index * items_per_order + position
        item = {
            "id": f"gid://shopify/LineItem/{item_id}",
            "sku": f"SKU-{item_id % 997}",
            "title": f"Widget {item_id % 997}",
            "variantTitle": "Default Title",
            "vendor": "Acme",
            "quantity": rng.randint(1, 5),
            "variant": {"id": f"gid://shopify/ProductVariant/{40_000_000 + item_id % 997}"},
            "product": {"id": f"gid://shopify/Product/{30_000_000 + item_id % 997}"},
            "originalUnitPriceSet": _money(price),
            "totalDiscountSet": _money("0.00"),
            "__parentId": gid,
        }
        lines.append(orjson.dumps(item))
    return lines


def write_orders_jsonl(path: Path, *, orders: int, items_per_order: int = 3, seed: int = 1) -> Path:
    rng = random.Random(seed)
    with path.open("wb") as out:
        for index in range(orders):
            out.write(b"\n".join(order_lines(index, items_per_order, rng)) + b"\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=3)
    args = parser.parse_args()
    write_orders_jsonl(args.path, orders=args.orders, items_per_order=args.items)


if __name__ == "__main__":
    main()
