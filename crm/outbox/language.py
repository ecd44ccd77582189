"""R113: a person's language follows them. The middleware activates the signed-in person's
own setting for the pages (the API keeps following an explicit Accept-Language, as its clients
expect); switching the language with the header's switch, signed in, saves it as their setting,
so that notices, e-mails and digests follow it too."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.switch_path = None

    def __call__(self, request):
        user = getattr(request, "user", None)
        if self.switch_path is None:
            self.switch_path = reverse("set_language")
        if user is not None and user.is_authenticated:
            if request.method == "POST" and request.path == self.switch_path:
                chosen = request.POST.get("language", "")
                if chosen in LANGUAGE_CODES and chosen != user.language:
                    get_user_model().objects.filter(pk=user.pk).update(language=chosen)
                    user.language = chosen
            elif user.language in LANGUAGE_CODES and not (
                request.path.startswith("/api/") and "HTTP_ACCEPT_LANGUAGE" in request.META
            ):
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
        return self.get_response(request)
