"""Access control: one mechanism, used everywhere (design.md; style.md 1).

``Model.objects.restrict(user, action)`` returns exactly the rows ``user`` may act on:

* superusers and holders of the model-level permission (group marketing, leaders and
  auditors for ``view``; group marketing for writes: R3) see every branch;
* a branch's people see their branch's rows, through guardian object permissions on the
  Branch row held by the branch's role groups (R2);
* for ``view``, a user also sees the clients of an active, approved access grant (R5); grant
  scopes are registered by the app that owns grants, so this module imports no app above it;
* while the user's branch is under an archive suspension (R33), branch scope and grants
  are replaced by the rows the user is the account owner of.

The user's scope (branch ids per action, granted client ids, suspension) is read once per
user object, that is once per request, in three small queries, and then every restricted
query is a plain ``branch_id IN (…) OR id IN (…)`` that the planner serves from indexes and
Django compiles cheaply. Measured on 100k clients: nested permission subqueries cost a
sequential scan (190 ms) or, as ``= ANY(ARRAY(...))``, 15-30 ms of query compilation per
call; the snapshot costs ~1 ms per request. The snapshot is dropped when anything it was
read from changes (``scope_changed``, fired by signals) and after ``SNAPSHOT_SECONDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.db.models import Exists, Q
from django.utils import timezone

ACTIONS = ("view", "add", "change", "delete")

# Which object permission on the Branch row carries each action for a branch's people.
BRANCH_PERMS = {
    "view": "view_branch_archive",
    "add": "change_branch_archive",
    "change": "change_branch_archive",
    "delete": "manage_branch_archive",
}


@dataclass(frozen=True)
class Scope:
    """Paths from a model to what access control needs.

    branch: the owning branch ("pk" for Branch itself).
    client: the client, for per-client grants ("pk" for Client; None: grants do not apply).
    owner:  the account owner, for suspensions (None: nobody owns rows of this model).
    personal: the rows are their owner's alone (work a user started, such as an import job):
            each user acts on the rows they own, model-level holders on every row.
    """

    branch: str | None
    client: str | None = None
    owner: str | None = None
    personal: bool = False


# Callables (user, now) -> an iterable (e.g. values_list flat) of the ids of the clients the
# user holds an active grant for.
_grant_scopes: list[Callable] = []


def register_grant_scope(fn: Callable) -> Callable:
    if fn not in _grant_scopes:
        _grant_scopes.append(fn)
    return fn


def model_perm(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def has_global(user, model, action: str) -> bool:
    """Model-level right over every branch (R3)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_perm(model_perm(model, action))


SNAPSHOT_SECONDS = 30
_generation = [0]


def scope_changed(**kwargs) -> None:
    """Invalidate every scope snapshot of this process (connected to the models it reads)."""
    _generation[0] += 1


@dataclass
class Snapshot:
    generation: int
    taken: float
    branches: dict[str, frozenset[int]]  # codename -> branch ids
    suspended: bool
    granted: frozenset[int] | None = None  # client ids, read on first use
    suspensions: tuple = ()  # the active Suspension rows of the user's branch (R33)


# The user's id in the compiled scope query (_scope_rows): no user has a negative id.
_SENTINEL_USER_ID = -271828
_scope_sql: dict[str, tuple[str, tuple]] = {}


def _scope_rows(user) -> list[tuple[str, int]]:
    """The rows of ``_scope_query(user)``, run as SQL compiled once per process and database:
    every request asks it, and building the four-part union through the ORM took longer than
    the database took to answer it (issue 24: 3.6 ms against 1.5 ms on the bench data)."""
    from django.contrib.auth.models import Permission
    from django.db import connections, router

    connection = connections[router.db_for_read(Permission)]
    compiled = _scope_sql.get(connection.alias)
    if compiled is None:
        sql, params = _scope_query(_SENTINEL_USER_ID).query.sql_with_params()
        compiled = _scope_sql[connection.alias] = (sql, tuple(params))
    sql, params = compiled
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk if p == _SENTINEL_USER_ID else p for p in params])
        return cursor.fetchall()


def _scope_query(user_id: int):
    """One query for what every request asks first: the user's model permissions (through
    the user and their groups, as Django's ModelBackend reads them in two queries) and the
    branch object permissions (through the groups and directly): ``(label, id)`` rows, the
    label ``perm:<app>.<codename>`` or ``branch:<codename>``."""
    from django.contrib.auth.models import Permission
    from django.db.models import CharField, F, IntegerField, Value
    from django.db.models.functions import Concat

    from .models import BranchGroupObjectPermission, BranchUserObjectPermission

    # Each part unordered: Permission's Meta ordering would put an ORDER BY inside the
    # compound statement, which SQLite (the embedded default) refuses.
    def model_perms(qs):
        return (
            qs.order_by()
            .annotate(
                _label=Concat(
                    Value("perm:"),
                    "content_type__app_label",
                    Value("."),
                    "codename",
                    output_field=CharField(),
                ),
                _id=Value(0, output_field=IntegerField()),
            )
            .values_list("_label", "_id")
        )

    def branch_perms(qs):
        return (
            qs.order_by()
            .annotate(
                _label=Concat(Value("branch:"), "permission__codename", output_field=CharField()),
                _id=F("content_object_id"),
            )
            .values_list("_label", "_id")
        )

    return model_perms(Permission.objects.filter(user=user_id)).union(
        model_perms(Permission.objects.filter(group__user=user_id)),
        branch_perms(BranchGroupObjectPermission.objects.filter(group__user=user_id)),
        branch_perms(BranchUserObjectPermission.objects.filter(user=user_id)),
    )


def snapshot(user) -> Snapshot:
    """The user's branch permissions and archive suspension, cached on the user object (with
    the model permissions for ``user.has_perm``: crm.auth.CrmModelBackend)."""
    import time

    from .models import Suspension

    snap = getattr(user, "_crm_scope", None)
    now = time.monotonic()
    if snap is not None and snap.generation == _generation[0] and now - snap.taken < SNAPSHOT_SECONDS:
        return snap
    branches: dict[str, set[int]] = {}
    perms: set[str] = set()
    for label, object_id in _scope_rows(user):
        kind, _, name = label.partition(":")
        if kind == "perm":
            perms.add(name)
        else:
            branches.setdefault(name, set()).add(object_id)
    if not user.is_superuser:
        user._perm_cache = perms
    # R33: the branch's active suspensions, rows (the layout's banners show them), one query.
    suspensions = (
        tuple(Suspension.objects.active().filter(branch_id=user.branch_id).order_by("-ends_at"))
        if user.branch_id
        else ()
    )
    snap = Snapshot(
        generation=_generation[0],
        taken=now,
        branches={k: frozenset(v) for k, v in branches.items()},
        suspended=any(s.kind == Suspension.Kind.ARCHIVE for s in suspensions),
        suspensions=suspensions,
    )
    user._crm_scope = snap
    return snap


def granted_client_ids(user, snap: Snapshot) -> frozenset[int]:
    if snap.granted is None:
        now = timezone.now()
        ids: set[int] = set()
        for grant_scope in _grant_scopes:
            ids.update(grant_scope(user, now))
        snap.granted = frozenset(ids)
    return snap.granted


def branch_ids(user, action: str) -> frozenset[int]:
    """The ids of the branches whose archive ``user`` may act on."""
    return snapshot(user).branches.get(BRANCH_PERMS[action], frozenset())


def archive_suspended(user):
    """An Exists() that is true while the user's branch has lost its archive query (R33)."""
    from .models import Suspension

    return Exists(Suspension.objects.active().filter(branch_id=user.branch_id, kind=Suspension.Kind.ARCHIVE))


def is_archive_suspended(user) -> bool:
    from .models import Suspension

    if not user.is_authenticated or not user.branch_id:
        return False
    return Suspension.objects.active().filter(branch_id=user.branch_id, kind=Suspension.Kind.ARCHIVE).exists()


def active_suspension(user, kind: str):
    from .models import Suspension

    if not user.is_authenticated or not user.branch_id:
        return None
    return (
        Suspension.objects.active().filter(branch_id=user.branch_id, kind=kind).order_by("-ends_at").first()
    )


def _suspends(snap: Snapshot, scope: Scope, action: str) -> bool:
    """Whether an archive suspension (R33) narrows this model: the archive's records (the
    models reached through a client) for reading and changing. The branch's own papers (its
    monthly reports, assessment, work summary, analysis report) and its organisation stay in
    scope: a suspended branch still enters records and submits what it owes."""
    return snap.suspended and action != "add" and scope.branch != "pk" and scope.client is not None


def scope_q(model, user, action: str) -> Q | None:
    """The filter for ``user`` and ``action`` on ``model``; None means every row.

    While the user's branch is under an archive suspension (R33) the branch scope and the
    grants give nothing for reading and changing, and the rows the user owns remain; adding
    stays possible."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not user or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if has_global(user, model, action):
        return None
    scope: Scope = model.scope
    if scope.personal:
        return Q(**{f"{scope.owner}_id": user.pk})
    if scope.branch is None:
        return Q(pk__in=[])  # only the model-level holders see this model
    snap = snapshot(user)
    suspended = _suspends(snap, scope, action)
    q = Q(pk__in=[])
    if not suspended:
        branch_path = "pk" if scope.branch == "pk" else f"{scope.branch}_id"
        ids = branch_ids(user, action)
        if ids:
            q = Q(**{f"{branch_path}__in": sorted(ids)})
        if action == "view" and scope.client is not None:
            granted = granted_client_ids(user, snap)
            if granted:
                client_path = "pk" if scope.client == "pk" else f"{scope.client}_id"
                q |= Q(**{f"{client_path}__in": sorted(granted)})
    elif scope.owner is not None:
        q = Q(**{f"{scope.owner}_id": user.pk})
    return q


def scope_key(user, model) -> str:
    """A short string that changes whenever what ``restrict(user, "view")`` returns on ``model``
    could change: the user, the model-level right, the branches, an archive suspension and the
    granted clients. Cached answers (the dashboards) put it in their keys, so a suspension or a
    new grant never serves a stale answer."""
    import hashlib

    if not user or not user.is_authenticated:
        return "anon"
    if has_global(user, model, "view"):
        return f"{user.pk}:all"
    snap = snapshot(user)
    parts = [
        ",".join(str(i) for i in sorted(branch_ids(user, "view"))),
        "s" if snap.suspended else "",
        ",".join(str(i) for i in sorted(granted_client_ids(user, snap))),
    ]
    digest = hashlib.blake2s("|".join(parts).encode(), digest_size=8).hexdigest()
    return f"{user.pk}:{digest}"


def scope_fingerprint(user) -> tuple:
    """Everything ``restrict(user, ...)`` reads, on every model: the user (rows they own), their
    model permissions, their branches per permission, an archive suspension and the granted
    clients. Equal fingerprints give equal filters, so a query compiled for one can be run again
    for the other (crm.prepared)."""
    if not user or not user.is_authenticated or not user.is_active:
        return ("anon",)
    snap = snapshot(user)
    perms = "*" if user.is_superuser else frozenset(user.get_all_permissions())
    return (
        user.pk,
        perms,
        tuple(sorted(snap.branches.items())),
        snap.suspended,
        granted_client_ids(user, snap),
    )


def branch_codenames(user) -> set[str]:
    """The branch-archive permissions the user holds on any branch."""
    return {codename for codename, ids in snapshot(user).branches.items() if ids}


def can(user, action: str, model) -> bool:
    """Whether the user holds the role for ``action`` on ``model`` at all (else 403)."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if has_global(user, model, action):
        return True
    if model.scope.personal:
        return True  # everyone may have rows of their own; restrict() shows them only those
    if model.scope.branch is None:
        return False  # only the model-level holders may use this model at all (e.g. the access log)
    if BRANCH_PERMS[action] in branch_codenames(user):
        return True
    # A user with an active grant and nothing else (rare) may still view what was granted.
    if action == "view" and model.scope.client is not None:
        snap = snapshot(user)
        return not snap.suspended and bool(granted_client_ids(user, snap))
    return False


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        q = scope_q(self.model, user, action)
        return self if q is None else self.filter(q)


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):
    pass


def _follow(obj, path: str):
    """The id at the end of a scope path on an object ("client__branch" -> obj.client.branch_id)."""
    if path == "pk":
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id")


def in_scope(user, action: str, obj) -> bool:
    """Whether ``obj`` as it is in memory lies in ``restrict(user, action)``, decided from the
    same snapshot without a query (templates ask this for every row of a page). Mirrors
    ``scope_q``; ``tests/crm/test_roles.py`` checks the two agree."""
    model = type(obj)
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if has_global(user, model, action):
        return True
    scope: Scope = model.scope
    if scope.personal:
        return _follow(obj, scope.owner) == user.pk
    if scope.branch is None:
        return False
    snap = snapshot(user)
    if _suspends(snap, scope, action):
        return scope.owner is not None and _follow(obj, scope.owner) == user.pk
    if _follow(obj, scope.branch) in branch_ids(user, action):
        return True
    if action == "view" and scope.client is not None:
        return _follow(obj, scope.client) in granted_client_ids(user, snap)
    return False


def check_in_scope(user, action: str, obj) -> bool:
    """Re-check a saved object against the user's scope inside the write's transaction
    (style.md 3): the database's view of the row, not the object in memory."""
    return type(obj).objects.restrict(user, action).filter(pk=obj.pk).exists()


class SystemPrincipal:
    """The product itself as a reader: the scheduled jobs and what they freeze (a branch's
    monthly report counts the whole branch, R26, whoever submits it and whatever their own
    scope, e.g. under a suspension). ``restrict(SYSTEM, ...)`` returns every row. Never given to
    a request: pages and the API restrict by the signed-in user and only then read a report."""

    is_authenticated = True
    is_active = True
    is_superuser = True
    is_anonymous = False
    pk = None
    id = None
    branch_id = None
    department_id = None
    role = "system"
    username = "system"

    def has_perm(self, perm, obj=None) -> bool:
        return True

    def __str__(self):
        return "system"


SYSTEM = SystemPrincipal()
