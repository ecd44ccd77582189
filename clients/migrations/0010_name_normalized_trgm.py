"""PostgreSQL only: a pg_trgm GIN index of the normalized client name, which serves the
similar-name candidates of R10 (clients.services.similar_name_clients). Other databases (the
embedded SQLite default) need nothing."""

from django.db import migrations

INDEX = "clients_client_name_normalized_trgm"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON clients_client USING gin (name_normalized gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("clients", "0009_version")]

    operations = [migrations.RunPython(forwards, backwards)]
