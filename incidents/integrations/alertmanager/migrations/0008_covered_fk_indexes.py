"""Drop the foreign keys' own indexes where a composite index starts with the same column: they
only cost every write. Only the index goes (SeparateDatabaseAndState): AlterField would drop and
re-add each foreign key constraint, checking every row again."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('alertmanager', '0007_newest_indexes'),
        ('incidents', '0010_covered_fk_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='alert',
                    name='incident',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='incidents.incident'),
                ),
                migrations.AlterField(
                    model_name='alert',
                    name='integration',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='alertmanager.integration'),
                ),
                migrations.AlterField(
                    model_name='webhookdelivery',
                    name='incident',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='incidents.incident'),
                ),
            ],
            database_operations=[
                migrations.RunSQL("DROP INDEX IF EXISTS alertmanager_alert_incident_id_6ee99090",
                                  reverse_sql="CREATE INDEX alertmanager_alert_incident_id_6ee99090 ON alertmanager_alert (incident_id)"),
                migrations.RunSQL("DROP INDEX IF EXISTS alertmanager_alert_integration_id_b1ab5650",
                                  reverse_sql="CREATE INDEX alertmanager_alert_integration_id_b1ab5650 ON alertmanager_alert (integration_id)"),
                migrations.RunSQL("DROP INDEX IF EXISTS alertmanager_webhookdelivery_incident_id_a18467dd",
                                  reverse_sql="CREATE INDEX alertmanager_webhookdelivery_incident_id_a18467dd ON alertmanager_webhookdelivery (incident_id)"),
            ],
        ),
    ]
