"""Drop the foreign keys' own indexes where a composite index starts with the same column: they
only cost every write. Only the index goes (SeparateDatabaseAndState): AlterField would drop and
re-add each foreign key constraint, checking every row again."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0010_covered_fk_indexes'),
        ('notifications', '0002_direct_messages'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='conversation',
                    name='incident',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='conversations', to='incidents.incident'),
                ),
                migrations.AlterField(
                    model_name='delivery',
                    name='conversation',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='notifications.conversation'),
                ),
                migrations.AlterField(
                    model_name='delivery',
                    name='incident',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='incidents.incident'),
                ),
            ],
            database_operations=[
                migrations.RunSQL("DROP INDEX IF EXISTS notifications_conversation_incident_id_61eb45e4",
                                  reverse_sql="CREATE INDEX notifications_conversation_incident_id_61eb45e4 ON notifications_conversation (incident_id)"),
                migrations.RunSQL("DROP INDEX IF EXISTS notifications_delivery_conversation_id_515b63c8",
                                  reverse_sql="CREATE INDEX notifications_delivery_conversation_id_515b63c8 ON notifications_delivery (conversation_id)"),
                migrations.RunSQL("DROP INDEX IF EXISTS notifications_delivery_incident_id_cdd4701a",
                                  reverse_sql="CREATE INDEX notifications_delivery_incident_id_cdd4701a ON notifications_delivery (incident_id)"),
            ],
        ),
    ]
