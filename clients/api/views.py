"""API viewsets of the archive: each subclasses RestrictedViewSet (queryset restricted in
``initial()``, 403 missing role, 404 out of scope); workflow steps are actions answering 400
with a message when refused."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied

from crm.access import check_in_scope
from crm.api.base import RestrictedViewSet

from .. import services
from ..access.log import AccessLoggedMixin
from ..filters import ClientFilter, ContactFilter, NeedFilter, ProjectFilter, VisitFilter, VisitPlanFilter
from ..models import Client, Contact, Need, Project, Visit, VisitPlan
from ..projects import services as project_fees
from ..projects.api import SettleSerializer
from ..projects.selectors import fee_annotations
from ..selectors import with_grading_facts
from .serializers import (
    ClientSerializer,
    ContactSerializer,
    NeedActionSerializer,
    NeedSerializer,
    ProjectSerializer,
    SetGradeSerializer,
    VisitPlanSerializer,
    VisitSerializer,
)


class ArchiveViewSet(AccessLoggedMixin, RestrictedViewSet):
    """Reads of another branch's rows (list and retrieve) are logged (R4). A DELETE is scoped
    like a change (out of scope: 404; readers: 403), then needs the delete right (the branch
    manager's, or group marketing's) on the row itself."""

    action_scopes = {"destroy": "change"}

    def perform_destroy(self, instance):
        with transaction.atomic():
            if not check_in_scope(self.request.user, "delete", instance):
                raise PermissionDenied(_("只有本单位经营部负责人或集团市场营销部可以删除。"))
            instance.delete()


def _bad_request(error: DjangoValidationError):
    if hasattr(error, "message_dict"):
        return serializers.ValidationError(error.message_dict)
    return serializers.ValidationError({"detail": error.messages})


class ClientViewSet(AccessLoggedMixin, RestrictedViewSet):
    """Clients (客户档案). ``grade`` is read-only: set it with ``POST set-grade/`` (R7). Reads
    of another branch's clients (list and retrieve) are logged (R4)."""

    queryset = with_grading_facts(Client.objects.select_related("branch", "owner").prefetch_related("tags"))
    serializer_class = ClientSerializer
    filterset_class = ClientFilter
    ordering_fields = ["name", "grade", "stage", "updated_at", "created_at"]
    ordering = ["name"]
    # R1: a client belongs to the group; its archive is never deleted (no DELETE: 405, and the
    # schema does not offer one).
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    action_scopes = {"set_grade": "view"}

    @extend_schema(request=SetGradeSerializer, responses={200: ClientSerializer})
    @action(detail=True, methods=["post"], url_path="set-grade", url_name="set-grade")
    def set_grade(self, request, pk=None):
        client = self.get_object()
        data = SetGradeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.client_set_grade(client=client, by=request.user, **data.validated_data)
        except DjangoValidationError as error:
            raise _bad_request(error) from error
        fresh = self.get_queryset().get(pk=client.pk)
        return self.answer(fresh)


class ContactViewSet(ArchiveViewSet):
    queryset = Contact.objects.select_related("client")
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    ordering = ["client_id", "-is_primary", "name"]


class ProjectViewSet(ArchiveViewSet):
    """Projects (合作历史) with their design fee (R56); ``?unsettled=true`` lists the completed
    projects not settled (R59); ``settle`` settles the rest by agreement (R58)."""

    queryset = Project.objects.select_related("client", "branch").annotate(**fee_annotations())
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    ordering_fields = ["signed_on", "contract_value", "name", "completed_on", "design_fee"]
    ordering = ["-signed_on", "name"]
    action_scopes = {"destroy": "change", "settle": "view"}

    @extend_schema(request=SettleSerializer, responses={200: ProjectSerializer})
    @action(detail=True, methods=["post"])
    def settle(self, request, pk=None):
        """The branch manager settles the rest of the design fee by agreement, with a ``note``."""
        project = self.get_object()
        data = SettleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            project_fees.project_settle(project=project, by=request.user, note=data.validated_data["note"])
        except DjangoValidationError as error:
            raise _bad_request(error) from error
        return self.answer(self.get_queryset().get(pk=project.pk))


class NeedViewSet(ArchiveViewSet):
    """Client needs; ``response_due_at`` follows from urgency (R11). ``respond`` and ``close``
    are the workflow steps."""

    queryset = Need.objects.select_related("client")
    serializer_class = NeedSerializer
    filterset_class = NeedFilter
    ordering_fields = ["received_at", "response_due_at"]
    ordering = ["-received_at"]
    action_scopes = {"respond": "change", "close": "change", "destroy": "change"}

    def _step(self, fn, **kwargs):
        try:
            need = fn(**kwargs)
        except DjangoValidationError as error:
            raise _bad_request(error) from error
        return self.answer(need)

    @extend_schema(request=NeedActionSerializer, responses={200: NeedSerializer})
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        data = NeedActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._step(
            services.need_respond, need=self.get_object(), by=request.user, note=data.validated_data["note"]
        )

    @extend_schema(request=NeedActionSerializer, responses={200: NeedSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        data = NeedActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._step(
            services.need_close,
            need=self.get_object(),
            by=request.user,
            done=data.validated_data["done"],
            note=data.validated_data["note"],
        )


class VisitViewSet(ArchiveViewSet):
    queryset = Visit.objects.select_related("client")
    serializer_class = VisitSerializer
    filterset_class = VisitFilter
    ordering_fields = ["visited_at"]
    ordering = ["-visited_at"]


class VisitPlanViewSet(ArchiveViewSet):
    queryset = VisitPlan.objects.select_related("client")
    serializer_class = VisitPlanSerializer
    filterset_class = VisitPlanFilter
    ordering_fields = ["next_due_on"]
    ordering = ["next_due_on"]
