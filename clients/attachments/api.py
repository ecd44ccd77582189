"""API of the attachments of needs and visits (R61-R64): ``/api/need-attachments/`` and
``/api/visit-attachments/``. What they do is crm.attachments.api's (list with ``?need=`` /
``?visit=``, multipart upload, download, soft delete); here are the record's field, its filter
and the access log of another branch's reads (R4: lists, details and downloads)."""

from __future__ import annotations

import django_filters
from rest_framework import serializers

from crm.attachments.api import (
    FIELDS,
    AttachmentFilter,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    AttachmentViewSet,
    documented,
)

from ..access.log import AccessLoggedMixin, log_reads
from ..models import AccessLog, Need, Visit
from .models import NeedAttachment, VisitAttachment


class NeedAttachmentSerializer(AttachmentSerializer, serializers.ModelSerializer):
    class Meta(AttachmentSerializer.Meta):
        model = NeedAttachment
        fields = ["need", *FIELDS]
        read_only_fields = fields


class VisitAttachmentSerializer(AttachmentSerializer, serializers.ModelSerializer):
    class Meta(AttachmentSerializer.Meta):
        model = VisitAttachment
        fields = ["visit", *FIELDS]
        read_only_fields = fields


class NeedAttachmentUploadSerializer(AttachmentUploadSerializer):
    need = serializers.PrimaryKeyRelatedField(queryset=Need.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["need"].queryset = Need.objects.restrict(request.user, "view")


class VisitAttachmentUploadSerializer(AttachmentUploadSerializer):
    visit = serializers.PrimaryKeyRelatedField(queryset=Visit.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["visit"].queryset = Visit.objects.restrict(request.user, "view")


class NeedAttachmentFilter(AttachmentFilter):
    need = django_filters.NumberFilter(field_name="need_id")
    client = django_filters.NumberFilter(field_name="need__client_id")

    class Meta:
        model = NeedAttachment
        fields = ["need", "client", "kind", "deleted"]


class VisitAttachmentFilter(AttachmentFilter):
    visit = django_filters.NumberFilter(field_name="visit_id")
    client = django_filters.NumberFilter(field_name="visit__client_id")

    class Meta:
        model = VisitAttachment
        fields = ["visit", "client", "kind", "deleted"]


class ArchiveAttachmentViewSet(AccessLoggedMixin, AttachmentViewSet):
    """Lists and details are logged by the mixin, downloads here (R4)."""

    def log_read(self, request, row) -> None:
        log_reads(getattr(request, "_request", request), [row], via=AccessLog.Via.API)


@documented(NeedAttachmentUploadSerializer, NeedAttachmentSerializer)
class NeedAttachmentViewSet(ArchiveAttachmentViewSet):
    """Attachments of needs (录音、录像、照片、文字记录). Filters: ``need``, ``client``, ``kind``,
    ``deleted``."""

    queryset = NeedAttachment.objects.select_related("need__client", "uploaded_by", "deleted_by")
    serializer_class = NeedAttachmentSerializer
    upload_serializer_class = NeedAttachmentUploadSerializer
    filterset_class = NeedAttachmentFilter


@documented(VisitAttachmentUploadSerializer, VisitAttachmentSerializer)
class VisitAttachmentViewSet(ArchiveAttachmentViewSet):
    """Attachments of visits (the minutes, recordings, videos and photos of a meeting). Filters:
    ``visit``, ``client``, ``kind``, ``deleted``."""

    queryset = VisitAttachment.objects.select_related("visit__client", "uploaded_by", "deleted_by")
    serializer_class = VisitAttachmentSerializer
    upload_serializer_class = VisitAttachmentUploadSerializer
    filterset_class = VisitAttachmentFilter
