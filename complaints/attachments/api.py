"""API of the attachments of complaints (R61-R64): ``/api/complaint-attachments/``, as the
archive's attachment resources (crm.attachments.api; reads of another branch logged, R4). Who
may upload and delete is who may work the complaint (R15); a closed complaint refuses (400)."""

from __future__ import annotations

import django_filters
from rest_framework import serializers

from clients.attachments.api import ArchiveAttachmentViewSet
from crm.attachments.api import (
    FIELDS,
    AttachmentFilter,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    documented,
)

from ..models import Complaint
from .models import ComplaintAttachment


class ComplaintAttachmentSerializer(AttachmentSerializer, serializers.ModelSerializer):
    class Meta(AttachmentSerializer.Meta):
        model = ComplaintAttachment
        fields = ["complaint", *FIELDS]
        read_only_fields = fields


class ComplaintAttachmentUploadSerializer(AttachmentUploadSerializer):
    complaint = serializers.PrimaryKeyRelatedField(queryset=Complaint.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["complaint"].queryset = Complaint.objects.restrict(request.user, "view")


class ComplaintAttachmentFilter(AttachmentFilter):
    complaint = django_filters.NumberFilter(field_name="complaint_id")
    client = django_filters.NumberFilter(field_name="complaint__client_id")

    class Meta:
        model = ComplaintAttachment
        fields = ["complaint", "client", "kind", "deleted"]


@documented(ComplaintAttachmentUploadSerializer, ComplaintAttachmentSerializer)
class ComplaintAttachmentViewSet(ArchiveAttachmentViewSet):
    """Attachments of complaints (the letter, photos of the defect, recordings of the calls and
    return visits). Filters: ``complaint``, ``client``, ``kind``, ``deleted``."""

    queryset = ComplaintAttachment.objects.select_related("complaint__client", "uploaded_by", "deleted_by")
    serializer_class = ComplaintAttachmentSerializer
    upload_serializer_class = ComplaintAttachmentUploadSerializer
    filterset_class = ComplaintAttachmentFilter
