"""Client.search_text: name, phone and the contacts' names and phones on the client row, so that
the archive search is one condition (see clients.models.compose_search_text). Filled from the
existing rows; on PostgreSQL a pg_trgm GIN index serves 3+ character terms, and a covering
(branch) INCLUDE (id, search_text) index serves a branch's 2-character terms without the table."""

from django.conf import settings
from django.db import migrations, models

FILL_POSTGRESQL = r"""
UPDATE clients_client c
   SET search_text = concat_ws(E'\n', c.name, nullif(c.phone_normalized, ''), s.t)
  FROM clients_client c0
  LEFT JOIN (
        SELECT client_id,
               string_agg(concat_ws(E'\n', nullif(name, ''), nullif(phone_normalized, '')), E'\n' ORDER BY id) AS t
          FROM clients_contact GROUP BY client_id
       ) s ON s.client_id = c0.id
 WHERE c0.id = c.id
"""


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FILL_POSTGRESQL)
        return
    from clients.models import compose_search_text

    Client = apps.get_model("clients", "Client")
    Contact = apps.get_model("clients", "Contact")
    contacts = {}
    for client_id, name, phone in Contact.objects.order_by("pk").values_list("client_id", "name", "phone_normalized"):
        contacts.setdefault(client_id, []).append((name, phone))
    for pk, name, phone in Client.objects.values_list("pk", "name", "phone_normalized"):
        Client.objects.filter(pk=pk).update(search_text=compose_search_text(name, phone, contacts.get(pk, ())))


def trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS clients_client_search_trgm ON clients_client "
            "USING gin (search_text gin_trgm_ops)"
        )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS clients_client_search_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0004_client_name_index"),
        ("crm", "0002_schedules"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="historicalclient",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(trigram_index, drop_trigram_index),
        migrations.AddIndex(
            model_name="client",
            index=models.Index(fields=["branch"], include=("id", "search_text"), name="client_branch_search_idx"),
        ),
    ]
