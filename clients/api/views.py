"""API viewsets of the archive: each subclasses RestrictedViewSet (queryset restricted in
``initial()``, 403 missing role, 404 out of scope); workflow steps are actions answering 400
with a message when refused."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from crm.access import check_in_scope
from crm.api.base import RestrictedReadOnlyViewSet, RestrictedViewSet
from crm.models import StaleVersion

from .. import services
from ..access.log import AccessLoggedMixin
from ..filters import ClientFilter, ContactFilter, NeedFilter, ProjectFilter, VisitFilter, VisitPlanFilter
from ..models import Client, Contact, Need, NeedConflict, Project, Visit, VisitPlan
from ..needcare import services as care
from ..projects import services as project_fees
from ..projects.api import SettleSerializer
from ..projects.selectors import fee_annotations
from ..selectors import with_grading_facts
from .serializers import (
    ClientSerializer,
    ContactSerializer,
    NeedActionSerializer,
    NeedAssessSerializer,
    NeedConflictSerializer,
    NeedMergeSerializer,
    NeedRateSerializer,
    NeedRatingLinkResultSerializer,
    NeedRatingLinkSerializer,
    NeedSerializer,
    ProjectSerializer,
    SetGradeSerializer,
    SimilarNeedsSerializer,
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
    action_scopes = {
        "respond": "change",
        "close": "change",
        "destroy": "change",
        "rate": "change",
        "rating_link": "change",
        "assess": "change",
        "merge": "change",
        "mark_conflict": "change",
        "similar": "view",
    }

    def _step(self, fn, **kwargs):
        try:
            need = fn(**kwargs)
        except StaleVersion:
            raise  # 409 with the need as it is now (RestrictedViewSet.handle_exception)
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

    @extend_schema(request=NeedAssessSerializer, responses={200: NeedSerializer})
    @action(detail=True, methods=["post"])
    def assess(self, request, pk=None):
        """R50: record the classification (urgency, functional or not) and the feasibility and
        value assessment. Based on a stale version (``If-Match`` or ``version``): 409 with the
        need as it is now; nothing written."""
        need = self.get_object()
        data = NeedAssessSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("version", None)
        return self._step(
            care.need_assess,
            need=need,
            by=request.user,
            expected_version=self.expected_version(),
            **values,
        )

    @extend_schema(request=NeedMergeSerializer, responses={200: NeedSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """R51: merge this need, a duplicate, into ``into`` (a need of the same client): it is
        closed as ``merged`` and points to it; the answer is this need after the step."""
        duplicate = self.get_object()
        data = NeedMergeSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return self._step(
            care.need_merge,
            duplicate=duplicate,
            into=data.validated_data["into"],
            by=request.user,
            note=data.validated_data["note"],
        )

    @extend_schema(request=NeedConflictSerializer, responses={201: NeedConflictSerializer})
    @action(detail=True, methods=["post"], url_path="mark-conflict", url_name="mark-conflict")
    def mark_conflict(self, request, pk=None):
        """R52: mark this need and ``other`` (same client) as contradicting, with a ``note``."""
        need = self.get_object()
        data = NeedConflictSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        try:
            conflict = care.need_mark_conflict(
                need=need,
                other=data.validated_data["other"],
                by=request.user,
                note=data.validated_data["note"],
            )
        except DjangoValidationError as error:
            raise _bad_request(error) from error
        return self.answer(conflict, NeedConflictSerializer, status_code=201)

    @extend_schema(responses={200: SimilarNeedsSerializer})
    @action(detail=True, methods=["get"])
    def similar(self, request, pk=None):
        """R53: the other needs of this need's client with similar content (likely duplicates)."""
        need = self.get_object()
        rows = [
            {"id": other.pk, "description": other.description, "status": other.status, "similarity": ratio}
            for other, ratio in care.similar_needs(request.user, need)
        ]
        return Response(SimilarNeedsSerializer({"count": len(rows), "results": rows}).data)

    @extend_schema(request=NeedRateSerializer, responses={200: NeedSerializer})
    @action(detail=True, methods=["post"])
    def rate(self, request, pk=None):
        """R48: record the client's evaluation of a done need's handling (once)."""
        need = self.get_object()
        data = NeedRateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._step(care.need_rate, need=need, by=request.user, **data.validated_data)

    @extend_schema(request=NeedRatingLinkSerializer, responses={200: NeedRatingLinkResultSerializer})
    @action(detail=True, methods=["post"], url_path="rating-link", url_name="rating-link")
    def rating_link(self, request, pk=None):
        """R48: issue the personal no-login link through which the client rates the handling;
        the answer carries the link (shown once: only its hash is kept)."""
        need = self.get_object()
        data = NeedRatingLinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            need, url = care.need_rating_link(need=need, by=request.user, days=data.validated_data["days"])
        except DjangoValidationError as error:
            raise _bad_request(error) from error
        body = {"rating_url": url, "expires_at": need.rating_link_expires_at, "version": need.version}
        return self.answer(body, NeedRatingLinkResultSerializer)


class NeedConflictViewSet(RestrictedReadOnlyViewSet):
    """R52: the contradictions marked between needs (made by ``POST /api/needs/<id>/mark-conflict/``);
    filter by ``need`` (either side)."""

    queryset = NeedConflict.objects.select_related("first", "second")
    serializer_class = NeedConflictSerializer
    ordering = ["-marked_at"]

    def get_queryset(self):
        qs = super().get_queryset()
        need = self.request.query_params.get("need")
        if need:
            try:
                need = int(need)
            except ValueError:
                raise serializers.ValidationError({"need": [_("应为需求编号。")]}) from None
            qs = qs.filter(Q(first_id=need) | Q(second_id=need))
        return qs


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
