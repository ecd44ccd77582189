"""The project's own 404 and 403 pages, in development too, and the no-access page.

Django answers an ``Http404`` with its English technical page while ``DEBUG`` is on, and the
handlers of crm/urls.py only in production. ``ErrorPagesMiddleware`` renders the project's
pages for ``Http404`` and ``PermissionDenied`` raised by a page in either mode (the API keeps
its JSON answers, which DRF makes itself), and, in development, for a path no route matches.

A client's page that is not in the user's archive (another branch's client, R4) answers the
404 page with an offer to file an access request for that id (R5). The page is the same for
an id that does not exist: it says neither whether the client exists nor anything about it
(no existence oracle); the request form then shows name and branch only, as its search does
(clients.access.services.request_target_clients).

While the user's branch has lost its archive query (an archive suspension after a 差 rating,
R33), the page says so instead, with the reason and until when: the client may well be one of
the branch's own that the user is not the account owner of, and an access request could not
be filed anyway. That page too is the same for every id."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from .access import active_suspension

# Pages of one client (view name -> the kwarg holding its id) whose 404 offers a request.
REQUESTABLE = {"clients:client-detail": "pk", "clients:client-tab": "pk"}


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def access_request_url(request) -> str | None:
    """The request form prefilled with the client of this page, for a branch user (only they
    file requests); None elsewhere."""
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if match is None or match.view_name not in REQUESTABLE:
        return None
    if not user or not user.is_authenticated or not getattr(user, "is_branch_user", False):
        return None
    pk = match.kwargs.get(REQUESTABLE[match.view_name])
    return f"{reverse('clients:access-request-create')}?{urlencode({'clients': pk})}"


def archive_suspension(request):
    """The archive suspension (R33) in force for the user of a client's page, or None."""
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if match is None or match.view_name not in REQUESTABLE:
        return None
    if not user or not user.is_authenticated or not getattr(user, "is_branch_user", False):
        return None
    from .models import Suspension

    return active_suspension(user, Suspension.Kind.ARCHIVE)


def page_404(request, exception=None):
    suspension = archive_suspension(request)
    if suspension is not None:
        return render(request, "404_no_access.html", {"suspension": suspension}, status=404)
    url = access_request_url(request)
    if url:
        return render(request, "404_no_access.html", {"access_request_url": url}, status=404)
    from .views import error_404

    return error_404(request, exception)


def page_403(request, exception=None):
    from .views import error_403

    return error_403(request, exception)


class ErrorPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # DEBUG: a path no route matches got Django's technical page; show ours.
        if (
            settings.DEBUG
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None
            and not _is_api(request)
        ):
            return page_404(request)
        return response

    def process_exception(self, request, exception):
        if _is_api(request):
            return None
        if isinstance(exception, Http404):
            return page_404(request, exception)
        if isinstance(exception, PermissionDenied):
            return page_403(request, exception)
        return None
