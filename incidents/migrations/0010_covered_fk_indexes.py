"""Drop the foreign keys' own indexes where a composite index starts with the same column: they
only cost every write. Only the index goes (SeparateDatabaseAndState): AlterField would drop and
re-add each foreign key constraint, checking every row again."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0009_newest_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='incident',
                    name='severity',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='incidents', to='incidents.severity'),
                ),
                migrations.AlterField(
                    model_name='timelineevent',
                    name='incident',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='incidents.incident'),
                ),
            ],
            database_operations=[
                migrations.RunSQL("DROP INDEX IF EXISTS incidents_incident_severity_id_880448e4",
                                  reverse_sql="CREATE INDEX incidents_incident_severity_id_880448e4 ON incidents_incident (severity_id)"),
                migrations.RunSQL("DROP INDEX IF EXISTS incidents_timelineevent_incident_id_8c8ba3f0",
                                  reverse_sql="CREATE INDEX incidents_timelineevent_incident_id_8c8ba3f0 ON incidents_timelineevent (incident_id)"),
            ],
        ),
    ]
