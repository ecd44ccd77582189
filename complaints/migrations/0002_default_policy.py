"""The deadline policy in force (R16, R18) exists from the start, so the admin can edit it."""

from django.db import migrations


def create_policy(apps, schema_editor):
    apps.get_model("complaints", "DeadlinePolicy").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]

    operations = [migrations.RunPython(create_policy, migrations.RunPython.noop)]
