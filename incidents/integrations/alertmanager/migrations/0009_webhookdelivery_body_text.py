"""Raw webhook bodies as text, compressed with lz4 on PostgreSQL: parsing each body into jsonb
and compressing it with pglz cost the database about 0.8 ms of CPU per 47 KB post, for a column
that is only ever shown as text (docs/security.md, "Raw webhook deliveries")."""

from django.db import migrations, models

# lz4 needs PostgreSQL 14+ built with it (Debian's and the official images are); otherwise the
# column keeps the server's default compression. EXECUTE parses the statement when it runs, so an
# older server's syntax error is caught below rather than failing the block before it starts.
LZ4 = """
DO $$
BEGIN
    EXECUTE 'ALTER TABLE alertmanager_webhookdelivery ALTER COLUMN body SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value OR syntax_error THEN
    NULL;
END $$;
"""


def lz4(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LZ4)


class Migration(migrations.Migration):
    dependencies = [("alertmanager", "0008_covered_fk_indexes")]

    operations = [
        migrations.AlterField(model_name="webhookdelivery", name="body", field=models.TextField()),
        migrations.RunPython(lz4, migrations.RunPython.noop),
    ]
