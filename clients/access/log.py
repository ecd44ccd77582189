"""The access log of R4: every read of another branch's client (page, API list or retrieve,
export, a search hit opened) is written here with the grant it was made under, once per
request and client. Reads of one's own branch and by the group roles are not logged (they
read by right, R3), everything else is.

Two entry points, so no view writes its own variant:

* ``log_reads(request, records, via=...)``: the records a request shows (clients, or rows that
  belong to a client: contacts, visits, complaints, surveys…); each record's branch and client
  are found through its model's access ``Scope`` (crm/access.py), the same paths ``restrict()``
  uses. Pages call it; API viewsets get it from ``AccessLoggedMixin`` (list and retrieve).
* ``record_reads(user, clients, via=...)``: the older call for a list of clients (tests, tasks).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from crm.access import _follow, has_global

from ..models import AccessLog, Client
from .selectors import active_grants_by_client


def _write(user, client_ids, *, via: str, path: str) -> int:
    if not client_ids:
        return 0
    now = timezone.now()
    grants = active_grants_by_client(user, now)
    rows = [
        AccessLog(
            user=user,
            user_branch_id=user.branch_id,
            client_id=client_id,
            grant=grants.get(client_id),
            via=via,
            path=path[:300],
            at=now,
        )
        for client_id in client_ids
    ]
    AccessLog.objects.bulk_create(rows)
    return len(rows)


def record_reads(user, clients, *, via: str, path: str = "") -> int:
    """Log ``user``'s reads of those ``clients`` that belong to another branch. Returns how many."""
    clients = [c for c in clients if c.branch_id != user.branch_id]
    if not clients or has_global(user, Client, "view"):
        return 0
    return _write(user, list(dict.fromkeys(c.pk for c in clients)), via=via, path=path)


def foreign_client_ids(user, records) -> list[int]:
    """The ids of the clients of ``records`` that ``user`` reads as another branch's (R4):
    the record's branch (its Scope.branch path) is not the user's own. In first-seen order."""
    ids: dict[int, None] = {}
    for record in records:
        model = type(record)
        scope = getattr(model, "scope", None)
        if scope is None or scope.client is None or scope.branch is None:
            continue
        if has_global(user, model, "view"):
            return []  # the group roles read every branch by right (R3)
        if _follow(record, scope.branch) == user.branch_id:
            continue
        client_id = _follow(record, scope.client)
        if client_id is not None:
            ids.setdefault(client_id, None)
    return list(ids)


def log_reads(request, records, *, via: str) -> int:
    """Log the reads ``request`` makes of ``records`` of another branch: one row per client and
    request, however many of its records (a client page, its tabs, a list of its contacts) the
    request shows. Returns how many rows were written."""
    if not request.user.is_authenticated:
        return 0
    return _write_once(request, foreign_client_ids(request.user, records), via=via)


def log_queryset_reads(request, queryset, *, via: str) -> int:
    """``log_reads`` for an export that streams ``queryset``: the clients of its rows of another
    branch, read in one query of ids (no rows loaded)."""
    user = request.user
    model = queryset.model
    scope = getattr(model, "scope", None)
    if not user.is_authenticated or scope is None or scope.client is None or scope.branch is None:
        return 0
    if has_global(user, model, "view"):
        return 0
    branch = "pk" if scope.branch == "pk" else scope.branch
    rows = queryset.order_by().exclude(**{branch: user.branch_id}) if user.branch_id else queryset.order_by()
    return _write_once(request, rows.values_list(scope.client, flat=True).distinct(), via=via)


def _write_once(request, client_ids, *, via: str) -> int:
    """Write the rows of the clients this request has not logged yet (one row per client and
    request). DRF wraps the Django request: the set lives on the wrapped one, shared by both."""
    done = request.__dict__.setdefault("_crm_access_logged", set())
    ids = [pk for pk in client_ids if pk is not None and pk not in done]
    if not ids:
        return 0
    done.update(ids)
    return _write(request.user, ids, via=via, path=request.get_full_path())


class AccessLoggedMixin:
    """For API viewsets (R4): what ``list`` and ``retrieve`` serialize is logged as read."""

    def get_serializer(self, *args, **kwargs):
        if args and getattr(self, "action", None) in ("list", "retrieve"):
            instance = args[0]
            many = kwargs.get("many", False)
            records = list(instance) if many else [instance]
            log_reads(_django_request(self.request), records, via=AccessLog.Via.API)
            if many:
                args = (records, *args[1:])
        return super().get_serializer(*args, **kwargs)


def _django_request(request):
    return getattr(request, "_request", request)


# A tab opened on the client page is part of the page's read: the page's view wrote its row
# (log_reads). A tab loaded by itself within this long of the user's last logged read of the
# client writes no second row; later (or with no read logged) it writes one, so that no read
# goes unlogged, even one made by asking for tabs alone.
TAB_READ_WINDOW_SECONDS = 10 * 60


def log_tab_read(request, client) -> int:
    """R4 for a tab of the client page loaded into the page (htmx): one row per page view
    rather than one per tab opened. Nothing to do for one's own branch and the group roles;
    otherwise a row unless one for this user and client (the page's) is recent enough."""
    if not request.user.is_authenticated or not foreign_client_ids(request.user, [client]):
        return 0
    since = timezone.now() - dt.timedelta(seconds=TAB_READ_WINDOW_SECONDS)
    if AccessLog.objects.filter(user=request.user, client=client, at__gte=since).exists():
        return 0
    return log_reads(request, [client], via=AccessLog.Via.PAGE)
