"""The API side of attachments (R61-R64), shared by every record's attachment resource
(``/api/need-attachments/``, ``/api/visit-attachments/``, ``/api/complaint-attachments/``):

* ``GET /`` lists the attachments of the reader's scope, filtered by their record (``?need=``,
  ...); deleted ones are left out unless ``?deleted=true`` (then only they are listed);
* ``POST /`` multipart ``{<record>, file, note}`` uploads (201 with the attachment), refused
  with 400 and the reason under ``file`` (size, type, content, name);
* ``GET /<id>/`` one attachment, ``GET /<id>/download/`` its file, as a download (R64);
* ``DELETE /<id>/`` (optional ``?reason=``) deletes it softly (R63): 204.

Reading follows the record's scope (out of scope 404; a role without reading 403); uploading
and deleting need the right to change the record (403 otherwise). Each concrete viewset names
its model, serializers and filterset, and logs downloads as reads (R4) through ``log_read``."""

from __future__ import annotations

import json

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import renderers, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from crm.api.base import RestrictedViewSet

from .files import Kind, oversized, too_large_error
from .pages import download_response
from .services import REASON_MAX, attachment_add, attachment_delete

FIELDS = [
    "id",
    "name",
    "kind",
    "content_type",
    "size",
    "sha256",
    "note",
    "uploaded_by",
    "uploaded_by_name",
    "created_at",
    "download_url",
    "deleted_at",
    "deleted_by",
    "delete_reason",
]


class AttachmentSerializer(serializers.Serializer):
    """The fields of an attachment as the API shows it. Each concrete serializer is
    ``class NeedAttachmentSerializer(AttachmentSerializer, serializers.ModelSerializer)`` with
    ``Meta.model`` and the record's field first (this base is no ModelSerializer: it has no model)."""

    uploaded_by_name = serializers.CharField(source="uploaded_by.display_name", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        fields = FIELDS
        read_only_fields = FIELDS

    def get_download_url(self, row) -> str:
        return self.context["view"].download_url(row) if "view" in self.context else ""


class AttachmentUploadSerializer(serializers.Serializer):
    """The multipart upload; subclasses add the record's field (``PrimaryKeyRelatedField``,
    its queryset the records the user may read, set in ``__init__``)."""

    file = serializers.FileField(allow_empty_file=True, use_url=False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AttachmentFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    deleted = django_filters.BooleanFilter(
        method="filter_deleted",
        help_text="true: only the deleted attachments; default: only the others",
    )

    def filter_deleted(self, queryset, name, value):
        return queryset.deleted() if value else queryset.live()


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX, required=False, allow_blank=True, default="")


class FileRenderer(renderers.BaseRenderer):
    """Lets a download be asked for with any ``Accept`` (the file's own type among them): the
    file itself is a FileResponse, which no renderer touches; what this renders is a refusal of
    the download (404, 403), still JSON and said to be."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return b"" if data is None else json.dumps(data, ensure_ascii=False).encode()


def documented(upload: type[AttachmentUploadSerializer], shown: type[AttachmentSerializer]):
    """The schema of a concrete viewset's upload: multipart in, the attachment out."""
    return extend_schema_view(
        create=extend_schema(
            request={"multipart/form-data": upload},
            responses={201: shown},
            description="Upload a file (multipart): refused with 400 and the reason under ``file``.",
        )
    )


class AttachmentViewSet(RestrictedViewSet):
    upload_serializer_class: type[AttachmentUploadSerializer]
    http_method_names = ["get", "post", "delete", "head", "options"]
    # Deleting is allowed to whoever may change the record (the service decides, 403), not
    # only to the holders of the delete right; downloading is reading.
    action_scopes = {"destroy": "view", "download": "view"}
    ordering_fields = ["created_at", "size", "name"]
    ordering = ["-created_at"]

    @property
    def model(self):
        return self.queryset.model

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "list" and "deleted" not in self.request.query_params:
            qs = qs.live()
        return qs

    def download_url(self, row) -> str:
        return reverse(f"{self.basename}-download", args=[row.pk])

    def log_read(self, request, row) -> None:
        """R4: the app that keeps the access log writes the download there."""

    def create(self, request, *args, **kwargs):
        if oversized(request):
            raise serializers.ValidationError({"file": too_large_error().messages})
        data = self.upload_serializer_class(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            row = attachment_add(
                model=self.model,
                parent=values[self.model.parent_field],
                upload=values["file"],
                by=request.user,
                note=values.get("note", ""),
            )
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise serializers.ValidationError(exc.message_dict) from exc
            raise serializers.ValidationError({"file": exc.messages}) from exc
        return self.answer(row, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("reason", str, OpenApiParameter.QUERY, required=False)],
        responses={204: None},
    )
    def destroy(self, request, *args, **kwargs):
        row = self.get_object()
        body = request.data if hasattr(request.data, "get") else {}
        reason = ReasonInput(data={"reason": request.query_params.get("reason", body.get("reason", ""))})
        reason.is_valid(raise_exception=True)
        attachment_delete(attachment=row, by=request.user, reason=reason.validated_data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses={
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file, as an attachment (Content-Disposition), of the type its content was "
                "recognised as (application/pdf, image/png, audio/mpeg, ...).",
            )
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, FileRenderer])
    def download(self, request, pk=None):
        """The file as a download (R64): ``Content-Disposition: attachment`` with its name, the
        type its content was recognised as, ``X-Content-Type-Options: nosniff``."""
        row = self.get_object()
        if row.is_deleted:
            raise NotFound()
        self.log_read(request, row)
        return download_response(row)
