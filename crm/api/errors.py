"""API errors as design.md says: 400 with field messages, 401, 403 missing role, 404 out of
scope, 409 stale edit; a Django ValidationError raised by a service is a 400, never a 500."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from crm.models import StaleVersion


class InUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("该记录仍被其他记录引用(如调查模板已有维度或已发出的调查),不能删除。")
    default_code = "in_use"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("该记录已被他人修改,请刷新后重试。")
    default_code = "conflict"


def exception_handler(exc, context):
    if isinstance(exc, StaleVersion):  # a write lost the race for its row (crm.models.Versioned)
        exc = Conflict(str(exc.messages[0]))
    elif isinstance(exc, ProtectedError | RestrictedError):
        # A row others point at (a template with surveys sent on it): kept, and said so.
        exc = InUse()
    elif isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"detail": exc.messages})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        # A missing role (403); the service's message says who may take the step.
        exc = exceptions.PermissionDenied(str(exc) if exc.args else None)
    return drf_exception_handler(exc, context)
