"""WebhookLog keeps only the indexes a query needs, since each one costs every delivery's insert
on the request's path: the single-column `shop_id` and `created_at` indexes go (every lookup by
shop has a composite index that starts with it; nothing filters or sorts on `created_at`), and
`(shop, received_at)` comes for the health metrics. This is the busiest table of all, so on
PostgreSQL the new index is built CONCURRENTLY: deliveries keep being stored while it builds
(hence a non-atomic migration). Dropping an index is quick on any size of table."""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

DROPPED_INDEXES = [
    ("shop_id", "webhooks_webhooklog_shop_id_6f083a52"),
    ("created_at", "webhooks_webhooklog_created_at_80205b7b"),
]


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, a plain CREATE INDEX elsewhere (SQLite)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("shopsync", "0003_records_shop_index_from_unique_key"),
        ("webhooks", "0003_relay_outbox"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="webhooklog",
                    name="created_at",
                    field=models.DateTimeField(auto_now_add=True),
                ),
                migrations.AlterField(
                    model_name="webhooklog",
                    name="shop",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="webhook_logs",
                        to="shopsync.shop",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "webhooks_webhooklog" ("{column}")',
                )
                for column, index in DROPPED_INDEXES
            ],
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="webhooklog",
            index=models.Index(fields=["shop", "received_at"], name="webhooklog_shop_received"),
        ),
    ]
