"""Record tables lose their single-column `shop_id` index: the unique (shop, shopify_id) index leads
with `shop_id` and serves the same lookups. Only the index is dropped (the foreign keys stay as
they are, nothing is re-validated), so this is cheap on tables of any size."""

import django.db.models.deletion
from django.db import migrations, models

# (model, the index Django created for its `shop` foreign key)
SHOP_INDEXES = [
    ("customer", "shopsync_customer_shop_id_ddd9c7a9"),
    ("lineitem", "shopsync_lineitem_shop_id_04824c9d"),
    ("order", "shopsync_order_shop_id_8db63d6a"),
    ("product", "shopsync_product_shop_id_5f07e2ac"),
    ("productvariant", "shopsync_productvariant_shop_id_e586aea2"),
]


def _shop_field():
    return models.ForeignKey(
        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="shopsync.shop"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("shopsync", "0002_sync_sessions"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name=model, name="shop", field=_shop_field())
                for model, _ in SHOP_INDEXES
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "shopsync_{model}" ("shop_id")',
                )
                for model, index in SHOP_INDEXES
            ],
        )
    ]
