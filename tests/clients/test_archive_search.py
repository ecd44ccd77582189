"""Search on PostgreSQL: the trigram migrations' indexes exist, a Chinese substring search is a
plain ``LIKE '%...%'`` (served by the GIN trigram index), not ``UPPER(...) LIKE``, and the
client's search text stays in step with its name, phone and contacts."""

import importlib

from django.apps import apps as global_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients import services, tasks
from clients.models import Client, Contact, compose_search_text
from clients.selectors import search_q

from .archive_helpers import make_client, make_plan


def found(term):
    return set(Client.objects.filter(search_q(term)).values_list("pk", flat=True))


def test_trigram_indexes_exist(db):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'clients_%%_name_trgm'"
        )
        rows = dict(cursor.fetchall())
    assert set(rows) == {"clients_client_name_trgm", "clients_contact_name_trgm"}
    assert all("gin_trgm_ops" in d for d in rows.values())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
            "('clients_client_search_trgm', 'client_branch_search_idx')"
        )
        rows = dict(cursor.fetchall())
    assert "gin_trgm_ops" in rows["clients_client_search_trgm"]
    assert "INCLUDE (id, search_text)" in rows["client_branch_search_idx"]


def test_search_text_follows_contacts_and_renames(org):
    """A contact added, renamed or deleted through the service or the model changes what finds
    the client at once; so does renaming the client. Two-character terms work too."""
    client = make_client(org, name="成都锦程置业有限公司", phone="028-85551234")
    other = make_client(org, name="成都瑞丰实业集团有限公司")
    staff = org["east_staff"]
    assert found("锦程") == {client.pk} and found("85551234") == {client.pk}

    contact = services.contact_save(
        contact=Contact(client=client, name="欧阳靖", phone="13900001111"), by=staff
    )
    assert found("欧阳") == {client.pk} and found("13900001111") == {client.pk}

    contact.name = "司马磊"
    services.contact_save(contact=contact, by=staff)
    assert found("欧阳") == set() and found("司马磊") == {client.pk}

    contact.delete()
    assert found("司马") == set()

    Contact.objects.create(client=client, name="上官婉", phone="")
    assert found("上官") == {client.pk}
    Contact.objects.filter(client=client).delete()  # a queryset delete, as the admin's bulk action
    assert found("上官") == set()

    client.name = "成都锦程天府置业有限公司"
    client.save()
    assert found("天府") == {client.pk} and found("瑞丰") == {other.pk}
    client.refresh_from_db()
    assert client.search_text == compose_search_text(client.name, client.phone_normalized, [])


def test_search_text_migration_fill_matches_the_model(org):
    """The migration's SQL fill (PostgreSQL) composes exactly what the model composes."""
    client = make_client(org, name="成都海悦城市建设投资有限公司", phone="028-66667777")
    for name, phone in (("林晓", "13811112222"), ("王芳", ""), ("赵一鸣", "028-1234567")):
        Contact.objects.create(client=client, name=name, phone=phone)
    bare = make_client(org, name="成都御景商业管理有限公司", phone="")
    expected = dict(Client.objects.values_list("pk", "search_text"))
    assert "赵一鸣" in expected[client.pk] and expected[bare.pk] == "成都御景商业管理有限公司"
    Client.objects.update(search_text="")

    migration = importlib.import_module("clients.migrations.0005_search_text")
    with connection.schema_editor() as editor:
        migration.fill(global_apps, editor)
    assert dict(Client.objects.values_list("pk", "search_text")) == expected


def test_chinese_search_uses_like_not_upper(org):
    c = make_client(org, name="成都天府新区投资集团有限公司")
    with CaptureQueriesContext(connection) as ctx:
        assert list(Client.objects.filter(search_q("天府新区"))) == [c]
    sql = ctx.captured_queries[-1]["sql"]
    assert "LIKE" in sql and "UPPER(" not in sql


def test_overdue_visits_task_is_thin_and_idempotent(org):
    make_plan(org, overdue=True)
    assert tasks.notify_overdue_visits() == 2
    assert tasks.notify_overdue_visits() == 0
