"""API authentication: tokens that expire after ``API_TOKEN_DAYS`` and can be revoked.

Token authentication is the first class of ``DEFAULT_AUTHENTICATION_CLASSES`` so that a missing
or bad credential answers 401 with ``WWW-Authenticate: Token`` (DRF takes the header from the
first class); session authentication follows for the pages' own calls, with its CSRF check.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


def token_expired(token) -> bool:
    return token.created < timezone.now() - timedelta(days=settings.API_TOKEN_DAYS)


class ExpiringTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, refused with 401 once the token is older than API_TOKEN_DAYS."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise exceptions.AuthenticationFailed(
                _("令牌已过期,请重新获取(token expired)。"), code="token_expired"
            )
        return user, token
