"""Session limits and the login lockout's answer.

``SessionLimitsMiddleware`` (after the authentication and message middleware) ends a signed-in
session that has been idle for ``SESSION_IDLE_MINUTES`` or that began more than
``SESSION_MAX_HOURS`` ago, and any session whose user can no longer sign in (deactivated or
deleted: Django's ModelBackend then gives back no user, and the session is flushed here rather
than left to linger). The login itself already issues a new session key (``login()`` calls
``cycle_key``), so a key planted before the login is worthless afterwards.
"""

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

STARTED = "_crm_started"
SEEN = "_crm_seen"
# The last-activity stamp is rewritten at most this often, so that an active user does not cost
# a session write on every request; idle time is measured to within this many seconds.
SEEN_RESOLUTION = 60


class SessionLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            now = timezone.now().timestamp()
            started = session.get(STARTED, now)
            seen = session.get(SEEN, now)
            idle = now - seen > settings.SESSION_IDLE_MINUTES * 60
            too_old = now - started > settings.SESSION_MAX_HOURS * 3600
            if idle or too_old or not request.user.is_authenticated:
                session.flush()
                request.user = AnonymousUser()
        response = self.get_response(request)
        if session is not None and SESSION_KEY in session:
            # Stamped after the view, so the login request itself starts the clock.
            now = timezone.now().timestamp()
            if STARTED not in session:
                session[STARTED] = now
            if now - session.get(SEEN, 0) >= SEEN_RESOLUTION:
                session[SEEN] = now
        return response


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login (AXES_LOCKOUT_CALLABLE): the page for people,
    JSON 429 with a translated detail for the API's token endpoint."""
    minutes = max(1, round(float(settings.AXES_COOLOFF_TIME) * 60))
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "detail": _("登录失败次数过多,该账号在本机已临时锁定,请%(minutes)s分钟后再试。")
                % {"minutes": minutes}
            },
            status=429,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        response = render(request, settings.AXES_LOCKOUT_TEMPLATE, {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


class PermissionsPolicyMiddleware:
    """``Permissions-Policy`` (settings.PERMISSIONS_POLICY): the CRM uses no camera, microphone,
    location or payment, so no page, nor anything injected into one, may ask for them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
