"""Monthly reporting (R26, R27): the period, the figures and the lists behind them, the draft
computed live, the snapshot frozen on submission, the department parts, no change, the roles
and the workflow with its history."""

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from assessments.models import MonthlyReport, ReportEvent
from assessments.monthly import services
from clients.services import client_update
from crm import figures as fig
from crm.access import SYSTEM

from .helpers import at, new_client, new_need

pytestmark = pytest.mark.django_db

DEC = fig.Period(2026, 12)


# ----------------------------------------------------------------------------- the period


def test_period_runs_from_the_26th_to_the_25th_in_shanghai():
    assert DEC.start == at("2026-11-26T00:00")
    assert DEC.end == at("2026-12-26T00:00")
    assert DEC.deadline == at("2026-12-25T20:00")
    assert fig.Period.containing(at("2026-12-25T23:59")) == DEC
    assert fig.Period.containing(at("2026-12-26T00:00")) == fig.Period(2027, 1)
    assert fig.Period.containing(at("2026-11-26T00:30")) == DEC
    # The year turns with the period named by January's 25th.
    assert fig.Period(2027, 1).first_day.isoformat() == "2026-12-26"
    assert fig.Period.last_due(at("2026-12-25T20:01")) == DEC
    assert fig.Period.last_due(at("2026-12-25T19:59")) == fig.Period(2026, 11)


@pytest.mark.parametrize("bad", ["", "2026-13", "2026-1", "26-12", "2026/12", "abcd-ef", "1999-12"])
def test_bad_period_labels_are_refused_with_a_message(bad):
    with pytest.raises(ValueError, match="2026-12"):
        fig.Period.parse(bad)


# ---------------------------------------------------------------------------- the figures


def test_each_figure_is_the_length_of_its_list_and_parts_sum_to_the_branch(org):
    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        dept = org.branches["east"].departments.filter(is_business_dept=False).first()
        a = new_client(org, "east", department=dept)
        b = new_client(org, "east")
        new_client(org, "south")
        new_need(a)
        new_need(b, urgency="urgent")
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        result = fig.evaluate(SYSTEM, DEC.window(branch_id=org.branches["east"].pk))
    assert result.values["new_clients"] == 2 == len(result.lists["new_clients"])
    assert {r["id"] for r in result.lists["new_clients"]} == {a.pk, b.pk}
    assert result.values["needs_received"] == 2
    for f in fig.figures():
        assert result.values[f.key] == len(result.lists[f.key]), f.key
        assert sum(result.departments[f.key].values()) == result.values[f.key], f.key


def test_figures_are_read_through_restrict(org):
    """A branch manager's evaluation never counts another branch's records (design.md)."""
    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        new_client(org, "east")
        new_client(org, "south")
        new_client(org, "south")
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        mine = fig.evaluate(org["east_manager"], DEC.window())
        group = fig.evaluate(org["marketing"], DEC.window())
    assert mine.values["new_clients"] == 1
    assert group.values["new_clients"] == 3
    assert fig.branch_values(group, org.branches["south"].pk)["new_clients"] == 2


def test_a_changed_record_lists_what_changed_and_a_new_one_counts_as_new(org):
    with time_machine.travel(at("2026-10-01T10:00"), tick=False):
        old = new_client(org, "east", address="上海市徐汇区漕溪北路1号")
    with time_machine.travel(at("2026-12-05T10:00"), tick=False):
        fresh = new_client(org, "east")
        client_update(client=old, by=org["east_staff"], data={"address": "上海市闵行区七莘路2号"})
        client_update(client=fresh, by=org["east_staff"], data={"address": "上海市静安区1号"})
        result = fig.evaluate(SYSTEM, DEC.window(branch_id=org.branches["east"].pk))
    rows = result.lists["changed_clients"]
    assert [r["id"] for r in rows] == [old.pk]
    assert rows[0]["fields"] == ["address"]
    assert [r["id"] for r in result.lists["new_clients"]] == [fresh.pk]


# ------------------------------------------------------------------------------ the report


def _report(org, code="east", period=DEC) -> MonthlyReport:
    return services.report_open(branch=org.branches[code], period=period)


def test_the_report_is_one_per_branch_and_period(org):
    assert _report(org).pk == _report(org).pk
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyReport.objects.create(branch=org.branches["east"], period="2026-12")


def test_submitting_freezes_the_figures_and_later_edits_go_to_the_next_period(org):
    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        client = new_client(org, "east", name="华东冻结测试建设有限公司")
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        report = services.report_submit(report=_report(org), by=org["east_manager"], remarks="本月新增一家")
    assert report.status == "submitted" and report.on_time is True
    frozen = services.report_figures(report, org["east_manager"])
    assert frozen.values["new_clients"] == 1
    with time_machine.travel(at("2026-12-22T10:00"), tick=False):
        client_update(client=client, by=org["east_staff"], data={"name": "华东冻结测试建设集团有限公司"})
        new_client(org, "east")
        report.refresh_from_db()
        again = services.report_figures(report, org["east_manager"])
        assert again.values == frozen.values
        assert again.lists["new_clients"][0]["name"] == "华东冻结测试建设有限公司"
    with time_machine.travel(at("2027-01-05T10:00"), tick=False):
        new_client(org, "east")
        client_update(client=client, by=org["east_staff"], data={"address": "上海市黄浦区中山东一路1号"})
    with time_machine.travel(at("2027-01-05T11:00"), tick=False):
        nxt = services.report_figures(_report(org, period=fig.Period(2027, 1)), org["east_manager"])
    # R27: the window runs from December's freeze (the 20th), so the 22nd's client and edit are
    # January's, not lost between two reports.
    assert nxt.values["new_clients"] == 2
    assert [r["id"] for r in nxt.lists["changed_clients"]] == [client.pk]


def test_a_quiet_period_says_no_change_and_submits_in_one_step(org):
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        report = _report(org, "design")
        assert services.report_figures(report, org["design_manager"]).no_change
        page = org.web("design_manager").get(f"/reports/monthly/{report.pk}/")
        assert page.status_code == 200 and "本期无变化" in page.content.decode()
        response = org.web("design_manager").post(f"/reports/monthly/{report.pk}/submit/")
        assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "submitted" and report.no_change and report.on_time


def test_a_report_submitted_after_the_deadline_is_late(org):
    with time_machine.travel(at("2026-12-25T20:01"), tick=False):
        report = services.report_submit(report=_report(org), by=org["east_manager"])
    assert report.on_time is False and report.timeliness == "late"


def test_only_the_branch_manager_submits(org):
    report = _report(org)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        for who in ("east_staff", "marketing", "leader", "auditor"):
            with pytest.raises(PermissionDenied):
                services.report_submit(report=report, by=org[who])
        assert org.web("east_staff").post(f"/reports/monthly/{report.pk}/submit/").status_code == 403
        assert org.web("south_manager").post(f"/reports/monthly/{report.pk}/submit/").status_code == 404
    report.refresh_from_db()
    assert report.status == "draft" and not report.events.exists()


def test_return_and_resubmission_keep_both_versions_in_the_history(org):
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        report = services.report_submit(report=_report(org), by=org["east_manager"])
        with pytest.raises(PermissionDenied):
            services.report_return(report=report, by=org["east_manager"], reason="x")
        with pytest.raises(ValidationError):
            services.report_return(report=report, by=org["marketing"], reason="  ")
        report = services.report_return(report=report, by=org["marketing"], reason="新增客户缺少信用代码")
        assert report.status == "returned" and report.snapshot is None
        with pytest.raises(ValidationError):
            services.report_accept(report=report, by=org["marketing"])
    with time_machine.travel(at("2026-12-21T09:00"), tick=False):
        new_client(org, "east")
    with time_machine.travel(at("2026-12-21T09:30"), tick=False):
        report = services.report_submit(report=report, by=org["east_manager"], remarks="已更正")
    assert report.on_time is True  # decided by the first submission
    events = list(report.events.order_by("at", "pk"))
    assert [e.action for e in events] == ["submitted", "returned", "submitted"]
    assert events[1].note == "新增客户缺少信用代码" and events[1].by == org["marketing"]
    assert events[0].snapshot["values"]["new_clients"] == 0
    assert events[2].snapshot["values"]["new_clients"] == 1
    with pytest.raises(ValidationError):
        services.report_submit(report=report, by=org["east_manager"])
    report = services.report_accept(report=report, by=org["marketing"])
    assert report.status == "accepted"
    assert ReportEvent.objects.filter(report=report, action="accepted").count() == 1


def test_the_department_part_counts_its_own_records(org):
    dept = org.branches["east"].departments.filter(is_business_dept=False).first()
    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        new_client(org, "east", department=dept)
        new_client(org, "east")
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        result = services.report_figures(_report(org), org["east_manager"])
        web = org.web("east_manager")
        page = web.get(f"/reports/monthly/{_report(org).pk}/?department={dept.pk}")
    assert fig.department_values(result, dept.pk)["new_clients"] == 1
    assert fig.department_values(result, 0)["new_clients"] == 1
    assert page.context["values"]["new_clients"] == 1


def test_the_list_behind_a_figure_is_the_figure(org):
    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        clients = [new_client(org, "east") for _ in range(3)]
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        report = _report(org)
        web = org.web("east_manager")
        detail = web.get(f"/reports/monthly/{report.pk}/")
        rows = web.get(f"/reports/monthly/{report.pk}/figures/new_clients/")
        export = web.get(f"/reports/monthly/{report.pk}/figures/new_clients/?export=xlsx")
    assert detail.context["values"]["new_clients"] == 3
    assert rows.context["count"] == 3
    assert {r["url"] for r in rows.context["rows"]} == {f"/clients/{c.pk}/" for c in clients}
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(export.content)).active
    assert sheet.max_row == 1 + 3


def test_a_report_page_for_a_branch_out_of_scope_is_404(org):
    report = _report(org, "south")
    assert org.web("east_manager").get(f"/reports/monthly/{report.pk}/").status_code == 404
    assert org.web("east_staff").get(f"/reports/monthly/{report.pk}/figures/new_clients/").status_code == 404
    assert org.web("leader").get(f"/reports/monthly/{report.pk}/").status_code == 200


def test_the_draft_page_reads_a_bounded_number_of_queries(org, django_assert_max_num_queries):
    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        for _ in range(5):
            new_need(new_client(org, "east"))
    report = _report(org)
    web = org.web("east_manager")
    web.get(f"/reports/monthly/{report.pk}/")
    # About one query per figure of the registry (counted live over the draft's window).
    with django_assert_max_num_queries(60):
        web.get(f"/reports/monthly/{report.pk}/")
