"""R113: a person's language follows them. The middleware activates the signed-in person's
own setting (their profile's, ``/accounts/preferences/``) for the pages, on any browser they
sign in from; a language picked with the header's switch in this browser (its cookie) still
wins for the pages of that browser, and the API keeps following an explicit Accept-Language,
as its clients expect. Notices, e-mails and digests follow the setting alone."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.language in LANGUAGE_CODES
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and not (request.path.startswith("/api/") and "HTTP_ACCEPT_LANGUAGE" in request.META)
        ):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)
