"""Permission matrix of the attachments of needs and visits and of the visit page (style.md 10;
R61-R64 with R2-R5): downloads, lists and details follow the record's scope (own branch 200,
another branch 404 and not listed, group roles 200, a grant while it runs, nobody without a role
403, anonymous to the login); uploads and deletes need the right to change the record, and a
refused one changes nothing and stores nothing."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clients.models import NeedAttachment, Visit, VisitAttachment
from crm.attachments import samples
from crm.attachments.services import attachment_add
from tests.clients.grants import make_grant
from tests.permissions import ObjectMatrix

from .archive_helpers import make_need, make_visit, stored_files

pytestmark = pytest.mark.django_db

PDF = samples.pdf_document("会议纪要", ["设计交底"])

ROUTES_COVERED = [
    "clients:need-attachment-add",
    "clients:need-attachment-delete",
    "clients:visit-attachment-add",
    "clients:visit-attachment-delete",
    "need-attachment-download",
    "visit-attachment-download",
]


def need_attachment(org, branch_code="east") -> NeedAttachment:
    need = make_need(org, branch_code)
    return attachment_add(
        model=NeedAttachment,
        parent=need,
        upload=ContentFile(PDF, name="纪要.pdf"),
        by=org[f"{branch_code}_staff"],
    )


def visit_attachment(org, branch_code="east") -> VisitAttachment:
    visit = make_visit(org, branch_code)
    return attachment_add(
        model=VisitAttachment,
        parent=visit,
        upload=ContentFile(PDF, name="纪要.pdf"),
        by=org[f"{branch_code}_staff"],
    )


class TestNeedAttachmentMatrix(ObjectMatrix):
    model = NeedAttachment
    detail_route = "clients:need-attachment-download"
    api_list_route = "need-attachment-list"
    api_detail_route = "need-attachment-detail"
    covers = {"clients:need-attachment-download", "need-attachment-list", "need-attachment-detail"}

    def make(self, org, branch_code):
        return need_attachment(org, branch_code)

    def client_of(self, obj):
        return obj.need.client


class TestVisitAttachmentMatrix(ObjectMatrix):
    model = VisitAttachment
    detail_route = "clients:visit-attachment-download"
    api_list_route = "visit-attachment-list"
    api_detail_route = "visit-attachment-detail"
    covers = {"clients:visit-attachment-download", "visit-attachment-list", "visit-attachment-detail"}

    def make(self, org, branch_code):
        return visit_attachment(org, branch_code)

    def client_of(self, obj):
        return obj.visit.client


class TestVisitPageMatrix(ObjectMatrix):
    """The visit's page follows the visit's scope (R2-R5)."""

    model = Visit
    detail_route = "clients:visit-detail"
    covers = {"clients:visit-detail"}

    def make(self, org, branch_code):
        return make_visit(org, branch_code)


MAKERS = {"need": need_attachment, "visit": visit_attachment}


@pytest.mark.parametrize("kind", list(MAKERS))
@pytest.mark.parametrize(
    "persona,status",
    [
        (None, 401),
        ("norole", 403),
        ("east_staff", 200),
        ("south_staff", 404),
        ("leader", 200),
        ("auditor", 200),
    ],
)
def test_api_download(org, kind, persona, status):
    row = MAKERS[kind](org)
    response = org.api(persona).get(reverse(f"{kind}-attachment-download", args=[row.pk]))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("kind", list(MAKERS))
def test_api_download_under_a_grant_then_after_it(org, kind):
    row = MAKERS[kind](org)
    grant = make_grant(org, org["south_staff"], row.parent.client, active=True)
    url = reverse(f"{kind}-attachment-download", args=[row.pk])
    assert org.api("south_staff").get(url).status_code == 200
    grant.ends_at = grant.starts_at
    grant.save(update_fields=["ends_at"])
    assert org.api("south_staff").get(url).status_code == 404


def _state(model):
    return list(model.objects.values_list("pk", "deleted_at")), stored_files()


@pytest.mark.parametrize("kind", list(MAKERS))
@pytest.mark.parametrize(
    "persona,page,api",
    [
        (None, 302, 401),
        ("norole", 403, 403),
        ("south_staff", 404, 400),  # the API names the record in its body: not one of yours, 400
        ("south_manager", 404, 400),
        ("leader", 403, 403),
        ("auditor", 403, 403),
    ],
)
def test_refused_uploads_change_and_store_nothing(org, kind, persona, page, api):
    row = MAKERS[kind](org)
    model, parent = type(row), row.parent
    before = _state(model)
    url = reverse(f"clients:{kind}-attachment-add", args=[parent.pk])
    response = org.web(persona).post(url, {"file": SimpleUploadedFile("新.pdf", PDF), "note": "补充"})
    assert response.status_code == page
    response = org.api(persona).post(
        reverse(f"{kind}-attachment-list"), {kind: parent.pk, "file": SimpleUploadedFile("新.pdf", PDF)}
    )
    assert response.status_code == api
    assert _state(model) == before


@pytest.mark.parametrize("kind", list(MAKERS))
@pytest.mark.parametrize("persona", ["east_staff", "east_manager", "marketing"])
def test_uploads_by_those_who_may_change_the_record(org, kind, persona):
    row = MAKERS[kind](org)
    model, parent = type(row), row.parent
    before = model.objects.filter(uploaded_by=org[persona]).count()
    url = reverse(f"clients:{kind}-attachment-add", args=[parent.pk])
    assert org.web(persona).post(url, {"file": SimpleUploadedFile("新.pdf", PDF)}).status_code == 302
    response = org.api(persona).post(
        reverse(f"{kind}-attachment-list"), {kind: parent.pk, "file": SimpleUploadedFile("又.pdf", PDF)}
    )
    assert response.status_code == 201
    assert model.objects.filter(uploaded_by=org[persona], **{kind: parent}).count() == before + 2


@pytest.mark.parametrize("kind", list(MAKERS))
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
def test_refused_deletes_change_nothing(org, kind, persona, page, api):
    row = MAKERS[kind](org)
    model = type(row)
    before = _state(model)
    assert (
        org.web(persona).post(reverse(f"clients:{kind}-attachment-delete", args=[row.pk])).status_code == page
    )
    assert org.api(persona).delete(reverse(f"{kind}-attachment-detail", args=[row.pk])).status_code == api
    assert _state(model) == before


@pytest.mark.parametrize("kind", list(MAKERS))
def test_deletes_by_those_who_may_change_the_record(org, kind):
    """R62: staff of the record's branch delete (no need for the manager's delete right)."""
    first, second = MAKERS[kind](org), MAKERS[kind](org)
    page = org.web("east_staff").post(reverse(f"clients:{kind}-attachment-delete", args=[first.pk]))
    assert page.status_code == 302
    api = org.api("marketing").delete(reverse(f"{kind}-attachment-detail", args=[second.pk]))
    assert api.status_code == 204
    assert type(first).objects.deleted().count() == 2


@pytest.mark.parametrize("kind", list(MAKERS))
def test_the_write_routes_take_post_only(org, kind):
    row = MAKERS[kind](org)
    web = org.web("east_staff")
    assert web.get(reverse(f"clients:{kind}-attachment-add", args=[row.parent.pk])).status_code == 405
    assert web.get(reverse(f"clients:{kind}-attachment-delete", args=[row.pk])).status_code == 405
