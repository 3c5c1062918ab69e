"""Creating and expiring silences needs a permission, not just a login (docs/security.md).

Adds ``alertmanager.manage_silences`` and a "Responders" group holding it, so granting it is one
step: add the user to the group (admin, Users). Nobody is added automatically: before this, any
signed-in user could silence; now staff, superusers and the group's members can.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

GROUP = "Responders"
CODENAME = "manage_silences"
NAME = "Can create and expire Alertmanager silences"


def create_group(apps: Any, schema_editor: Any) -> None:
    # Permissions are normally created after all migrations (post_migrate), so make this one now.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="alertmanager", model="silence")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=CODENAME, defaults={"name": NAME}
    )
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(permission)


def remove_group(apps: Any, schema_editor: Any) -> None:
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("alertmanager", "0002_alter_integration_alertmanager_url"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="silence",
            options={
                "ordering": ["-created_at"],
                "permissions": [(CODENAME, NAME)],
            },
        ),
        migrations.RunPython(create_group, remove_group),
    ]
