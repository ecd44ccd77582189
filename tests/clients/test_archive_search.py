"""Search on PostgreSQL: the trigram migration's indexes exist, and a Chinese substring search
is a plain ``LIKE '%...%'`` (served by the GIN trigram index), not ``UPPER(...) LIKE``."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients import tasks
from clients.models import Client
from clients.selectors import search_q

from .archive_helpers import make_client, make_plan


def test_trigram_indexes_exist(db):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'clients_%%_name_trgm'"
        )
        rows = dict(cursor.fetchall())
    assert set(rows) == {"clients_client_name_trgm", "clients_contact_name_trgm"}
    assert all("gin_trgm_ops" in d for d in rows.values())


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
