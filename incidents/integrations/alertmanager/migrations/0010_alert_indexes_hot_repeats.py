"""No alert index holds last_seen_at any more, and on PostgreSQL the table keeps room on each page,
so a repeated alert (its last_seen_at and times_received moved) is a HOT update: the new row version
goes on the same page and no index is written. Each repeat had written a new entry in all seven
indexes of the table (docs/architecture.md section 10). The maintenance window's index keeps only
the few alerts a window holds. The fill factor applies to pages written from now on."""

import django.db.models.deletion
from django.db import migrations, models

FILLFACTOR = 60


def fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE alertmanager_alert SET (fillfactor = {FILLFACTOR})")


def default_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE alertmanager_alert RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("alertmanager", "0009_webhookdelivery_body_text"),
        ("incidents", "0010_covered_fk_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(fields=["incident", "status"], name="alert_incident_status"),
        ),
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(fields=["integration"], name="alert_integration"),
        ),
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(condition=models.Q(("maintenance_window__isnull", False)),
                               fields=["maintenance_window"], name="alert_held_by_window"),
        ),
        migrations.RemoveIndex(model_name="alert", name="alert_integration_last_seen"),
        migrations.RemoveIndex(model_name="alert", name="alert_incident_status_seen"),
        migrations.AlterField(
            model_name="alert",
            name="maintenance_window",
            field=models.ForeignKey(blank=True, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL, related_name="alerts",
                                    to="alertmanager.maintenancewindow"),
        ),
        migrations.RunPython(fillfactor, default_fillfactor),
    ]
