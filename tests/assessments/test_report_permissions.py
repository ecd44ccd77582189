"""The permission matrix of monthly reporting (style.md 10) and the API's answers: 403 for a
missing role, 400 with a Chinese message for a refused step, 404 out of scope."""

import pytest
import time_machine
from django.urls import reverse

from assessments.models import MonthlyReport, Ranking
from assessments.monthly import services
from crm import figures as fig
from tests.permissions import ObjectMatrix

from .helpers import at, new_client

pytestmark = pytest.mark.django_db

DEC = fig.Period(2026, 12)

ROUTES_COVERED = (
    "assessments:report-current",
    "assessments:report-figure",
    "assessments:report-remarks",
    "assessments:report-submit",
    "assessments:report-accept",
    "assessments:report-return",
    "assessments:rollup",
    "assessments:rollup-figure",
    "assessments:close-list",
    "assessments:ranking-list",
    "assessments:ranking-detail",
    "assessments:ranking-clients",
    "monthly-report-submit",
    "monthly-report-accept",
    "monthly-report-return",
    "monthly-report-close",
    "monthly-report-rollup",
    "ranking-list",
    "ranking-detail",
)


class TestMonthlyReportMatrix(ObjectMatrix):
    model = MonthlyReport
    list_route = "assessments:report-list"
    detail_route = "assessments:report-detail"
    api_list_route = "monthly-report-list"
    api_detail_route = "monthly-report-detail"
    grants_apply = False  # a grant opens clients, never a branch's report
    covers = {
        "assessments:report-list",
        "assessments:report-detail",
        "monthly-report-list",
        "monthly-report-detail",
    }

    def make(self, org, branch_code):
        return services.report_open(branch=org.branches[branch_code], period=DEC)


def _report(org, code="east"):
    return services.report_open(branch=org.branches[code], period=DEC)


def test_write_routes_refuse_other_branches_and_roles(org):
    report = _report(org)
    for route in ("report-remarks", "report-submit", "report-accept", "report-return"):
        url = reverse(f"assessments:{route}", kwargs={"pk": report.pk})
        assert org.web(None).post(url).status_code == 302, route
        assert org.web("norole").post(url).status_code in (403, 404), route
        assert org.web("south_manager").post(url).status_code == 404, route
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        assert (
            org.web("east_staff")
            .post(reverse("assessments:report-submit", kwargs={"pk": report.pk}))
            .status_code
            == 403
        )
        assert (
            org.web("leader").post(reverse("assessments:report-submit", kwargs={"pk": report.pk})).status_code
            == 403
        )
        services.report_submit(report=report, by=org["east_manager"])
        assert (
            org.web("east_manager")
            .post(reverse("assessments:report-accept", kwargs={"pk": report.pk}))
            .status_code
            == 403
        )
        assert (
            org.web("auditor")
            .post(reverse("assessments:report-return", kwargs={"pk": report.pk}), {"reason": "x"})
            .status_code
            == 403
        )
    report.refresh_from_db()
    assert report.status == "submitted"
    url = reverse("assessments:report-figure", kwargs={"pk": report.pk, "key": "new_clients"})
    assert org.web("east_staff").get(url).status_code == 200
    assert org.web("south_staff").get(url).status_code == 404
    assert org.web("norole").get(url).status_code == 403
    assert (
        org.web("east_staff")
        .get(reverse("assessments:report-figure", kwargs={"pk": report.pk, "key": "nope"}))
        .status_code
        == 404
    )


def test_group_pages_by_role(org):
    rollup, close = reverse("assessments:rollup"), reverse("assessments:close-list")
    column = reverse("assessments:rollup-figure", kwargs={"key": "new_clients"})
    for who in ("marketing", "leader", "auditor", "admin"):
        assert org.web(who).get(rollup).status_code == 200, who
        assert org.web(who).get(column).status_code == 200, who
    for who in ("east_manager", "east_staff", "norole"):
        assert org.web(who).get(rollup).status_code == 403, who
        assert org.web(who).get(column).status_code == 403, who
    assert org.web(None).get(rollup).status_code == 302
    assert org.web(None).get(column).status_code == 302
    assert (
        org.web("marketing").get(reverse("assessments:rollup-figure", kwargs={"key": "nope"})).status_code
        == 404
    )
    for who in ("marketing", "admin"):
        assert org.web(who).get(close).status_code == 200, who
    for who in ("leader", "auditor", "east_manager", "east_staff", "norole"):
        assert org.web(who).get(close).status_code == 403, who
    assert org.web("east_manager").get(reverse("assessments:report-current")).status_code == 302
    assert org.web("norole").get(reverse("assessments:report-current")).status_code == 403


def test_rankings_are_read_by_every_role_and_remarked_by_marketing(org):
    ranking, _ = services.ranking_build(kind="quarter", label="2026Q3", as_of=at("2026-10-01T00:00"))
    detail = reverse("assessments:ranking-detail", kwargs={"pk": ranking.pk})
    for who in ("east_staff", "south_manager", "leader", "auditor", "marketing"):
        assert org.web(who).get(reverse("assessments:ranking-list")).status_code == 200, who
        assert org.web(who).get(detail).status_code == 200, who
        assert org.api(who).get(reverse("ranking-detail", kwargs={"pk": ranking.pk})).status_code == 200, who
    assert org.web("norole").get(detail).status_code == 403
    assert org.api("norole").get(reverse("ranking-list")).status_code == 403
    assert org.api(None).get(reverse("ranking-list")).status_code == 401
    assert org.web("east_manager").post(detail, {"remarks": "自评"}).status_code == 403
    assert org.web("marketing").post(detail, {"remarks": "华东A类客户增长最快。"}).status_code == 302
    assert Ranking.objects.get().remarks == "华东A类客户增长最快。"


def test_api_steps_answer_403_400_404(org):
    report = _report(org)
    submit = reverse("monthly-report-submit", kwargs={"pk": report.pk})
    ret = reverse("monthly-report-return", kwargs={"pk": report.pk})
    accept = reverse("monthly-report-accept", kwargs={"pk": report.pk})
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        assert org.api("south_manager").post(submit).status_code == 404
        assert org.api("east_staff").post(submit).status_code == 403
        assert org.api("norole").post(submit).status_code == 403
        response = org.api("marketing").post(ret, {"reason": "x"}, format="json")
        assert response.status_code == 400 and "已上报" in str(response.json())
        response = org.api("east_manager").post(submit, {"remarks": "无"}, format="json")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "submitted" and body["timeliness"] == "on_time" and body["frozen"]
        assert set(fig.keys()) == set(body["figures"])
        again = org.api("east_manager").post(submit)
        assert again.status_code == 400 and "无需重复上报" in str(again.json())
        assert org.api("east_manager").post(accept).status_code == 403
        assert org.api("marketing").post(ret, {}, format="json").status_code == 400
        response = org.api("marketing").post(ret, {"reason": "请补全信用代码"}, format="json")
        assert response.status_code == 200 and response.json()["status"] == "returned"


def test_api_filters_and_rollup_totals(org):
    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        new_client(org, "east")
        new_client(org, "south")
        new_client(org, "south")
        for code in ("east", "south"):
            _report(org, code)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        api = org.api("marketing")
        rows = api.get(reverse("monthly-report-list"), {"period": "2026-12"}).json()["results"]
        assert {r["branch_name"] for r in rows} >= {"华东分公司", "华南分公司"} or len(rows) == 2
        assert api.get(reverse("monthly-report-list"), {"period": "2026-13"}).status_code == 400
        mine = org.api("east_manager").get(reverse("monthly-report-list")).json()["results"]
        assert {r["branch"] for r in mine} == {org.branches["east"].pk}
        rollup = api.get(reverse("monthly-report-rollup"), {"period": "2026-12"})
        assert rollup.status_code == 200
        data = rollup.json()
        for key in ("new_clients", "needs_received", "complaints_received"):
            assert data["totals"][key] == sum(r["figures"][key] for r in data["rows"])
        assert data["totals"]["new_clients"] == 3
        assert api.get(reverse("monthly-report-rollup"), {"period": "x"}).status_code == 400
        assert (
            org.api("east_manager").get(reverse("monthly-report-rollup"), {"period": "2026-12"}).status_code
            == 403
        )


def test_api_close_answers_at_once_and_refuses_other_roles(org, django_capture_on_commit_callbacks):
    close = reverse("monthly-report-close")
    with time_machine.travel(at("2026-12-26T09:00"), tick=False):
        assert org.api("east_manager").post(close, {"period": "2026-12"}, format="json").status_code == 403
        assert org.api("leader").post(close, {"period": "2026-12"}, format="json").status_code == 403
        assert org.api("marketing").post(close, {"period": "2026/12"}, format="json").status_code == 400
        early = org.api("marketing").post(close, {"period": "2027-01"}, format="json")
        assert early.status_code == 400 and "截止" in str(early.json())
        from unittest import mock

        from assessments import tasks

        with mock.patch.object(tasks.monthly_close_part, "delay") as delay:
            response = org.api("marketing").post(close, {"period": "2026-12"}, format="json")
        assert response.status_code == 202
        assert response.json()["state"] == "running" and response.json()["total"] == delay.call_count > 0
