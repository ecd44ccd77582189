from django.contrib.auth import authenticate
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from crm import navigation, services
from crm.api.auth import token_expired
from crm.api.base import RestrictedReadOnlyViewSet
from crm.api.schema import answers
from crm.models import Branch, Notification

from .serializers import (
    BranchSerializer,
    MeSerializer,
    NotificationSerializer,
    ReadAllResultSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
)


class TokenView(APIView):
    """Exchange a username and password for an API token (django-axes counts failures)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    # Per address (REMOTE_ADDR), in the shared cache (Redis: every process counts together):
    # django-axes locks a username after failures, but one address trying many usernames (one
    # password each) would never reach its limit. The rate is API_TOKEN_RATE (settings).
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenResponseSerializer})
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request._request, **data.validated_data)
        if user is None or not user.is_active:
            raise serializers.ValidationError({"detail": [_("用户名或密码错误。")]})
        token, _created = Token.objects.get_or_create(user=user)
        if token_expired(token):
            # An expired token is replaced, never revived (API_TOKEN_DAYS counts from its creation).
            token.delete()
            token = Token.objects.create(user=user)
        return Response({"token": token.key}, status=status.HTTP_200_OK)


class TokenRevokeView(APIView):
    """Revoke the caller's own API token; the next call with it answers 401."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


@navigation.register("api_docs")
def may_use_api(user) -> bool:
    """The API serves what a role may do (every endpoint answers 403 to a person without one),
    so its documentation (and the 接口文档 nav entry) is for signed-in people who hold a role."""
    return bool(
        user and user.is_authenticated and user.is_active and (user.is_superuser or getattr(user, "role", ""))
    )


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI for signed-in users only (anonymous visitors go to the login page). The split
    view serves its start-up script from this same URL (``?script``), so the page needs no inline
    script and runs under the site's Content-Security-Policy unchanged."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not may_use_api(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class MeView(APIView):
    """The signed-in user: branch, department and role."""

    @extend_schema(responses={200: MeSerializer})
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class BranchViewSet(RestrictedReadOnlyViewSet):
    """Branches the user belongs to (or all of them, for the group roles)."""

    queryset = Branch.objects.all()
    serializer_class = BranchSerializer
    filterset_fields = ["kind", "is_active"]
    ordering_fields = ["sort_order", "code", "name"]


class HoldsRole(permissions.BasePermission):
    """The API is for people who hold a role (``may_use_api``): 403 for anyone else."""

    def has_permission(self, request, view):
        return may_use_api(request.user)


class NotificationFilter(filters.FilterSet):
    # Strict, unlike a BooleanFilter (which ignores a value it cannot read): a client asking for
    # ``unread=yes`` is told, rather than given every notification.
    unread = filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")],
        method="filter_unread",
        help_text="true: the unread ones only; false: the read ones only",
    )

    class Meta:
        model = Notification
        fields = ["unread", "verb"]

    def filter_unread(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value in ("true", "1"))


NO_ROLE = "The user holds no role."
NOT_OWN = "No such notification among the reader's own."


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The reader's own notifications, newest first (the bell's page): ``?unread=true`` for the
    unread ones; ``read`` and ``read-all`` mark them read as the pages do. A notification is
    personal, so the scope is its recipient: someone else's answers 404."""

    permission_classes = [permissions.IsAuthenticated, HoldsRole]
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at"]
    queryset = Notification.objects.none()  # for the schema; the rows are the reader's own

    def get_queryset(self):
        return Notification.objects.filter(recipient=self.request.user).order_by("-created_at", "-pk")

    @extend_schema(
        request=None,
        responses=answers(NotificationSerializer, forbidden=NO_ROLE, not_found=NOT_OWN),
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one notification read (reading it again keeps the first time)."""
        note = services.notification_read(notification=self.get_object(), user=request.user)
        return Response(self.get_serializer(note).data)

    @extend_schema(request=None, responses=answers(ReadAllResultSerializer, forbidden=NO_ROLE))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark every unread notification of the reader read; answers how many were."""
        return Response({"read": services.notification_read_all(user=request.user)})
