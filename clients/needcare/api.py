"""The rating link as an endpoint (R48): no authentication, throttled like the survey link (the
``public_answer`` scope), once. A used, expired or tampered token answers 410/404 and records
nothing."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from crm.public_links import LinkError

from ..api.serializers import NeedRateSerializer, PublicNeedRatingSerializer
from ..models import Need
from . import services


class Gone(NotFound):
    status_code = status.HTTP_410_GONE


def _gone(reason: str):
    texts = {
        "used": _("您已评价过本次需求处理结果,每次评价只能提交一次。"),
        "expired": _("本评价链接已过期。"),
    }
    if reason in texts:
        return Gone(texts[reason], code=reason)
    return NotFound(_("链接无效。"), code="invalid")


class PublicNeedRatingView(APIView):
    """GET the need as the client stated it; POST ``{"rating", "comment", "respondent"}``."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public_answer"

    @extend_schema(responses={200: PublicNeedRatingSerializer})
    def get(self, request, token):
        try:
            need = services.need_for_rating_token(token)
        except LinkError as exc:
            raise _gone(exc.reason) from None
        return Response(
            {
                "group": settings.CRM_GROUP_NAME,
                "description": need.description,
                "response_note": need.response_note,
                "expires_at": need.rating_link_expires_at,
                "ratings": {code: str(label) for code, label in Need.Rating.choices},
            }
        )

    @extend_schema(request=NeedRateSerializer, responses={201: None})
    def post(self, request, token):
        params = NeedRateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            services.need_rate_public(token=token, **params.validated_data)
        except LinkError as exc:
            raise _gone(exc.reason) from None
        except ValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            ) from None
        return Response({"detail": _("感谢您的评价!")}, status=status.HTTP_201_CREATED)
