from django.db import migrations


def create(apps, schema_editor):
    from incidents.defaults import SEVERITIES

    Severity = apps.get_model("incidents", "Severity")
    for row in SEVERITIES:
        Severity.objects.get_or_create(name=row["name"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
