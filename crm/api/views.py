from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.base import RestrictedReadOnlyViewSet
from crm.models import Branch

from .serializers import BranchSerializer, MeSerializer, TokenRequestSerializer, TokenResponseSerializer


class TokenView(APIView):
    """Exchange a username and password for an API token (django-axes counts failures)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_scope = "anon"

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenResponseSerializer})
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request._request, **data.validated_data)
        if user is None or not user.is_active:
            raise serializers.ValidationError({"detail": ["用户名或密码错误。"]})
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key}, status=status.HTTP_200_OK)


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
