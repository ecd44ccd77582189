"""Attachments of complaints (R61-R64 with R15, R19): who works the complaint (its owner, the
branch manager, group marketing) adds and deletes them, a closed complaint takes no change, each
upload and delete is a step of the timeline; reads follow the complaint's scope (matrix)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from complaints.models import ComplaintAttachment
from crm.attachments import samples
from crm.attachments.services import attachment_add, attachment_delete
from tests.clients.archive_helpers import stored_files
from tests.permissions import ObjectMatrix

from .conftest import make_complaint
from .test_services import walk_to

pytestmark = pytest.mark.django_db

PNG = samples.png_picture()

ROUTES_COVERED = [
    "complaints:complaint-attachment-add",
    "complaints:complaint-attachment-delete",
    "complaint-attachment-download",
]


def attach(org, complaint, *, by="east_staff", name="渗水照片.png") -> ComplaintAttachment:
    return attachment_add(
        model=ComplaintAttachment, parent=complaint, upload=ContentFile(PNG, name=name), by=org[by]
    )


def complaint_attachment(org, branch_code="east") -> ComplaintAttachment:
    return attach(org, make_complaint(org, branch_code), by=f"{branch_code}_staff")


class TestComplaintAttachmentMatrix(ObjectMatrix):
    model = ComplaintAttachment
    detail_route = "complaints:complaint-attachment-download"
    api_list_route = "complaint-attachment-list"
    api_detail_route = "complaint-attachment-detail"
    covers = {
        "complaints:complaint-attachment-download",
        "complaint-attachment-list",
        "complaint-attachment-detail",
    }

    def make(self, org, branch_code):
        return complaint_attachment(org, branch_code)

    def client_of(self, obj):
        return obj.complaint.client


def test_an_upload_and_a_delete_are_steps_of_the_timeline(org):
    """R19: the complaint's timeline shows the upload and the delete, with who and the name."""
    complaint = make_complaint(org)
    row = attach(org, complaint)
    attachment_delete(attachment=row, by=org["east_manager"], reason="照片不清晰")
    events = list(complaint.events.order_by("at", "pk").values_list("kind", "by__username", "note"))
    assert events[-2:] == [
        ("attached", "east_staff", "渗水照片.png"),
        ("attachment_deleted", "east_manager", "渗水照片.png:照片不清晰"),
    ]
    html = (
        org.web("east_staff")
        .get(reverse("complaints:complaint-detail", args=[complaint.pk]))
        .content.decode()
    )
    assert "上传附件" in html and "删除附件" in html


def test_who_works_the_complaint_attaches(org):
    """R15: the owner, the branch manager and group marketing; a colleague who handed it over
    no longer does, and the group's readers never do."""
    complaint = make_complaint(org, by=org["east_manager"])  # east_manager owns it
    before = stored_files()
    for persona in ("east_staff", "leader", "auditor"):
        with pytest.raises(PermissionDenied):
            attach(org, complaint, by=persona)
    assert stored_files() == before and not ComplaintAttachment.objects.exists()
    for persona in ("east_manager", "marketing"):
        assert attach(org, complaint, by=persona).uploaded_by == org[persona]
    html = (
        org.web("east_staff")
        .get(reverse("complaints:complaint-detail", args=[complaint.pk]))
        .content.decode()
    )
    assert "渗水照片.png" in html and 'data-testid="attachment-form"' not in html


def test_a_closed_complaint_takes_no_attachment_change(org):
    complaint = make_complaint(org)
    row = attach(org, complaint)
    complaint = walk_to(complaint, org, "closed")
    before = stored_files()
    with pytest.raises(ValidationError) as caught:
        attach(org, complaint)
    assert "已关闭" in caught.value.messages[0]
    with pytest.raises(ValidationError):
        attachment_delete(attachment=row, by=org["east_staff"])
    assert stored_files() == before and ComplaintAttachment.objects.live().count() == 1
    web = org.web("east_staff")
    html = web.get(reverse("complaints:complaint-detail", args=[complaint.pk])).content.decode()
    assert "渗水照片.png" in html and 'data-testid="attachment-form"' not in html
    response = web.post(
        reverse("complaints:complaint-attachment-add", args=[complaint.pk]),
        {"file": SimpleUploadedFile("补充.png", PNG)},
    )
    assert response.status_code == 200 and "已关闭" in response.content.decode()
    api = org.api("east_staff").post(
        reverse("complaint-attachment-list"),
        {"complaint": complaint.pk, "file": SimpleUploadedFile("补充.png", PNG)},
    )
    assert api.status_code == 400 and "已关闭" in api.json()["file"][0]
    assert ComplaintAttachment.objects.count() == 1


def test_the_complaint_page_uploads_and_downloads(org):
    complaint = make_complaint(org)
    web = org.web("east_staff")
    response = web.post(
        reverse("complaints:complaint-attachment-add", args=[complaint.pk]),
        {
            "file": SimpleUploadedFile("业主来函.pdf", samples.pdf_document("投诉函", ["外墙渗水"])),
            "note": "书面投诉",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith(
        f"/complaints/{complaint.pk}/#attachments"
    )
    row = ComplaintAttachment.objects.get()
    download = web.get(row.get_download_url())
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    "persona,page,api",
    [
        (None, 302, 401),
        ("norole", 403, 403),
        ("south_staff", 404, 400),  # the API names the complaint in its body: not one of yours, 400
        ("south_manager", 404, 400),
        ("leader", 403, 403),
        ("auditor", 403, 403),
    ],
)
def test_refused_uploads_change_and_store_nothing(org, persona, page, api):
    complaint = make_complaint(org)
    before = (stored_files(), ComplaintAttachment.objects.count(), complaint.events.count())
    url = reverse("complaints:complaint-attachment-add", args=[complaint.pk])
    assert org.web(persona).post(url, {"file": SimpleUploadedFile("a.png", PNG)}).status_code == page
    response = org.api(persona).post(
        reverse("complaint-attachment-list"),
        {"complaint": complaint.pk, "file": SimpleUploadedFile("a.png", PNG)},
    )
    assert response.status_code == api
    assert (stored_files(), ComplaintAttachment.objects.count(), complaint.events.count()) == before


@pytest.mark.parametrize(
    "persona,page,api",
    [
        (None, 302, 401),
        ("norole", 403, 403),
        ("south_staff", 404, 404),
        ("south_manager", 404, 404),
        ("leader", 403, 403),
        ("auditor", 403, 403),
    ],
)
def test_refused_deletes_change_nothing(org, persona, page, api):
    row = complaint_attachment(org)
    before = list(ComplaintAttachment.objects.values_list("pk", "deleted_at"))
    url = reverse("complaints:complaint-attachment-delete", args=[row.pk])
    assert org.web(persona).post(url, {"reason": "x"}).status_code == page
    assert org.api(persona).delete(reverse("complaint-attachment-detail", args=[row.pk])).status_code == api
    assert list(ComplaintAttachment.objects.values_list("pk", "deleted_at")) == before


def test_the_owner_deletes_through_the_page_and_marketing_through_the_api(org):
    first, second = complaint_attachment(org), complaint_attachment(org)
    response = org.web("east_staff").post(
        reverse("complaints:complaint-attachment-delete", args=[first.pk]), {"reason": "重复"}
    )
    assert response.status_code == 302
    assert (
        org.api("marketing").delete(reverse("complaint-attachment-detail", args=[second.pk])).status_code
        == 204
    )
    assert ComplaintAttachment.objects.deleted().count() == 2


@pytest.mark.parametrize(
    "persona,status",
    [(None, 401), ("norole", 403), ("east_staff", 200), ("south_staff", 404), ("leader", 200)],
)
def test_api_download(org, persona, status):
    row = complaint_attachment(org)
    assert org.api(persona).get(reverse("complaint-attachment-download", args=[row.pk])).status_code == status
