"""R50: the classification and assessment of a need (seed 003, 需求分析: «按紧急程度分类 ... 按需求
性质分类 ... 可行性评估 ... 价值评估»): recorded with who and when, editable only from the version
shown (If-Match in the API, the page's hidden version), filterable in the needs list and its
export."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients.models import Need
from clients.needcare import services as care
from crm.models import StaleVersion

from .archive_helpers import make_need

pytestmark = pytest.mark.django_db

ROUTES_COVERED = ["clients:need-assess", "need-assess"]


def assess(org, need, user="east_staff", **values):
    values.setdefault("feasibility", "high")
    values.setdefault("value_assessment", "medium")
    return care.need_assess(need=need, by=org[user], **values)


def test_assessment_is_recorded_with_who_and_when(org):
    need = make_need(org)
    assess(org, need, is_functional=False, assessment_note="技术可行,成本可控")
    need.refresh_from_db()
    assert (need.feasibility, need.value_assessment, need.is_functional) == ("high", "medium", False)
    assert need.assessed_by == org["east_staff"] and need.assessed_at and need.status == "assessed"
    last = need.history.order_by("-history_id").first()
    assert last.history_change_reason.startswith("需求评估:一般,非功能性,可行性高,价值中")


def test_urgency_change_moves_the_deadline(org):
    """R50 with R11: urgent is answered within hours, general within working days."""
    need = make_need(org, urgency="general")
    before = need.response_due_at
    assess(org, need, urgency="urgent")
    need.refresh_from_db()
    assert need.urgency == "urgent" and need.response_due_at < before


def test_an_assessment_states_both_feasibility_and_value(org):
    need = make_need(org)
    with pytest.raises(ValidationError) as err:
        care.need_assess(need=need, by=org["east_staff"], feasibility="high")
    assert "value_assessment" in err.value.message_dict
    with pytest.raises(ValidationError):
        assess(org, need, feasibility="enormous")
    need.refresh_from_db()
    assert need.feasibility == "" and need.assessed_at is None and need.status == "received"


def test_a_stale_version_writes_nothing(org):
    need = make_need(org)
    shown = need.version
    assess(org, need)
    with pytest.raises(StaleVersion):
        assess(org, need, value_assessment="low", expected_version=shown)
    need.refresh_from_db()
    assert need.value_assessment == "medium"


def test_readers_cannot_assess(org):
    need = make_need(org)
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with pytest.raises(PermissionDenied):
        assess(org, need, user="auditor")
    with pytest.raises(Http404):
        assess(org, need, user="south_manager")


def test_page_form_keeps_what_was_typed_on_a_stale_version(org):
    need = make_need(org)
    web = org.web("east_staff")
    url = reverse("clients:need-assess", kwargs={"pk": need.pk})
    data = {
        "urgency": "important",
        "is_functional": "False",
        "feasibility": "low",
        "value_assessment": "high",
        "assessment_note": "需协调设计院资源",
        "version": need.version,
    }
    assess(org, need, user="east_manager")  # someone else, in between
    response = web.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200 and "已被他人修改" in html and "需协调设计院资源" in html
    need.refresh_from_db()
    assert need.value_assessment == "medium"
    data["version"] = need.version
    assert web.post(url, data).status_code == 302
    need.refresh_from_db()
    assert (need.urgency, need.is_functional, need.feasibility, need.value_assessment) == (
        "important",
        False,
        "low",
        "high",
    )
    missing = web.post(url, {**data, "feasibility": "", "version": need.version})
    assert "请填写可行性评估和价值评估" in missing.content.decode()


def test_page_scope(org):
    need = make_need(org)
    url = reverse("clients:need-assess", kwargs={"pk": need.pk})
    data = {
        "urgency": "urgent",
        "is_functional": "True",
        "feasibility": "low",
        "value_assessment": "low",
        "version": need.version,
    }
    assert org.web("norole").post(url, data).status_code == 403
    assert org.web("leader").post(url, data).status_code == 403
    assert org.web("south_staff").post(url, data).status_code == 404
    assert org.web("east_staff").get(url).status_code == 405
    need.refresh_from_db()
    assert need.feasibility == ""


def test_api_assess_with_if_match(org):
    need = make_need(org)
    api = org.api("east_staff")
    url = reverse("need-assess", kwargs={"pk": need.pk})
    ok = api.post(
        url,
        {"feasibility": "high", "value_assessment": "high", "is_functional": False},
        format="json",
        HTTP_IF_MATCH=f'W/"{need.version}"',
    )
    assert (
        ok.status_code == 200 and ok.json()["feasibility"] == "high" and ok.json()["is_functional"] is False
    )
    assert ok["ETag"] == f'W/"{ok.json()["version"]}"'
    stale = api.post(url, {"value_assessment": "low"}, format="json", HTTP_IF_MATCH=f'W/"{need.version}"')
    assert stale.status_code == 409 and stale.json()["current"]["value_assessment"] == "high"
    bad = api.post(url, {"feasibility": "huge"}, format="json")
    assert bad.status_code == 400
    for who, code in (("norole", 403), ("south_staff", 404), ("leader", 403)):
        assert (
            org.api(who)
            .post(url, {"feasibility": "low", "value_assessment": "low"}, format="json")
            .status_code
            == code
        )
    need.refresh_from_db()
    assert need.value_assessment == "high"


def test_patch_with_if_match_edits_the_classification(org):
    """R50: the classification is editable through the need itself too, under the same lock."""
    need = make_need(org)
    api = org.api("east_staff")
    url = reverse("need-detail", kwargs={"pk": need.pk})
    assert (
        api.patch(
            url, {"is_functional": False}, format="json", HTTP_IF_MATCH=f'W/"{need.version}"'
        ).status_code
        == 200
    )
    assert (
        api.patch(
            url, {"is_functional": True}, format="json", HTTP_IF_MATCH=f'W/"{need.version}"'
        ).status_code
        == 409
    )
    need.refresh_from_db()
    assert need.is_functional is False


def test_list_filters_and_export_carry_the_assessment(org):
    a, b = make_need(org), make_need(org)
    assess(org, a, is_functional=False, feasibility="low", value_assessment="high")
    assess(org, b, is_functional=True, feasibility="high", value_assessment="low")
    web = org.web("east_staff")
    listed = web.get(reverse("clients:need-list"), {"is_functional": "false", "value_assessment": "high"})
    assert [n.pk for n in listed.context["page"].object_list] == [a.pk]
    api = org.api("east_staff").get(reverse("need-list"), {"feasibility": "high"}).json()
    assert [row["id"] for row in api["results"]] == [b.pk]
    export = web.get(reverse("clients:need-export"), {"is_functional": "false"})
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert "需求性质" in header and "可行性" in header and "价值评估" in header
    body = [r for r in rows[1:] if any(r)]
    assert len(body) == 1
    assert body[0][header.index("需求性质")] == "非功能性需求" and body[0][header.index("价值评估")] == "高"


def test_a_merged_need_is_not_assessed(org):
    first = make_need(org)
    second = make_need(org, client=first.client)
    care.need_merge(duplicate=second, into=first, by=org["east_staff"])
    with pytest.raises(ValidationError, match="已合并"):
        assess(org, Need.objects.get(pk=second.pk))
