"""Queries built and compiled once, then run many times with another primary key (issue 24).

The client page's one query (the client through ``restrict()``, every tab's count through the
tab's own ``restrict()``, the grading facts, the projects' totals) took 7 ms of CPU to build and
compile through the ORM against 0.2 ms for the database to answer it. What the SQL depends on is
known: the reader's scope (their model permissions, branches, grants, suspension: see
``crm.access.scope_fingerprint``), today's date (the facts count the last 12 months), and the
settings. So the query is built once per such key with a stand-in primary key, compiled, and
kept with its compiler; each later request runs the kept SQL with its own key and turns the row
into a model instance exactly as Django's ``ModelIterable`` does (``select_related`` objects and
annotations included). A test compares the kept path with the ORM's for every persona.

Kept per database connection (connections are per thread), at most ``LIMIT`` queries, the oldest
dropped first; any change of settings (tests) drops them all."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.core.exceptions import EmptyResultSet
from django.core.signals import setting_changed
from django.db import connections
from django.db.models.query import get_related_populators
from django.dispatch import receiver

# The primary key the kept query is compiled with: no row has a negative id.
SENTINEL = -314159265
LIMIT = 256
_generation = [0]


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    _generation[0] += 1


class _Prepared:
    __slots__ = ("compiler", "sql", "params", "init_list", "start", "end", "populators", "annotations")

    def __init__(self, queryset):
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # the filter can match nothing (a reader with no scope)
            self.sql = None
            return
        if sum(1 for p in params if p == SENTINEL) != 1:
            raise ValueError("a prepared query takes its primary key exactly once")
        self.compiler, self.sql, self.params = compiler, sql, tuple(params)
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, queryset.db)
        self.annotations = tuple(compiler.annotation_col_map.items())

    def get(self, pk):
        if self.sql is None:
            return None
        compiler = self.compiler
        params = [pk if p == SENTINEL else p for p in self.params]
        with compiler.connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        model = compiler.klass_info["model"]
        for row in compiler.results_iter([rows]):
            obj = model.from_db(compiler.using, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            return obj
        return None


def get(build: Callable, key: Hashable, pk, *, using: str = "default"):
    """The one row of ``build(pk)`` as a model instance, or None. ``build(pk)`` must return a
    queryset filtered on ``pk`` once, whose SQL is fully determined by ``key`` and ``pk``
    (nothing else it reads may change under the same key). ``build`` runs once per key."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    connection = connections[using]
    kept = connection.__dict__.setdefault("_crm_prepared", OrderedDict())
    full_key = (_generation[0], key)
    prepared = kept.get(full_key)
    if prepared is None:
        prepared = kept[full_key] = _Prepared(build(SENTINEL))
        while len(kept) > LIMIT:
            kept.popitem(last=False)
    else:
        kept.move_to_end(full_key)
    return prepared.get(pk)
