"""Backup and restore of the database named by DATABASE_URL (``make backup``, ``make restore``;
crm/management/commands/backup.py and restore.py).

PostgreSQL: ``pg_dump --format=custom`` into ``backups/crm-YYYYmmdd-HHMM.dump`` and
``pg_restore --clean --if-exists --no-owner`` back, so a restore replaces the tables it holds
and needs no role of the source. The embedded default (SQLite): SQLite's online backup API
(what ``sqlite3 .backup`` uses) into ``backups/crm-YYYYmmdd-HHMM.sqlite3`` and back, safe while
the web and the worker have the file open."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404 - runs pg_dump / pg_restore with argument lists, never a shell
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections
from django.utils import timezone

BACKUP_DIR = Path(settings.BASE_DIR) / "backups"


def is_sqlite(db: dict) -> bool:
    return db["ENGINE"] == "django.db.backends.sqlite3"


def database(alias: str = "default") -> dict:
    """The connection's settings (during tests, the test database)."""
    return connections[alias].settings_dict


def default_path(db: dict) -> Path:
    suffix = ".sqlite3" if is_sqlite(db) else ".dump"
    return BACKUP_DIR / f"crm-{timezone.localtime():%Y%m%d-%H%M}{suffix}"


def _pg_args(db: dict, name: str | None = None) -> tuple[list[str], dict]:
    args = ["--dbname", name or db["NAME"], "--no-password"]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])  # else ~/.pgpass, as for psql
    return args, env


def _run(command: list[str], env: dict) -> None:
    tool = shutil.which(command[0])
    if not tool:
        raise CommandError(f"{command[0]} not found: install the PostgreSQL client (postgresql-client).")
    done = subprocess.run([tool, *command[1:]], env=env, capture_output=True, text=True)  # nosec B603
    if done.returncode != 0:
        raise CommandError(f"{command[0]} failed ({done.returncode}):\n{done.stderr.strip()}")


def backup(path: Path | None = None, *, db: dict | None = None) -> Path:
    """Write a backup of the database; returns its path."""
    db = db or database()
    path = Path(path or default_path(db))
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_sqlite(db):
        with sqlite3.connect(db["NAME"]) as source, sqlite3.connect(path) as target:
            source.backup(target)
        return path
    args, env = _pg_args(db)
    _run(["pg_dump", "--format=custom", "--file", str(path), *args], env)
    return path


def restore(path: Path, *, db: dict | None = None, name: str | None = None) -> str:
    """Replace the database's contents (or database ``name``'s) with the backup at ``path``;
    returns the name of the database restored into."""
    db = db or database()
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"no such backup: {path}")
    if is_sqlite(db):
        target_name = name or db["NAME"]
        with sqlite3.connect(path) as source, sqlite3.connect(target_name) as target:
            source.backup(target)
        return str(target_name)
    args, env = _pg_args(db, name)
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--exit-on-error", *args, str(path)], env)
    return name or db["NAME"]
