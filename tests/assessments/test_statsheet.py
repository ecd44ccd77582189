"""R74: the monthly report's export is the group's 客户信息统计表 (seed 001: «各项目经理部...按照
《集团公司客户信息统计表》填写...上报于所属区域分公司», «每月25日将汇总后的客户信息发送»): beside
the figures, the clients new or changed in the report's window in the seed's columns, for a
project department, a branch and the group (one sheet per branch); the window is the report's
(a client changed after an early submission is the next report's, not lost); the rows are read
through the reader's scope; the query count does not grow with the rows."""

from __future__ import annotations

from io import BytesIO

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from assessments.monthly import services
from clients.imports.spreadsheet import COLUMNS, EXPORT_ONLY_COLUMNS
from clients.services import client_set_grade, client_update
from crm import figures as fig
from crm.models import Suspension
from tests.clients.factories import ContactFactory, ProjectFactory

from .helpers import at, new_client

pytestmark = pytest.mark.django_db

DEC, JAN = fig.Period(2026, 12), fig.Period(2027, 1)
HEADERS = [*COLUMNS, *EXPORT_ONLY_COLUMNS]
NAME, BRANCH, DEPARTMENT = (
    COLUMNS.index("客户单位名称"),
    COLUMNS.index("所属分公司"),
    COLUMNS.index("项目经理部"),
)


def _report(org, period=DEC, code="east"):
    report = services.report_open(branch=org.branches[code], period=period)
    report.refresh_from_db()
    return report


def _book(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    return load_workbook(BytesIO(b"".join(response.streaming_content)))


def _table(sheet) -> list[tuple]:
    """The client rows of a 客户信息统计表 sheet, after checking its header is the seed's."""
    lines = list(sheet.iter_rows(values_only=True))
    assert list(lines[0]) == HEADERS
    rows = lines[1:]
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))  # 序号
    return rows


def _names(sheet) -> list[str]:
    return [r[NAME] for r in _table(sheet)]


def _figures(sheet) -> dict:
    return {r[0]: r[1:] for r in sheet.iter_rows(min_row=2, values_only=True)}


@pytest.fixture
def december(org):
    """East in December: a client of 虹桥 and one of 苏州 made in the period, one made before it
    and edited in it, one made before it and regraded in it, one made before it and untouched;
    south: one made in the period."""
    east_dept = org.departments[("east", "pd-hongqiao")]
    suzhou = org.departments[("east", "pd-suzhou")]
    with time_machine.travel(at("2026-11-10T10:00"), tick=False):
        edited = new_client(org, "east", name="上海浦东老客户开发有限公司", department=suzhou)
        regraded = new_client(org, "east", name="上海闵行城建投资有限公司", grade="C")
        quiet = new_client(org, "east", name="上海嘉定未变更置业有限公司")
    with time_machine.travel(at("2026-12-05T10:00"), tick=False):
        made = [
            new_client(org, "east", name="上海虹桥商务区投资发展有限公司", department=east_dept),
            new_client(org, "east", name="苏州工业园区科技城开发有限公司", department=suzhou),
        ]
        ContactFactory(client=made[0], name="赵工", phone="13900001111")
        south = new_client(org, "south", name="深圳前海湾区城市更新有限公司")
    with time_machine.travel(at("2026-12-06T10:00"), tick=False):
        client_update(client=edited, by=org["east_staff"], data={"address": "上海市浦东新区张杨路500号"})
        client_set_grade(client=regraded, grade="B", reason="近期有合作需求", by=org["east_manager"])
    return {"made": made, "edited": edited, "regraded": regraded, "quiet": quiet, "south": south}


def test_a_branch_report_exports_its_clients_in_the_seeds_columns_beside_the_figures(org, december):
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        book = _book(org.web("east_manager").get(f"/reports/monthly/{_report(org).pk}/", {"export": "xlsx"}))
    assert book.sheetnames[:2] == ["统计数据", "客户信息统计表"]
    figures = _figures(book["统计数据"])
    assert figures["新增客户"][0] == 2 and figures["档案变更客户"][0] == 1 and figures["分级变更"][0] == 1
    rows = _table(book["客户信息统计表"])
    names = [r[NAME] for r in rows]
    # New, edited and regraded clients; not the untouched one, not another branch's.
    assert sorted(names) == sorted(
        [c.name for c in december["made"]] + [december["edited"].name, december["regraded"].name]
    )
    assert december["quiet"].name not in names and december["south"].name not in names
    # By project department (none first), then by name; each row in the seed's layout.
    departments = [r[DEPARTMENT] for r in rows]
    assert departments[0] is None and sorted(departments[1:]) == sorted(
        ["苏州工业园项目经理部", "苏州工业园项目经理部", "虹桥商务区项目经理部"]
    )
    assert departments[1] == departments[2] or departments[2] == departments[3]  # grouped
    by_name = {r[NAME]: dict(zip(HEADERS, r, strict=True)) for r in rows}
    first = by_name["上海虹桥商务区投资发展有限公司"]
    assert first["所属分公司"] == "华东区域分公司" and first["联系人"] == "赵工"
    assert first["联系电话"] == "13900001111" and first["填报人"] == "李娜"
    assert by_name["上海闵行城建投资有限公司"]["客户分级"] == "B"
    assert by_name["上海浦东老客户开发有限公司"]["单位地址"] == "上海市浦东新区张杨路500号"
    # The records behind the figures follow, a sheet each.
    assert "新增客户" in book.sheetnames and "档案变更客户" in book.sheetnames


def test_a_project_departments_export_holds_its_own_clients_and_its_part(org, december):
    suzhou = org.departments[("east", "pd-suzhou")]
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        url = f"/reports/monthly/{_report(org).pk}/"
        book = _book(org.web("east_manager").get(url, {"department": suzhou.pk, "export": "xlsx"}))
    sheet = book["统计数据"]
    assert [c.value for c in sheet[1]] == ["项目", "苏州工业园项目经理部"]
    assert _figures(sheet)["新增客户"] == (1,) and _figures(sheet)["档案变更客户"] == (1,)
    assert sorted(_names(book["客户信息统计表"])) == sorted(
        ["苏州工业园区科技城开发有限公司", "上海浦东老客户开发有限公司"]
    )
    new = book["新增客户"]
    assert [r[0] for r in new.iter_rows(min_row=2, values_only=True)] == ["苏州工业园区科技城开发有限公司"]


def test_the_roll_up_exports_one_sheet_per_branch(org, december):
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        services.report_submit(report=_report(org), by=org["east_manager"])  # east frozen, south live
        response = org.web("marketing").get("/reports/rollup/", {"period": DEC.label, "export": "xlsx"})
    book = _book(response)
    assert book.sheetnames == ["各分子公司汇总", "华东分公司", "华南分公司", "设计分公司", "安装分公司"]
    assert book.active.title == "各分子公司汇总"
    summary = list(book["各分子公司汇总"].iter_rows(values_only=True))
    assert list(summary[0][:3]) == ["分子公司", "上报情况", "上报时间"] and summary[-1][0] == "合计"
    assert len(_names(book["华东分公司"])) == 4
    assert _names(book["华南分公司"]) == [december["south"].name]
    assert {r[BRANCH] for r in _table(book["华南分公司"])} == {"华南区域分公司"}
    assert _names(book["设计分公司"]) == [] and _names(book["安装分公司"]) == []


def test_a_client_changed_after_an_early_submission_is_in_the_next_reports_sheet(org, december):
    """R27's window: December froze on the 20th; what changed on the 22nd is January's."""
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        services.report_submit(report=_report(org), by=org["east_manager"])
    with time_machine.travel(at("2026-12-22T10:00"), tick=False):
        client_update(client=december["quiet"], by=org["east_staff"], data={"industry": "城市更新"})
        late = new_client(org, "east", name="苏州金鸡湖城市发展有限公司")
    with time_machine.travel(at("2027-01-05T10:00"), tick=False):
        web = org.web("east_manager")
        dec = _names(
            _book(web.get(f"/reports/monthly/{_report(org).pk}/", {"export": "xlsx"}))["客户信息统计表"]
        )
        jan_report = _report(org, JAN)
        jan = _names(
            _book(web.get(f"/reports/monthly/{jan_report.pk}/", {"export": "xlsx"}))["客户信息统计表"]
        )
        rollup = _book(org.web("marketing").get("/reports/rollup/", {"period": JAN.label, "export": "xlsx"}))
    assert december["quiet"].name not in dec and late.name not in dec and len(dec) == 4
    assert sorted(jan) == sorted([december["quiet"].name, late.name])
    assert sorted(_names(rollup["华东分公司"])) == sorted(jan)


def test_a_frozen_reports_sheet_is_its_frozen_ids_read_through_the_readers_scope(org, december):
    """R33: while east's archive query is suspended, its manager's export holds the clients he
    owns, nobody else's, in the 客户信息统计表 and in the figures' sheets; group marketing's the
    whole report. Another branch's manager cannot open it at all."""
    mine = december["made"][0]
    mine.owner = org["east_manager"]
    mine.save()
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        report = services.report_submit(report=_report(org), by=org["east_manager"])
        Suspension.objects.create(
            branch=org.branches["east"], kind="archive", reason="考核结果为差", ends_at=at("2027-01-20T10:00")
        )
        url = f"/reports/monthly/{report.pk}/"
        manager = _book(org.web("east_manager").get(url, {"export": "xlsx"}))
        group = _book(org.web("marketing").get(url, {"export": "xlsx"}))
        assert org.web("south_manager").get(url, {"export": "xlsx"}).status_code == 404
        assert org.web("norole").get(url, {"export": "xlsx"}).status_code == 403
        rollup = org.web("east_manager").get("/reports/rollup/", {"period": DEC.label, "export": "xlsx"})
        assert rollup.status_code == 403
    assert _names(manager["客户信息统计表"]) == [mine.name]
    new = [r[0] for r in manager["新增客户"].iter_rows(min_row=2, values_only=True)]
    assert new == [mine.name]  # the frozen list, read again through the manager's scope
    assert _figures(manager["统计数据"])["新增客户"][0] == 2  # the frozen figure stands
    assert len(_names(group["客户信息统计表"])) == 4


def _export_queries(org, url, params) -> int:
    web = org.web("marketing")
    with CaptureQueriesContext(connection) as queries:
        _book(web.get(url, params))
    return len(queries)


def _clients(org, code, n):
    for _i in range(n):
        client = new_client(org, code)
        ContactFactory(client=client)
        ContactFactory(client=client)
        ProjectFactory(client=client)


@pytest.mark.parametrize("frozen", [True, False])
def test_a_reports_export_reads_as_many_queries_for_2_clients_as_for_24(org, frozen):
    with time_machine.travel(at("2026-12-08T10:00"), tick=False):
        _clients(org, "east", 2)
        _clients(org, "south", 24)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        east, south = _report(org), _report(org, code="south")
        if frozen:
            east = services.report_submit(report=east, by=org["east_manager"])
            south = services.report_submit(report=south, by=org["south_manager"])
        counts = [
            _export_queries(org, f"/reports/monthly/{r.pk}/", {"export": "xlsx"})
            for r in (east, south, east, south)
        ]
        book = _book(org.web("marketing").get(f"/reports/monthly/{south.pk}/", {"export": "xlsx"}))
    assert len(_names(book["客户信息统计表"])) == 24
    assert counts[2] == counts[3], counts


def test_the_roll_ups_export_reads_as_many_queries_for_few_clients_as_for_many(org):
    rollup = {"period": DEC.label, "export": "xlsx"}
    with time_machine.travel(at("2026-12-08T10:00"), tick=False):
        for code in ("east", "south", "design"):
            _clients(org, code, 1)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        services.report_submit(report=_report(org), by=org["east_manager"])  # one frozen, the rest live
        _export_queries(org, "/reports/rollup/", rollup)
        small = _export_queries(org, "/reports/rollup/", rollup)
    with time_machine.travel(at("2026-12-20T10:05"), tick=False):
        _clients(org, "south", 20)
        _clients(org, "design", 5)
    with time_machine.travel(at("2026-12-20T10:10"), tick=False):
        large = _export_queries(org, "/reports/rollup/", rollup)
        book = _book(org.web("marketing").get("/reports/rollup/", rollup))
    assert [len(_names(book[name])) for name in book.sheetnames[1:]] == [1, 21, 6, 0]
    assert large == small, (small, large)


def test_a_formula_looking_name_is_written_as_text(org):
    name = '=HYPERLINK("http://evil.example/x","点我")公司'
    with time_machine.travel(at("2026-12-05T10:00"), tick=False):
        new_client(org, "east", name=name)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        book = _book(org.web("east_manager").get(f"/reports/monthly/{_report(org).pk}/", {"export": "xlsx"}))
    cell = book["客户信息统计表"].cell(row=2, column=NAME + 1)
    assert cell.value == name and cell.data_type == "s" and cell.quotePrefix
