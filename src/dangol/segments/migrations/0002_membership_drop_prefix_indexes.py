# The single-column indexes of a stay's segment and customer are prefixes of the
# (segment, exited_at) / (segment, entered_at) and (customer, entered_at) indexes. Dropped with
# DROP INDEX rather than AlterField, which would rebuild the whole table on SQLite.

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "segments_segmentmembership_segment_id_ee6ebe02": "segment_id",
    "segments_segmentmembership_customer_id_81d24cec": "customer_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_birthday_month_day"),
        ("segments", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    f'CREATE INDEX "{name}" ON "segments_segmentmembership" ("{column}")',
                )
                for name, column in INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="segmentmembership",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="segment_memberships",
                        to="customers.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="segmentmembership",
                    name="segment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="segments.segment",
                    ),
                ),
            ],
        ),
    ]
