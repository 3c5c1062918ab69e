# Indexes for the bounded alerts panel (models.Alert.Meta says which query each one serves). The new
# (incident, status, last_seen_at) index replaces (incident, status), whose queries use its prefix;
# it is created before the old one is dropped so those queries always have an index.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('alertmanager', '0004_alert_links'),
        ('incidents', '0003_incident_incident_group_latest'),
    ]

    operations = [
        # Counts by state and the panel's version token: COUNT(*) per status, MAX(last_seen_at).
        migrations.AddIndex(
            model_name='alert',
            index=models.Index(fields=['incident', 'status', 'last_seen_at'], name='alert_incident_status_seen'),
        ),
        # One page of an incident's alerts, newest first (ORDER BY starts_at DESC, id DESC LIMIT 50).
        migrations.AddIndex(
            model_name='alert',
            index=models.Index(fields=['incident', 'starts_at', 'id'], name='alert_incident_started'),
        ),
        migrations.RemoveIndex(
            model_name='alert',
            name='alert_incident_status',
        ),
    ]
