"""API of the spreadsheet import (R36): the same job rows as the pages.

``POST /api/import-jobs/`` (multipart ``file``) starts a job and answers 201 at once; the worker
validates it; ``GET /api/import-jobs/<id>/`` tells its state, progress, summary and row report;
``POST /api/import-jobs/<id>/confirm/`` queues the all-or-nothing save (202). Each user reaches
their own jobs only (``restrict``); starting one needs the right to add clients (else 403)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from crm.access import can

from ..models import Client, ImportJob
from . import services
from .views import UploadForm, enqueue


class CanAddClients(permissions.BasePermission):
    message = gettext_lazy("您没有录入客户的权限。")

    def has_permission(self, request, view):
        return can(request.user, "add", Client)


class ImportJobSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    stalled = serializers.BooleanField(
        read_only=True, help_text=gettext_lazy("停止: 处理它的后台进程已丢失,可重新执行")
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "filename",
            "created_by",
            "created_at",
            "state",
            "phase",
            "done",
            "total",
            "summary",
            "created",
            "error",
            "finished_at",
            "stalled",
            "file",
        ]
        read_only_fields = [f for f in fields if f != "file"]

    def validate_file(self, value):
        form = UploadForm(files={"file": value})
        if not form.is_valid():
            raise serializers.ValidationError(form.errors["file"])
        return value


class ImportJobDetailSerializer(ImportJobSerializer):
    class Meta(ImportJobSerializer.Meta):
        fields = [*ImportJobSerializer.Meta.fields, "report"]
        read_only_fields = [*ImportJobSerializer.Meta.read_only_fields, "report"]


class ImportJobViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Import jobs (导入任务) of the signed-in user."""

    queryset = ImportJob.objects.select_related("created_by")
    permission_classes = [permissions.IsAuthenticated, CanAddClients]
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = ImportJobSerializer

    def get_queryset(self):
        jobs = self.queryset.restrict(self.request.user, "view")
        # Only the detail shows the row report (megabytes for 10,000 rows).
        return jobs if self.action == "retrieve" else jobs.defer("report")

    def get_serializer_class(self):
        return ImportJobDetailSerializer if self.action == "retrieve" else ImportJobSerializer

    def perform_create(self, serializer):
        job = services.import_job_create(user=self.request.user, upload=serializer.validated_data["file"])
        enqueue(job)
        serializer.instance = job

    @extend_schema(request=None, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Queue the save of a validated job whose every row passed; 400 otherwise."""
        job = self.get_object()
        try:
            job = services.import_confirm(job=job)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"detail": exc.messages}) from exc
        enqueue(job)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Run a stopped job's step again (its worker was lost); 400 if it is not stopped."""
        job = self.get_object()
        try:
            job = services.import_retry(job=job)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"detail": exc.messages}) from exc
        enqueue(job)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
