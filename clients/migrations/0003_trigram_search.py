"""PostgreSQL only: pg_trgm GIN indexes so that a Chinese substring search of the client and
contact names (``LIKE '%...%'``, i.e. Django's ``contains``) is served by an index. Other
databases (the embedded SQLite default) need nothing."""

from django.db import migrations

INDEXES = (
    ("clients_client_name_trgm", "clients_client", "name"),
    ("clients_contact_name_trgm", "clients_contact", "name"),
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("clients", "0002_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
