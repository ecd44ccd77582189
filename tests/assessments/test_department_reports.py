"""Project departments report to their branch (seed 001; R80-R84): the part's window and frozen
figures, the branch's deadline, on time and late, the branch manager's return and the
resubmission with their history, the branch report's view of the parts and their sums, the
reminders, the export, the pages' and the API's permission matrix."""

from __future__ import annotations

import io

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from assessments.deptreports import services
from assessments.models import DepartmentEvent, DepartmentReport
from assessments.monthly import services as monthly
from clients.imports.spreadsheet import COLUMNS, EXPORT_ONLY_COLUMNS
from crm.figures import Period
from crm.models import Notification
from tests.clients.factories import ClientFactory
from tests.permissions import ObjectMatrix

from .dept_helpers import dept_staff
from .helpers import at

pytestmark = pytest.mark.django_db

DEC = Period(2026, 12)

ROUTES_COVERED = [
    "assessments:department-report-current",
    "assessments:department-report-figure",
    "assessments:department-report-submit",
    "assessments:department-report-return",
    "assessments:department-deadline",
    "department-report-submit",
    "department-report-return",
    "department-report-deadline",
]


def part_of(org, code="east", dcode="pd-hongqiao", period=DEC) -> DepartmentReport:
    return services.part_open(department=org.departments[(code, dcode)], period=period)


def client_in(org, dcode="pd-hongqiao", code="east", **kw):
    return ClientFactory(
        branch=org.branches[code], department=org.departments[(code, dcode)], owner=org[f"{code}_staff"], **kw
    )


class TestDepartmentReportMatrix(ObjectMatrix):
    model = DepartmentReport
    list_route = "assessments:department-report-list"
    detail_route = "assessments:department-report-detail"
    api_list_route = "department-report-list"
    api_detail_route = "department-report-detail"
    grants_apply = False  # a grant opens clients, never a department's report
    covers = {
        "assessments:department-report-list",
        "assessments:department-report-detail",
        "department-report-list",
        "department-report-detail",
    }

    def make(self, org, branch_code):
        dcode = {"east": "pd-hongqiao", "south": "pd-qianhai"}[branch_code]
        return part_of(org, branch_code, dcode)


def test_a_department_submits_its_own_figures_frozen_over_its_window(org):
    """R80, R81: the part counts the department's records only, from the period's start to the
    submission; what comes after is the next part's; the frozen figures do not move."""
    staff = dept_staff(org, "east", "pd-hongqiao")
    with time_machine.travel(at("2026-12-05T10:00"), tick=False):
        mine = client_in(org)
        client_in(org, "pd-suzhou")  # another department's
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        part = services.part_submit(part=part_of(org), by=staff, remarks="本月新增1家")
    assert part.status == "submitted" and part.on_time is True and part.timeliness == "on_time"
    assert part.values["new_clients"] == 1
    rows, total = services.part_rows(part, org["east_manager"], "new_clients")
    assert [r["id"] for r in rows] == [mine.pk] and total == 1
    with time_machine.travel(at("2026-12-21T10:00"), tick=False):
        later = client_in(org)
    with time_machine.travel(at("2026-12-21T11:00"), tick=False):
        jan = part_of(org, period=DEC.next())
        assert services.part_window(jan).start == part.frozen_at
        assert services.part_values(jan, org["east_manager"])["new_clients"] == 1
        assert [r["id"] for r in services.part_rows(jan, org["east_manager"], "new_clients")[0]] == [later.pk]
    part.refresh_from_db()
    assert part.values["new_clients"] == 1  # frozen


def test_after_the_branch_deadline_a_part_is_late_and_the_day_is_the_branch_s(org):
    """R80: the 22nd by default; the branch manager sets another day before the 25th; a part
    submitted after it is late."""
    staff = dept_staff(org, "east", "pd-suzhou")
    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        assert services.deadline_day(org.branches["east"]) == 22
        part = part_of(org, dcode="pd-suzhou")
        assert part.deadline == at("2026-12-23T00:00")
        with pytest.raises(PermissionDenied):
            services.deadline_set(branch=org.branches["east"], by=staff, day=18)
        with pytest.raises(ValidationError):
            services.deadline_set(branch=org.branches["east"], by=org["east_manager"], day=25)
        services.deadline_set(branch=org.branches["east"], by=org["east_manager"], day=18)
        part.refresh_from_db()
        assert part.deadline == at("2026-12-19T00:00")
    with time_machine.travel(at("2026-12-19T08:00"), tick=False):
        assert part.timeliness == "missing"
        part = services.part_submit(part=part, by=staff)
    assert part.on_time is False and part.timeliness == "late"


def test_only_the_department_s_people_submit_and_only_the_branch_manager_returns(org):
    """R80, R83."""
    part = part_of(org)
    dept_staff(org, "east", "pd-suzhou")
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        for who in ("east_staff", "east_manager", "east_suzhou_staff", "marketing", "south_staff"):
            with pytest.raises(PermissionDenied):
                services.part_submit(part=part, by=org[who])
        part = services.part_submit(part=part, by=dept_staff(org, "east", "pd-hongqiao"))
        for who in ("east_staff", "east_hongqiao_staff", "south_manager", "marketing"):
            with pytest.raises(PermissionDenied):
                services.part_return(part=part, by=org[who], reason="数据有误")
    assert DepartmentReport.objects.get(pk=part.pk).status == "submitted"


def test_a_returned_part_is_corrected_and_submitted_again_with_every_step_kept(
    org, django_capture_on_commit_callbacks
):
    """R83: a reason is required; the part is live again; the second submission keeps the first
    one's on-time mark; the history holds both submissions with their figures and the return."""
    staff = dept_staff(org, "east", "pd-hongqiao")
    with time_machine.travel(at("2026-12-05T10:00"), tick=False):
        client_in(org)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        part = services.part_submit(part=part_of(org), by=staff)
    with time_machine.travel(at("2026-12-22T10:00"), tick=False):
        with pytest.raises(ValidationError):
            services.part_return(part=part, by=org["east_manager"], reason="  ")
        with django_capture_on_commit_callbacks(execute=True):
            part = services.part_return(part=part, by=org["east_manager"], reason="漏报苏州新客户")
        assert part.status == "returned" and part.snapshot is None and part.timeliness == "returned"
        assert Notification.objects.filter(recipient=staff, body="漏报苏州新客户").exists()
        with pytest.raises(ValidationError):
            services.part_return(part=part, by=org["east_manager"], reason="再退")
        client_in(org)
    with time_machine.travel(at("2026-12-24T10:00"), tick=False):
        part = services.part_submit(part=part, by=staff)
    assert part.on_time is True and part.values["new_clients"] == 2
    events = list(part.events.order_by("at", "pk").values_list("action", "note", "values__new_clients"))
    assert events == [("submitted", "", 1), ("returned", "漏报苏州新客户", None), ("submitted", "", 2)]


def test_the_branch_report_shows_each_department_and_sums_the_submitted_parts(org):
    """R82: on time, late, missing; the sums are the submitted parts' (not the drafts')."""
    hongqiao, suzhou = dept_staff(org, "east", "pd-hongqiao"), dept_staff(org, "east", "pd-suzhou")
    with time_machine.travel(at("2026-12-05T10:00"), tick=False):
        client_in(org)
        client_in(org, "pd-suzhou")
        client_in(org, "pd-suzhou")
        client_in(org, "pd-hangzhou")
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        services.part_submit(part=part_of(org), by=hongqiao)
    with time_machine.travel(at("2026-12-23T10:00"), tick=False):
        services.part_submit(part=part_of(org, dcode="pd-suzhou"), by=suzhou)
        report = monthly.report_open(branch=org.branches["east"], period=DEC)
        data = services.branch_parts(report, org["east_manager"])
        by_name = {r["department"].code: r["timeliness"] for r in data["rows"]}
        assert by_name == {"pd-hongqiao": "on_time", "pd-suzhou": "late", "pd-hangzhou": "missing"}
        assert data["submitted"] == 2 and data["sums"]["new_clients"] == 3
        page = org.web("east_manager").get(reverse("assessments:report-detail", kwargs={"pk": report.pk}))
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-testid="department-submissions"' in html and 'data-sum="new_clients">3<' in html
        assert 'data-testid="return-part-' in html  # the manager may return a part
        staff_page = org.web("east_staff").get(reverse("assessments:report-detail", kwargs={"pk": report.pk}))
        assert 'data-testid="return-part-' not in staff_page.content.decode()
        rollup = org.web("marketing").get(reverse("assessments:rollup") + "?period=2026-12")
        assert "项目经理部已上报 2/3" in rollup.content.decode()


def test_reminders_go_to_departments_not_submitted_once_per_step_and_catch_up(org):
    """R84: from three days before the deadline ("first") and on its last day ("last"); a
    second run sends nothing; a run after missed days sends the step then due; none after."""
    hongqiao, suzhou = dept_staff(org, "east", "pd-hongqiao"), dept_staff(org, "east", "pd-suzhou")
    with time_machine.travel(at("2026-12-19T09:15"), tick=False):
        assert services.department_reminders() == 0  # not yet
    with time_machine.travel(at("2026-12-20T09:15"), tick=False):
        services.part_submit(part=part_of(org), by=hongqiao)
        assert services.department_reminders() >= 1
        assert services.department_reminders() == 0
    assert Notification.objects.filter(recipient=suzhou, verb="department_reminder").count() == 1
    assert not Notification.objects.filter(recipient=hongqiao, verb="department_reminder").exists()
    # The 21st's run was missed: the 22nd's sends the last step once.
    with time_machine.travel(at("2026-12-22T09:15"), tick=False):
        services.department_reminders()
        assert services.department_reminders() == 0
    assert Notification.objects.filter(recipient=suzhou, verb="department_reminder").count() == 2
    with time_machine.travel(at("2026-12-23T09:15"), tick=False):
        assert services.department_reminders() == 0


def test_a_part_s_figure_opens_its_list_and_the_export_is_its_client_information_form(org):
    """R81, R74: the figure's list through the reader's scope; the export: the department's
    figures, and its clients new or changed in the seed's columns."""
    staff = dept_staff(org, "east", "pd-hongqiao")
    with time_machine.travel(at("2026-12-05T10:00"), tick=False):
        mine = client_in(org, name="上海虹桥枢纽开发有限公司")
        client_in(org, "pd-suzhou", name="苏州另一家公司")
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        part = services.part_submit(part=part_of(org), by=staff)
        web = org.web("east_manager")
        page = web.get(
            reverse("assessments:department-report-figure", kwargs={"pk": part.pk, "key": "new_clients"})
        )
        assert page.status_code == 200 and mine.name in page.content.decode()
        assert "苏州另一家公司" not in page.content.decode()
        assert (
            org.web("south_manager")
            .get(
                reverse("assessments:department-report-figure", kwargs={"pk": part.pk, "key": "new_clients"})
            )
            .status_code
            == 404
        )
        response = web.get(
            reverse("assessments:department-report-detail", kwargs={"pk": part.pk}) + "?export=xlsx"
        )
    book = openpyxl.load_workbook(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    assert book.sheetnames[:2] == ["统计数据", "客户信息统计表"]
    figures = {r[0]: r[1] for r in book["统计数据"].iter_rows(min_row=2, values_only=True)}
    assert figures["新增客户"] == 1
    lines = list(book["客户信息统计表"].iter_rows(values_only=True))
    assert list(lines[0]) == [*COLUMNS, *EXPORT_ONLY_COLUMNS]
    assert [line[list(lines[0]).index("客户单位名称")] for line in lines[1:]] == [mine.name]


def test_pages_submit_and_return_and_refusals_change_nothing(org):
    """The pages call the services: the department submits, the branch manager returns from the
    branch report; others are refused (403/404) and nothing changes."""
    dept_staff(org, "east", "pd-hongqiao")
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        part = part_of(org)
        submit = reverse("assessments:department-report-submit", kwargs={"pk": part.pk})
        assert org.web("east_staff").post(submit).status_code == 403
        assert org.web("south_staff").post(submit).status_code == 404
        assert DepartmentReport.objects.get(pk=part.pk).status == "draft"
        assert org.web("east_hongqiao_staff").post(submit, {"remarks": "无"}).status_code == 302
        assert DepartmentReport.objects.get(pk=part.pk).status == "submitted"
        back = reverse(
            "assessments:report-detail", kwargs={"pk": monthly.report_open(branch=part.branch, period=DEC).pk}
        )
        ret = reverse("assessments:department-report-return", kwargs={"pk": part.pk})
        assert org.web("east_hongqiao_staff").post(ret, {"reason": "x"}).status_code == 403
        response = org.web("east_manager").post(ret, {"reason": "补充说明", "next": back})
        assert response.status_code == 302 and response["Location"] == back
        assert DepartmentReport.objects.get(pk=part.pk).status == "returned"
        current = org.web("east_hongqiao_staff").get(reverse("assessments:department-report-current"))
        assert current["Location"] == reverse("assessments:department-report-detail", kwargs={"pk": part.pk})
        deadline = reverse("assessments:department-deadline")
        assert org.web("east_staff").post(deadline, {"day": "20"}).status_code == 403
        assert org.web("east_manager").post(deadline, {"day": "20"}).status_code == 302
        assert services.deadline_day(org.branches["east"]) == 20


def test_the_api_opens_submits_returns_and_sets_the_day(org):
    staff = dept_staff(org, "east", "pd-hongqiao")
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        api = org.api(staff.username)
        opened = api.post(reverse("department-report-list"), {"period": "2026-12"}, format="json")
        assert opened.status_code == 201, opened.content
        pk = opened.json()["id"]
        assert api.post(reverse("department-report-list"), {}, format="json").status_code == 200
        assert (
            api.post(reverse("department-report-list"), {"period": "13-2026"}, format="json").status_code
            == 400
        )
        assert (
            org.api("east_staff").post(reverse("department-report-list"), {}, format="json").status_code
            == 400  # the business department writes the branch's report, not a part
        )
        assert org.api("leader").post(reverse("department-report-list"), {}, format="json").status_code == 403
        submit = reverse("department-report-submit", kwargs={"pk": pk})
        assert org.api("east_staff").post(submit, {}, format="json").status_code == 403
        done = api.post(submit, {"remarks": "按时上报"}, format="json")
        assert done.status_code == 200 and done.json()["status"] == "submitted"
        assert api.post(submit, {}, format="json").status_code == 400
        ret = reverse("department-report-return", kwargs={"pk": pk})
        assert org.api("south_manager").post(ret, {"reason": "x"}, format="json").status_code == 404
        assert org.api("east_manager").post(ret, {}, format="json").status_code == 400
        back = org.api("east_manager").post(ret, {"reason": "数据不全"}, format="json")
        assert back.status_code == 200 and back.json()["status"] == "returned"
        assert [e["action"] for e in back.json()["events"]] == ["submitted", "returned"]
        day = org.api("east_manager").post(reverse("department-report-deadline"), {"day": 21}, format="json")
        assert day.status_code == 200 and day.json()["day"] == 21
        assert (
            org.api("east_manager")
            .post(reverse("department-report-deadline"), {"day": 30}, format="json")
            .status_code
            == 400
        )
        assert (
            org.api("east_staff")
            .post(reverse("department-report-deadline"), {"day": 20}, format="json")
            .status_code
            == 403
        )
    assert DepartmentEvent.objects.filter(report_id=pk).count() == 2
