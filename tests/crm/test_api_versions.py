"""Optimistic locking over every writable API endpoint (crm/api/base.py): each PATCH and PUT of
the schema edits a ``Versioned`` row, answers its ETag, and refuses a stale ``If-Match`` with
409 and the current row, and a malformed one with 400 (a malformed precondition is bad input,
like a malformed field; 412 is not used), before anything is written."""

from __future__ import annotations

import importlib
import json

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from crm.models import Versioned
from tests.permissions import ObjectMatrix

pytestmark = pytest.mark.django_db

# The permission matrices know how to make a row of each model (style.md 10).
for _module in (
    "tests.clients.test_archive_permissions",
    "tests.complaints.test_permissions",
    "tests.surveys.test_permissions",
    "tests.assessments.test_report_permissions",
    "tests.clients.test_cultivation_permissions",
    "tests.assessments.test_department_reports",
    "tests.assessments.test_department_survey_reports",
    "tests.assessments.test_need_report_pages",
    "tests.complaints.test_repair_permissions",
    "tests.clients.test_project_fees_permissions",
):
    importlib.import_module(_module)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _schema():
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


# The reader's own settings (/api/me/...): one person's row, which nobody else edits; there is
# no update of someone else's to lose.
OWN_SETTINGS = "/api/me/"


def _edits():
    """(method, path template) of every documented PUT and PATCH of one shared row."""
    return sorted(
        (method.upper(), path)
        for path, operations in _schema()["paths"].items()
        for method in operations
        if method in ("put", "patch") and not path.startswith(OWN_SETTINGS)
    )


EDITS = _edits()


def _model(path: str):
    view = resolve(path.replace("{id}", "1")).func
    return view.cls.queryset.model


def _make(org, model):
    from surveys.models import SurveyTemplate

    if model is SurveyTemplate:
        from tests.surveys.conftest import ensure_shipped_templates

        ensure_shipped_templates()
        return SurveyTemplate.objects.get(code="standard")
    from assessments.models import AnalysisReport

    if model is AnalysisReport:
        from assessments.review import services
        from crm import figures as fig

        return services.analysis_open(branch=org.branches["east"], half=fig.HalfYear.containing())
    made = _make_circulars(org, model) or _make_robot(org, model)
    if made is not None:
        return made
    for matrix in _subclasses(ObjectMatrix):
        if matrix.model is model:
            return matrix().make(org, "east")
    raise AssertionError(f"no way to make a {model.__name__} for the test")


def _make_circulars(org, model):
    """A circular and a commendation of a rated half-year round (R88, R92)."""
    import time_machine

    from assessments.circulars import services
    from assessments.models import Assessment, Circular, LeaderReport
    from tests.assessments.meeting_helpers import NOW, rated_round, record_meeting

    if model not in (Circular, LeaderReport):
        return None
    # One rated round, meeting and circular per organisation, however many rows are asked for.
    made = org.__dict__.setdefault("_circulars", {})
    with time_machine.travel(NOW, tick=False):
        if "round" not in made:
            made["round"] = rated_round(org)
        if model is Circular:
            if "circular" not in made:
                meeting = record_meeting(org, made["round"])
                made["circular"] = services.circular_generate(meeting=meeting, by=org["marketing"])
            return made["circular"]
        east = Assessment.objects.get(round=made["round"], branch=org.branches["east"])
        return services.commendation_draft(assessment=east, by=org["marketing"])


def _make_robot(org, model):
    from crm.robots.models import ChatRobot
    from crm.robots.services import robot_save

    if model is not ChatRobot:
        return None
    robot = ChatRobot(
        name="华东群", kind="wecom", unit="branch", branch=org.branches["east"],
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1", notice_kinds=["overdue"],
    )  # fmt: skip
    return robot_save(robot=robot, by=org["admin"], secret="")


def test_own_settings_are_the_only_unversioned_edits():
    paths = {
        path
        for path, operations in _schema()["paths"].items()
        for method in operations
        if method in ("put", "patch") and path.startswith(OWN_SETTINGS)
    }
    assert paths == {"/api/me/preferences/"}


def test_the_schema_documents_edits():
    assert ("PATCH", "/api/monthly-reports/{id}/") in EDITS
    assert ("PATCH", "/api/clients/{id}/") in EDITS


@pytest.mark.parametrize(("method", "path"), EDITS)
def test_every_edited_model_is_versioned(method, path):
    assert issubclass(_model(path), Versioned), f"{method} {path} edits a row without a version"


@pytest.mark.parametrize(("method", "path"), EDITS)
def test_a_stale_or_malformed_if_match_is_refused(org, method, path):
    model = _model(path)
    row = _make(org, model)
    url = path.replace("{id}", str(row.pk))
    api = org.api("admin")
    read = api.get(url)
    assert read.status_code == 200, (url, read.status_code)
    assert read["ETag"] == f'W/"{row.version}"'
    assert read.json()["version"] == row.version
    call = getattr(api, method.lower())

    stale = call(url, {}, format="json", HTTP_IF_MATCH=f'W/"{row.version + 7}"')
    assert stale.status_code == 409, (method, url, stale.status_code, stale.content[:300])
    assert stale.json()["current"]["version"] == row.version
    assert stale["ETag"] == f'W/"{row.version}"'

    garbage = call(url, {}, format="json", HTTP_IF_MATCH="garbage")
    assert garbage.status_code == 400, (method, url, garbage.status_code)
    assert "version" in garbage.json()

    stored = model._base_manager.get(pk=row.pk)
    assert stored.version == row.version  # nothing written


def test_two_patches_based_on_one_version_do_not_both_win(org):
    """The lost update of the monthly report: the second PATCH sent with the same If-Match finds
    the version it was based on gone."""
    from assessments.models import MonthlyReport

    report = _make(org, MonthlyReport)
    url = f"/api/monthly-reports/{report.pk}/"
    api = org.api("east_manager")
    tag = api.get(url)["ETag"]
    first = api.patch(url, {"remarks": "本月新增两家意向客户。"}, format="json", HTTP_IF_MATCH=tag)
    assert first.status_code == 200, first.content
    assert first["ETag"] != tag
    second = api.patch(url, {"remarks": "本月无变化。"}, format="json", HTTP_IF_MATCH=tag)
    assert second.status_code == 409
    assert second.json()["current"]["remarks"] == "本月新增两家意向客户。"
    report.refresh_from_db()
    assert report.remarks == "本月新增两家意向客户。"
