"""What parallel requests need from the database, shared by every app: a transaction-level lock
on a value that is not yet a row (a normalized client name, R10), and the translation of a
unique constraint the database enforced into the field message a person or API client reads
(never a 500). Optimistic locking of edited rows is crm.models.Versioned."""

from __future__ import annotations

import hashlib
import re

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, models


def _lock_id(key: str) -> int:
    """A stable signed 64-bit id for pg_advisory_xact_lock (Python's hash() varies per process)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def lock_values(*keys: str) -> None:
    """Serialize the transactions that check for a value and then insert it (check-then-act),
    so that the second one's check sees the first one's row. Call inside ``transaction.atomic``;
    the lock is released at commit or rollback. PostgreSQL: ``pg_advisory_xact_lock`` per key, in
    sorted order (two transactions taking several keys cannot deadlock). SQLite needs none: its
    IMMEDIATE transactions (settings) already let one writer in at a time."""
    if connection.vendor != "postgresql":
        return
    ids = sorted({_lock_id(k) for k in keys if k})
    with connection.cursor() as cursor:
        for lock_id in ids:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


_PG_KEY = re.compile(r"Key \((?P<cols>[^)]*)\)=")
_SQLITE_COLS = re.compile(r"UNIQUE constraint failed: (?P<cols>[\w., ]+)")


def _violated_columns(error: IntegrityError) -> tuple[set[str], str]:
    text = str(error)
    cause = getattr(error, "__cause__", None)
    diag = getattr(cause, "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    if m := _PG_KEY.search(text):
        return {c.strip().strip('"') for c in m.group("cols").split(",")}, name
    if m := _SQLITE_COLS.search(text):
        return {c.strip().rsplit(".", 1)[-1] for c in m.group("cols").split(",")}, name
    return set(), name


def unique_violation(model: type[models.Model], error: IntegrityError) -> ValidationError | None:
    """The ValidationError a unique constraint of ``model`` stands for, keyed by its field
    (NON_FIELD_ERRORS for several fields), with the constraint's ``violation_error_message``
    when the model gives one, else the field's "already exists" message. None when the error
    is not a unique violation of this model (the caller re-raises it)."""
    columns, name = _violated_columns(error)
    text = str(error)
    by_column = {f.column: f for f in model._meta.concrete_fields}
    for constraint in model._meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint) or not constraint.fields:
            continue
        cols = {model._meta.get_field(f).column for f in constraint.fields}
        if (
            constraint.name in (name, *re.findall(r'"([^"]+)"', text))
            or f"'{constraint.name}'" in text
            or (columns and cols == columns)
        ):
            return _error(model, list(constraint.fields), constraint)
    fields = [by_column[c].name for c in columns if c in by_column]
    if fields and len(fields) == len(columns):
        return _error(model, fields, None)
    return None


def _error(model, fields: list[str], constraint) -> ValidationError:
    if (
        constraint is not None
        and constraint.violation_error_message != constraint.default_violation_error_message
    ):
        message = constraint.get_violation_error_message()
    else:
        message = " ".join(model().unique_error_message(model, tuple(fields)).messages)
    key = fields[0] if len(fields) == 1 else NON_FIELD_ERRORS
    return ValidationError({key: [message]})
