"""``make backup`` / ``make restore`` (crm/dbtools.py): a dump restored into a fresh database has
the source's tables with the same row counts, table by table."""

from __future__ import annotations

import uuid
from io import StringIO

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection

from crm import dbtools
from tests.clients.archive_helpers import make_client, make_need
from tests.clients.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)


def row_counts(cursor) -> dict[str, int]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [t for (t,) in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # nosec B608 - names from pg_tables
        counts[table] = cursor.fetchone()[0]
    return counts


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump / pg_restore: PostgreSQL only")
def test_a_backup_restores_into_a_fresh_database_table_by_table(org, tmp_path):
    for branch in ("east", "south"):
        client = make_client(org, branch)
        ContactFactory(client=client)
        make_need(org, branch, client=client)
    out = StringIO()
    call_command("backup", output=str(tmp_path / "crm.dump"), stdout=out)
    assert "backed up database" in out.getvalue()

    fresh = f"crm_restore_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{fresh}"')
    db = connection.settings_dict
    try:
        call_command("restore", str(tmp_path / "crm.dump"), database=fresh, stdout=out)
        assert f"into database {fresh}" in out.getvalue()
        with connection.cursor() as cursor:
            source = row_counts(cursor)
        target = psycopg2.connect(
            dbname=fresh,
            host=db["HOST"] or None,
            port=db["PORT"] or None,
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
        )
        try:
            with target.cursor() as cursor:
                restored = row_counts(cursor)
        finally:
            target.close()
        assert source["clients_client"] == 2 and source["clients_historicalclient"] >= 2
        assert restored == source
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')


def test_a_missing_backup_is_a_clear_error(db):
    with pytest.raises(Exception, match="no such backup"):
        dbtools.restore("backups/nothing-here.dump")
