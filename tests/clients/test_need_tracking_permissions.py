"""Permission matrix, pages, exports and API of the tracking ledger and the weekly checks (style.md
10; R70-R73): the ledger, the checks' list and page, the findings and the remark (page and API)
for every role: the branch's staff (read) and manager (read, remark), another branch's people
(404, not listed), group marketing, leaders and auditors (every branch, read only), nobody without
a role (403), anonymous; the ledger's filters and its Excel export of exactly what it shows; a
refused remark changes nothing, a bad one is a 400 that keeps what was typed."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from clients.models import Need, NeedCheck, NeedCheckFinding
from clients.tracking import services
from clients.tracking.weeks import last_due_week
from tests.assessments.helpers import at
from tests.permissions import ObjectMatrix

from .archive_helpers import make_need

pytestmark = pytest.mark.django_db

ROUTES_COVERED = [
    "clients:need-check-remark",
    "need-check-finding-remark",
]


def overdue_need(org, code="east", *, days_before_check=30) -> tuple[Need, object]:
    """A general need received a month before the latest checkpoint and never answered (its
    response overdue, open too long): found by the check. Made on any date."""
    week = last_due_week(timezone.now())
    received = week.checkpoint() - dt.timedelta(days=days_before_check)
    need = make_need(org, code, received_at=received)
    Need.objects.filter(pk=need.pk).update(created_at=received)  # recorded when received
    return need, week


def check_with_finding(org, code="east") -> NeedCheck:
    need, week = overdue_need(org, code)
    check, _created = services.need_check_make(branch=org.branches[code], week=week)
    assert check.findings.filter(need=need).exists()
    return check


class TestNeedCheckMatrix(ObjectMatrix):
    model = NeedCheck
    list_route = "clients:need-check-list"
    detail_route = "clients:need-check-detail"
    api_list_route = "need-check-list"
    api_detail_route = "need-check-detail"
    grants_apply = False  # the branch's paper, not a client's record
    covers = {"clients:need-check-list", "clients:need-check-detail", "need-check-list", "need-check-detail"}

    def make(self, org, branch_code):
        return check_with_finding(org, branch_code)


class TestNeedCheckFindingMatrix(ObjectMatrix):
    model = NeedCheckFinding
    api_list_route = "need-check-finding-list"
    api_detail_route = "need-check-finding-detail"
    grants_apply = False
    covers = {"need-check-finding-list", "need-check-finding-detail"}

    def make(self, org, branch_code):
        return check_with_finding(org, branch_code).findings.get()


class TestNeedLedgerMatrix(ObjectMatrix):
    model = Need
    list_route = "clients:need-ledger"
    api_list_route = "need-ledger-entry-list"
    api_detail_route = "need-ledger-entry-detail"
    covers = {"clients:need-ledger", "need-ledger-entry-list", "need-ledger-entry-detail"}

    def make(self, org, branch_code):
        return make_need(org, branch_code)


# -- R73: the remark, page and API, by role ------------------------------------------------------


@pytest.mark.parametrize(
    "persona,page,api",
    [(None, 302, 401), ("norole", 403, 403), ("east_staff", 403, 403), ("south_manager", 404, 404),
     ("south_staff", 404, 404), ("marketing", 403, 403), ("leader", 403, 403), ("auditor", 403, 403)],
)  # fmt: skip
def test_a_refused_remark_changes_nothing(org, persona, page, api):
    finding = check_with_finding(org).findings.get()
    before = NeedCheckFinding.objects.filter(pk=finding.pk).values().get()
    url = reverse("clients:need-check-remark", kwargs={"pk": finding.pk})
    assert org.web(persona).post(url, {f"f{finding.pk}-remark": "由我协调"}).status_code == page
    api_url = reverse("need-check-finding-remark", kwargs={"pk": finding.pk})
    assert org.api(persona).post(api_url, {"remark": "由我协调"}, format="json").status_code == api
    assert NeedCheckFinding.objects.filter(pk=finding.pk).values().get() == before


def test_the_manager_records_a_remark_on_the_page_and_in_the_api(org):
    check = check_with_finding(org)
    finding = check.findings.get()
    url = reverse("clients:need-check-remark", kwargs={"pk": finding.pk})
    response = org.web("east_manager").post(
        url, {f"f{finding.pk}-remark": "已协调设计部本周答复", f"f{finding.pk}-version": 1}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"#finding-{finding.pk}")
    finding.refresh_from_db()
    assert finding.remark == "已协调设计部本周答复" and finding.remarked_by == org["east_manager"]
    page = org.web("east_manager").get(reverse("clients:need-check-detail", kwargs={"pk": check.pk}))
    assert "已协调设计部本周答复" in page.content.decode()
    assert "协调解决:已协调设计部本周答复" in [h.history_change_reason for h in page.context["history"]]
    api = org.api("east_manager")
    api_url = reverse("need-check-finding-remark", kwargs={"pk": finding.pk})
    stale = api.post(api_url, {"remark": "基于旧版本"}, format="json", HTTP_IF_MATCH='W/"1"')
    assert stale.status_code == 409 and stale.json()["current"]["remark"] == "已协调设计部本周答复"
    ok = api.post(
        api_url, {"remark": "客户已确认处理方案"}, format="json", HTTP_IF_MATCH=f'W/"{finding.version}"'
    )
    assert ok.status_code == 200 and ok.json()["remark"] == "客户已确认处理方案" and ok["ETag"] == 'W/"3"'
    empty = api.post(api_url, {"remark": "  "}, format="json")
    assert empty.status_code == 400 and "remark" in empty.json()
    # The staff of the branch read it; the page offers them no form.
    staff_page = org.web("east_staff").get(reverse("clients:need-check-detail", kwargs={"pk": check.pk}))
    assert "客户已确认处理方案" in staff_page.content.decode() and 'data-testid="remark-form"' not in (
        staff_page.content.decode()
    )


def test_a_bad_remark_is_a_400_that_keeps_what_was_typed(org):
    finding = check_with_finding(org).findings.get()
    url = reverse("clients:need-check-remark", kwargs={"pk": finding.pk})
    typed = "很长" * 1001
    response = org.web("east_manager").post(url, {f"f{finding.pk}-remark": typed})
    assert response.status_code == 400 and typed in response.content.decode()
    stale = org.web("east_manager").post(
        url, {f"f{finding.pk}-remark": "过期的修改", f"f{finding.pk}-version": 7}
    )
    assert stale.status_code == 400 and "过期的修改" in stale.content.decode()
    assert "已被他人修改" in stale.content.decode()
    finding.refresh_from_db()
    assert finding.remark == "" and finding.version == 1
    assert (
        org.web("east_manager").post(reverse("clients:need-check-remark", kwargs={"pk": 0}), {}).status_code
        == 404
    )
    assert org.web("east_manager").get(url).status_code == 405


# -- R70: the ledger's filters and export -----------------------------------------------------------


NOW = at("2026-12-10T10:00")


@pytest.fixture
def ledger(org):
    def need(when, code="east", urgency="general", **kw):
        with time_machine.travel(at(when), tick=False):
            return make_need(org, code, urgency=urgency, **kw)

    rows = {
        "overdue": need("2026-12-04T10:00", urgency="urgent", description="要求提供节能计算书"),
        "long": need("2026-11-16T10:00", description="希望调整外立面石材选型"),
        "fresh": need("2026-12-09T10:00", description="询问竣工资料移交时间", owner=org["east_manager"]),
        "south": need("2026-11-16T10:00", code="south", description="南方客户的需求"),
    }
    with time_machine.travel(at("2026-11-17T10:00"), tick=False):
        from clients import services as need_services

        need_services.need_respond(need=rows["long"], by=org["east_staff"])
    with time_machine.travel(NOW, tick=False):
        yield rows


def _ids(response):
    return {n.pk for n in response.context["page"].object_list}


def test_the_ledger_filters_by_owner_state_overdue_week_and_search(org, ledger):
    web = org.web("east_manager")
    url = reverse("clients:need-ledger")
    everything = web.get(url)
    assert _ids(everything) == {ledger["overdue"].pk, ledger["long"].pk, ledger["fresh"].pk}
    assert everything.context["page"].paginator.count == 3
    assert 'data-testid="list-total"' in everything.content.decode()
    assert _ids(web.get(url, {"overdue": "response"})) == {ledger["overdue"].pk}
    assert _ids(web.get(url, {"overdue": "handling"})) == {ledger["long"].pk}
    assert _ids(web.get(url, {"overdue": "any"})) == {ledger["overdue"].pk, ledger["long"].pk}
    assert _ids(web.get(url, {"owner": org["east_manager"].pk})) == {ledger["fresh"].pk}
    assert _ids(web.get(url, {"status": "assessed"})) == {ledger["long"].pk}
    assert _ids(web.get(url, {"week": "2026-W47"})) == {ledger["long"].pk}
    assert _ids(web.get(url, {"week": "2026-W50"})) == {
        ledger["overdue"].pk,
        ledger["long"].pk,
        ledger["fresh"].pk,
    }
    assert _ids(web.get(url, {"q": "石材"})) == {ledger["long"].pk}
    bad = web.get(url, {"week": "2026-W99"})
    assert bad.status_code == 200 and "周次格式" in bad.content.decode()
    rows = {n.pk: n for n in everything.context["page"].object_list}
    assert (
        rows[ledger["long"].pk].handling_state == "overdue"
        and rows[ledger["long"].pk].response_state == "on_time"
    )
    assert rows[ledger["overdue"].pk].response_state == "overdue"
    # Marketing sees every branch; the branch filter narrows it.
    group = org.web("marketing").get(url, {"branch": org.branches["south"].pk})
    assert _ids(group) == {ledger["south"].pk}


def test_the_ledger_export_is_exactly_what_is_shown(org, ledger):
    web = org.web("east_manager")
    url = reverse("clients:need-ledger")
    shown = web.get(url, {"overdue": "any", "sort": "received"})
    response = web.get(url, {"overdue": "any", "sort": "received", "export": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][:3] == ("客户", "所属分公司", "需求内容")
    assert [row[2] for row in values[1:]] == [n.description for n in shown.context["page"].object_list]
    assert [row[2] for row in values[1:]] == ["希望调整外立面石材选型", "要求提供节能计算书"]
    by_text = {row[2]: row for row in values[1:]}
    assert (
        by_text["希望调整外立面石材选型"][9] == "按期响应"
        and by_text["希望调整外立面石材选型"][11] == "超期未办结"
    )
    assert by_text["要求提供节能计算书"][9] == "逾期未响应"
    assert by_text["希望调整外立面石材选型"][12] == 17  # full working days, 17 Nov to 9 Dec
    # The other branch's staff export none of east's needs.
    other = org.web("south_staff").get(url, {"export": "xlsx"})
    rows = list(openpyxl.load_workbook(io.BytesIO(other.content)).active.values)[1:]
    assert [row[2] for row in rows] == ["南方客户的需求"]


def test_the_ledger_api_states_and_filters(org, ledger):
    api = org.api("east_staff")
    answer = api.get(reverse("need-ledger-entry-list"), {"overdue": "handling"})
    assert answer.status_code == 200 and answer.json()["count"] == 1
    row = answer.json()["results"][0]
    assert row["id"] == ledger["long"].pk and row["handling_state"] == "overdue"
    assert row["response_state"] == "on_time" and row["working_days_open"] == 17
    assert api.get(reverse("need-ledger-entry-list"), {"week": "nope"}).status_code == 400


def test_the_checks_list_and_page_export_what_they_show(org):
    check = check_with_finding(org)
    check_with_finding(org, "south")
    web = org.web("east_manager")
    listing = web.get(reverse("clients:need-check-list"))
    assert [c.pk for c in listing.context["page"].object_list] == [check.pk]
    assert listing.context["page"].object_list[0].found == 1
    sheet = openpyxl.load_workbook(
        io.BytesIO(web.get(reverse("clients:need-check-list"), {"export": "xlsx"}).content)
    )
    assert [r[0] for r in list(sheet.active.values)[1:]] == [check.week]
    detail = reverse("clients:need-check-detail", kwargs={"pk": check.pk})
    rows = list(openpyxl.load_workbook(io.BytesIO(web.get(detail, {"export": "xlsx"}).content)).active.values)
    finding = check.findings.get()
    assert rows[1][1] == finding.client_name and "响应逾期" in rows[1][8]
    assert (
        list(
            web.get(detail, {"reason": "handling", "owner": org["east_manager"].pk})
            .context["page"]
            .object_list
        )
        == []
    )
    group = org.web("leader").get(reverse("clients:need-check-list"))
    assert group.context["page"].paginator.count == 2
    api = org.api("east_staff").get(reverse("need-check-finding-list"), {"need_check": check.pk})
    assert api.json()["count"] == 1 and api.json()["results"][0]["week"] == check.week


def test_the_pages_read_in_english(org):
    """Every label of the ledger, the checks and a check's page goes through gettext: with
    English chosen, no Chinese is left once the data are taken out."""
    from tests.crm.test_english_everywhere import _leftover, english

    check = check_with_finding(org)
    services.need_check_remark(finding=check.findings.get(), by=org["east_manager"], remark="已协调")
    web = english(org.web("east_manager"))
    for url in (
        reverse("clients:need-ledger"),
        reverse("clients:need-ledger") + "?week=2026-W99",
        reverse("clients:need-check-list"),
        reverse("clients:need-check-detail", kwargs={"pk": check.pk}),
    ):
        response = web.get(url)
        assert response.status_code == 200
        assert not _leftover(response.content.decode()), (url, _leftover(response.content.decode()))
