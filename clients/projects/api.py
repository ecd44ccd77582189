"""API of design fees and on-site service (seed 000; R56-R60).

* ``/api/projects/`` carries ``design_fee`` (writable, with the project's version / If-Match)
  and, read-only, ``fee_collected``, ``fee_outstanding``, ``fee_settled_on``, ``fee_settlement``
  (``collected`` / ``agreed``), ``fee_settlement_note``; ``?unsettled=true`` lists the completed
  projects not settled (R59); ``POST /api/projects/<id>/settle/`` ``{"note"}`` settles by
  agreement (R58, the branch manager).
* ``/api/fee-collections/``: ``POST`` ``{"project", "amount", "collected_on", "note"}`` records
  a collection (R57); collections are never edited or deleted; ``POST .../<id>/reverse/``
  ``{"reason"}`` reverses one (the branch manager).
* ``/api/site-services/``: on-site service records (R60), created and edited (``PATCH`` with
  If-Match), never deleted.

Who may take a step is decided by the services (403 for a missing role, 400 with a message for a
refused step, 404 out of scope)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action

from crm.api.base import RestrictedViewSet

from ..access.api.serializers import ReasonSerializer
from ..models import FeeCollection, Project, SiteService
from . import services


def _refused(exc: ValidationError):
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(exc.message_dict)
    return serializers.ValidationError({"detail": exc.messages})


class FeeCollectionFilter(django_filters.FilterSet):
    project = django_filters.NumberFilter(field_name="project_id")
    client = django_filters.NumberFilter(field_name="project__client_id")

    class Meta:
        model = FeeCollection
        fields = ["project", "client"]


class SiteServiceFilter(django_filters.FilterSet):
    project = django_filters.NumberFilter(field_name="project_id")
    client = django_filters.NumberFilter(field_name="project__client_id")
    status = django_filters.ChoiceFilter(choices=SiteService.Status.choices)

    class Meta:
        model = SiteService
        fields = ["project", "client", "status"]


class SettleSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class FeeCollectionSerializer(serializers.ModelSerializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none())
    project_name = serializers.CharField(source="project.name", read_only=True)
    client = serializers.IntegerField(source="project.client_id", read_only=True)
    recorded_by_name = serializers.CharField(source="recorded_by.display_name", read_only=True)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, max_value=10**13)

    class Meta:
        model = FeeCollection
        fields = [
            "id",
            "project",
            "project_name",
            "client",
            "collected_on",
            "amount",
            "note",
            "reverses",
            "recorded_by",
            "recorded_by_name",
            "created_at",
        ]
        read_only_fields = ["reverses", "recorded_by", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # A project out of the user's change scope is refused as if it did not exist (400).
            self.fields["project"].queryset = Project.objects.restrict(request.user, "change")


class FeeCollectionViewSet(RestrictedViewSet):
    """Collections of design fees of the user's scope. Filters: ``project``, ``client``."""

    queryset = FeeCollection.objects.select_related("project", "recorded_by").order_by("-collected_on", "-pk")
    serializer_class = FeeCollectionSerializer
    filterset_class = FeeCollectionFilter
    ordering_fields = ["collected_on", "amount"]
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"reverse": "view"}

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            row = services.fee_collection_record(
                project=data["project"],
                by=request.user,
                amount=data["amount"],
                collected_on=data["collected_on"],
                note=data.get("note", ""),
            )
        except ValidationError as exc:
            raise _refused(exc) from exc
        return self.answer(
            self.get_queryset().model.objects.get(pk=row.pk), status_code=status.HTTP_201_CREATED
        )

    @extend_schema(request=ReasonSerializer, responses={201: FeeCollectionSerializer})
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        """The branch manager reverses a wrong collection with a ``reason`` (R57): the answer is
        the reversal row."""
        collection = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            row = services.fee_collection_reverse(
                collection=collection, by=request.user, reason=data.validated_data["reason"]
            )
        except ValidationError as exc:
            raise _refused(exc) from exc
        return self.answer(FeeCollection.objects.get(pk=row.pk), status_code=status.HTTP_201_CREATED)


class SiteServiceSerializer(serializers.ModelSerializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none())
    project_name = serializers.CharField(source="project.name", read_only=True)
    client = serializers.IntegerField(source="project.client_id", read_only=True)
    recorded_by_name = serializers.CharField(source="recorded_by.display_name", read_only=True)

    class Meta:
        model = SiteService
        fields = [
            "id",
            "project",
            "project_name",
            "client",
            "served_on",
            "our_people",
            "problem",
            "handling",
            "outcome",
            "status",
            "closed_on",
            "recorded_by",
            "recorded_by_name",
        ]
        read_only_fields = ["recorded_by"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["project"].queryset = Project.objects.restrict(request.user, "change")

    def _save(self, service):
        try:
            return services.site_service_save(service=service, by=self.context["request"].user)
        except ValidationError as exc:
            raise _refused(exc) from exc

    def create(self, validated_data):
        return self._save(SiteService(**validated_data))

    def update(self, instance, validated_data):
        for key, value in validated_data.items():
            setattr(instance, key, value)
        return self._save(instance)


class SiteServiceViewSet(RestrictedViewSet):
    """On-site service records of the user's scope (R60). Filters: ``project``, ``client``,
    ``status``."""

    queryset = SiteService.objects.select_related("project", "recorded_by").order_by("-served_on", "-pk")
    serializer_class = SiteServiceSerializer
    filterset_class = SiteServiceFilter
    ordering_fields = ["served_on"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
