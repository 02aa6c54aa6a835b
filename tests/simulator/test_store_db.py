"""The store's SQLite layout: a data dir written before variants had their own blobs still opens."""

from __future__ import annotations

import orjson

from shopify_sim.options import ShopOptions
from shopify_sim.store import Store
from shopify_sim.store.generator import Generator


def test_a_store_without_variant_blobs_is_rebuilt_from_its_products_when_opened(tmp_path):
    # given: a generated store whose variants table has the old layout (id, product_id)
    path = str(tmp_path / "old.sqlite3")
    store = Store(path)
    Generator(store, ShopOptions(orders=5, customers=5, products=6, seed=2), lambda *a, **k: None).run()
    products = [orjson.loads(row[0]) for row in store.conn().execute("SELECT data FROM products")]
    conn = store.conn()
    conn.execute("DROP TABLE variants")
    conn.execute("CREATE TABLE variants (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL)")
    conn.executemany(
        "INSERT INTO variants (id, product_id) VALUES (?, ?)",
        [(v["id"], p["id"]) for p in products for v in p["variants"]],
    )
    store.close()
    # when
    reopened = Store(path)
    reopened.init_schema()
    rows = reopened.conn().execute(
        "SELECT id, product_id, created_at, updated_at, data FROM variants ORDER BY id"
    )
    # then
    expected = sorted(
        ((v["id"], p["id"], v["created_at"], v["updated_at"], v) for p in products for v in p["variants"]),
        key=lambda row: row[0],
    )
    assert [(*row[:4], orjson.loads(row[4])) for row in rows] == expected
    indexes = {
        row[0] for row in reopened.conn().execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    assert {"variants_updated", "variants_created", "variants_product"} <= indexes
    reopened.close()
