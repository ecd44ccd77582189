"""Design fees and on-site service of a project (seed 000; R56-R60): the collected amount is the
sum of the collections, settling by collection and by agreement, the unsettled list (R59) with
its filters and export, on-site service records (R60), every step in the history, the client
page's projects tab, the figure 竣工未结清项目 and its list, and the API. The clock is fixed."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from clients.models import FeeCollection, Project, SiteService
from clients.projects import selectors
from clients.projects import services as fees
from crm import figures as fig
from tests.assessments.helpers import at

from .archive_helpers import make_client
from .factories import ProjectFactory

pytestmark = pytest.mark.django_db

NOW = at("2026-06-10T10:00")
TODAY = dt.date(2026, 6, 10)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def project(org, branch_code="east", *, fee="100000", completed=dt.date(2026, 3, 1), phase="completed", **kw):
    client = kw.pop("client", None) or make_client(org, branch_code)
    return ProjectFactory(
        client=client,
        phase=phase,
        signed_on=dt.date(2025, 1, 10),
        started_on=dt.date(2025, 2, 1),
        completed_on=completed,
        design_fee=Decimal(fee),
        **kw,
    )


def collect(org, p, amount, on=dt.date(2026, 5, 1), who="east_staff", note=""):
    return fees.fee_collection_record(
        project=p, by=org[who], amount=Decimal(amount), collected_on=on, note=note
    )


# -- R56, R57: collections and settling by collection -----------------------------------------


def test_collected_is_the_sum_and_reaching_the_fee_settles_r60(org):
    """R56: the collected amount is the sum of the collections; the one that reaches the fee
    settles the project (收齐结清), dated by that collection."""
    p = project(org)
    collect(org, p, "60000", on=dt.date(2026, 4, 1))
    p.refresh_from_db()
    assert fees.collected(p) == Decimal("60000") and fees.outstanding(p) == Decimal("40000")
    assert p.fee_settlement == "" and p.fee_settled_on is None
    collect(org, p, "40000", on=dt.date(2026, 5, 20))
    p.refresh_from_db()
    assert p.fee_settlement == "collected"
    assert p.fee_settled_on == dt.date(2026, 5, 20)
    assert p.fee_settled_by == org["east_staff"]
    annotated = Project.objects.annotate(**selectors.fee_annotations()).get(pk=p.pk)
    assert annotated.fee_collected == Decimal("100000") and annotated.fee_outstanding == 0
    # The project's history names the step.
    assert p.history.first().history_change_reason == "收齐设计费,自动结清"


@pytest.mark.parametrize(
    "amount,on,field",
    [
        ("0", dt.date(2026, 5, 1), "amount"),
        ("-5", dt.date(2026, 5, 1), "amount"),
        ("100000.01", dt.date(2026, 5, 1), "amount"),
        ("100", dt.date(2026, 6, 11), "collected_on"),
        ("100", dt.date(2025, 1, 9), "collected_on"),
    ],
)
def test_a_bad_collection_is_refused_and_changes_nothing_r61(org, amount, on, field):
    """R57: positive, not more than outstanding, not in the future, not before the signing."""
    p = project(org)
    with pytest.raises(ValidationError) as refused:
        collect(org, p, amount, on=on)
    assert field in refused.value.message_dict
    assert not FeeCollection.objects.filter(project=p).exists()


def test_no_collection_without_a_fee_or_after_settlement_r61(org):
    p = project(org, fee="0")
    with pytest.raises(ValidationError, match="未登记设计费"):
        collect(org, p, "10")
    q = project(org, fee="1000")
    collect(org, q, "1000")
    with pytest.raises(ValidationError, match="已结清"):
        collect(org, q, "1")


def test_who_records_a_collection_r61(org):
    """R57: the project's branch (staff, manager) and group marketing; others are refused."""
    p = project(org, fee="900")
    collect(org, p, "100", who="east_staff")
    collect(org, p, "100", who="east_manager")
    collect(org, p, "100", who="marketing")
    for who, error in (("leader", PermissionDenied), ("auditor", PermissionDenied), ("south_staff", Http404)):
        with pytest.raises(error):
            collect(org, p, "100", who=who)
    assert fees.collected(p) == Decimal("300")


def test_the_manager_reverses_a_wrong_collection_and_it_unsettles_r61(org):
    """R57: a wrong collection is reversed (not edited or deleted) by the branch manager, with a
    reason, once; R56: the project settled by it is unsettled again."""
    p = project(org, fee="1000")
    wrong = collect(org, p, "1000")
    p.refresh_from_db()
    assert p.fee_settlement == "collected"
    with pytest.raises(PermissionDenied):
        fees.fee_collection_reverse(collection=wrong, by=org["east_staff"], reason="录入错误")
    with pytest.raises(ValidationError):
        fees.fee_collection_reverse(collection=wrong, by=org["east_manager"], reason=" ")
    reversal = fees.fee_collection_reverse(collection=wrong, by=org["east_manager"], reason="金额录错")
    assert reversal.amount == Decimal("-1000") and reversal.reverses == wrong
    p.refresh_from_db()
    assert p.fee_settlement == "" and p.fee_settled_on is None
    assert fees.collected(p) == 0
    with pytest.raises(ValidationError, match="已冲销"):
        fees.fee_collection_reverse(collection=wrong, by=org["east_manager"], reason="再次")
    assert wrong.history.count() == 1 and reversal.history.get().history_change_reason == "冲销收款"


def test_the_fee_cannot_go_below_what_was_collected_and_a_new_fee_follows_r60(org):
    """R56: the fee is never set below what was collected; lowering it to the collected amount
    settles, raising it again unsettles (a settlement by collection follows the money)."""
    from clients.services import project_save

    p = project(org, fee="1000")
    collect(org, p, "600")
    p.refresh_from_db()
    p.design_fee = Decimal("500")
    with pytest.raises(ValidationError) as refused:
        project_save(project=p, by=org["east_staff"])
    assert "design_fee" in refused.value.message_dict
    assert Project.objects.get(pk=p.pk).design_fee == Decimal("1000")
    p = Project.objects.get(pk=p.pk)
    p.design_fee = Decimal("600")
    project_save(project=p, by=org["east_staff"])
    p.refresh_from_db()
    assert p.fee_settlement == "collected" and p.fee_settled_on == TODAY
    p.design_fee = Decimal("800")
    project_save(project=p, by=org["east_staff"])
    p.refresh_from_db()
    assert p.fee_settlement == "" and p.fee_settled_on is None


# -- R58: settling by agreement ---------------------------------------------------------------


def test_the_branch_manager_settles_by_agreement_with_a_note_r62(org):
    """R58: the manager of the project's branch, on a completed project with an outstanding
    amount, with a note; the settlement stays whatever the fee does afterwards."""
    p = project(org)
    collect(org, p, "70000")
    for who, error in (
        ("east_staff", PermissionDenied),
        ("marketing", PermissionDenied),
        ("south_manager", Http404),
    ):
        with pytest.raises(error):
            fees.project_settle(project=p, by=org[who], note="协商")
    with pytest.raises(ValidationError) as refused:
        fees.project_settle(project=p, by=org["east_manager"], note="  ")
    assert "note" in refused.value.message_dict
    fees.project_settle(project=p, by=org["east_manager"], note="余款与变更增项相抵,双方确认结清。")
    p.refresh_from_db()
    assert (p.fee_settlement, p.fee_settled_on, p.fee_settled_by) == ("agreed", TODAY, org["east_manager"])
    assert p.fee_settlement_note.startswith("余款")
    assert p.history.first().history_change_reason == "协商结清设计费"
    with pytest.raises(ValidationError, match="已结清"):
        fees.project_settle(project=p, by=org["east_manager"], note="再次")


def test_settling_by_agreement_needs_completion_and_an_outstanding_amount_r62(org):
    building = project(org, completed=None, phase="construction")
    with pytest.raises(ValidationError, match="竣工后"):
        fees.project_settle(project=building, by=org["east_manager"], note="协商")
    assert Project.objects.get(pk=building.pk).fee_settlement == ""


# -- R59: the unsettled list and the figure ---------------------------------------------------


def test_the_unsettled_list_r63(org):
    """R59: completed, with a fee, not settled; through restrict; outstanding and days since
    completion; filters; the export is exactly what is shown."""
    open_one = project(org, name="东区甲项目", completed=dt.date(2026, 1, 1))
    collect(org, open_one, "25000")
    settled = project(org, name="东区乙项目", fee="100")
    collect(org, settled, "100")
    project(org, name="东区施工中", completed=None, phase="construction")
    project(org, name="东区无设计费", fee="0")
    recent = project(org, name="东区近期竣工", completed=dt.date(2026, 6, 1))
    south = project(org, "south", name="南区项目")

    web = org.web("east_staff")
    response = web.get(reverse("clients:project-unsettled"))
    assert response.status_code == 200
    shown = list(response.context["page"].object_list)
    assert {p.pk for p in shown} == {open_one.pk, recent.pk}
    row = next(p for p in shown if p.pk == open_one.pk)
    assert row.fee_outstanding == Decimal("75000") and row.days_since == 160
    assert "东区甲项目" in response.content.decode()

    response = web.get(reverse("clients:project-unsettled"), {"min_days": 30})
    assert [p.pk for p in response.context["page"].object_list] == [open_one.pk]
    response = web.get(reverse("clients:project-unsettled"), {"q": "近期"})
    assert [p.pk for p in response.context["page"].object_list] == [recent.pk]

    marketing = org.web("marketing").get(reverse("clients:project-unsettled"))
    assert south.pk in {p.pk for p in marketing.context["page"].object_list}
    assert (
        org.web("south_staff").get(reverse("clients:project-unsettled")).context["page"].paginator.count == 1
    )

    export = web.get(reverse("clients:project-unsettled"), {"export": "xlsx", "min_days": 30})
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    data = [r for r in rows if r and r[0] == "东区甲项目"]
    assert len(data) == 1 and float(data[0][-1]) == 75000.0
    assert not any(r and r[0] == "东区近期竣工" for r in rows)

    # API: ?unsettled=true is the same list.
    api = org.api("east_staff").get(reverse("project-list"), {"unsettled": "true"})
    assert {r["id"] for r in api.json()["results"]} == {open_one.pk, recent.pk}


def test_the_figure_counts_the_unsettled_at_the_end_of_the_period_r63(org):
    """R59: 竣工未结清项目 is a standing figure: completed by the end of the window, not settled
    by then; its rows carry what had been collected by then."""
    p = project(org, completed=dt.date(2026, 4, 1))
    collect(org, p, "30000", on=dt.date(2026, 4, 20))
    later = project(org, completed=dt.date(2026, 6, 5))
    window = fig.Period.parse("2026-05").window()
    rows = fig.figure("projects_unsettled").collect(org["east_manager"], window)
    assert [r["id"] for r in rows] == [p.pk]
    assert rows[0]["collected"] == 30000.0 and rows[0]["url"] == reverse(
        "clients:project-detail", args=[p.pk]
    )
    collect(org, p, "70000", on=dt.date(2026, 6, 8))  # settled after that window: still counted
    assert [r["id"] for r in fig.figure("projects_unsettled").collect(org["east_manager"], window)] == [p.pk]
    june = fig.Period.parse("2026-06").window()
    with time_machine.travel(at("2026-06-26T10:00"), tick=False):
        assert [r["id"] for r in fig.figure("projects_unsettled").collect(org["east_manager"], june)] == [
            later.pk
        ]
    assert fig.figure("projects_unsettled").collect(org["south_staff"], window) == []


# -- R60: on-site service records -------------------------------------------------------------


def service(p, **kw):
    kw.setdefault("served_on", dt.date(2026, 6, 1))
    kw.setdefault("our_people", "张工")
    kw.setdefault("problem", "后浇带位置与现场冲突")
    return SiteService(project=p, **kw)


def test_site_service_is_recorded_during_construction_and_closed_with_its_handling_r64(org):
    """R60: construction or later; dated between the start and today; closing needs the
    handling and sets the closing day; every edit is a history row."""
    p = project(org, completed=None, phase="construction")
    row = fees.site_service_save(service=service(p), by=org["east_staff"])
    assert row.status == "open" and row.recorded_by == org["east_staff"]
    row.status = "closed"
    with pytest.raises(ValidationError) as refused:
        fees.site_service_save(service=row, by=org["east_staff"])
    assert "handling" in refused.value.message_dict
    row = SiteService.objects.get(pk=row.pk)
    row.status, row.handling = "closed", "出具设计变更,现场交底"
    fees.site_service_save(service=row, by=org["east_staff"])
    row.refresh_from_db()
    assert row.status == "closed" and row.closed_on == TODAY and row.version == 2
    assert [h.history_change_reason for h in row.history.order_by("history_date")] == [
        "登记现场服务",
        "更新现场服务记录",
    ]


@pytest.mark.parametrize(
    "phase,kw,field",
    [
        ("design", {}, "__all__"),
        ("construction", {"served_on": dt.date(2026, 6, 11)}, "served_on"),
        ("construction", {"served_on": dt.date(2025, 1, 31)}, "served_on"),
        (
            "construction",
            {"status": "closed", "handling": "已处理", "closed_on": dt.date(2026, 5, 1)},
            "closed_on",
        ),
    ],
)
def test_a_bad_site_service_is_refused_r64(org, phase, kw, field):
    p = project(org, completed=None, phase=phase)
    with pytest.raises(ValidationError) as refused:
        fees.site_service_save(service=service(p, **kw), by=org["east_staff"])
    assert field in refused.value.message_dict
    assert not SiteService.objects.exists()


def test_who_records_a_site_service_r64(org):
    p = project(org, completed=None, phase="construction")
    for who, error in (("leader", PermissionDenied), ("south_staff", Http404)):
        with pytest.raises(error):
            fees.site_service_save(service=service(p), by=org[who])
    fees.site_service_save(service=service(p), by=org["marketing"])
    assert SiteService.objects.count() == 1


# -- pages ------------------------------------------------------------------------------------


def test_the_project_page_records_a_collection_and_the_tab_shows_it_r60(org):
    """The project page: fee card, the collection form; the client page's projects tab shows
    fee / collected / settled per project and the client's site service records."""
    p = project(org, fee="1000")
    fees.site_service_save(service=service(p), by=org["east_staff"])
    web = org.web("east_staff")
    page = web.get(reverse("clients:project-detail", args=[p.pk]))
    assert page.status_code == 200 and page.context["may_collect"] and not page.context["may_settle"]
    url = reverse("clients:fee-collection-add", args=[p.pk])
    bad = web.post(url, {"amount": "2000", "collected_on": "2026-06-01"})
    assert bad.status_code == 200 and "amount" in bad.context["form"].errors
    assert not FeeCollection.objects.exists()
    done = web.post(url, {"amount": "1000", "collected_on": "2026-06-01", "note": "尾款"})
    assert done.status_code == 302
    p.refresh_from_db()
    assert p.fee_settlement == "collected"
    tab = web.get(reverse("clients:client-tab", args=[p.client_id, "projects"]))
    html = tab.content.decode()
    assert "收齐结清" in html and "后浇带位置与现场冲突" in html
    assert reverse("clients:project-detail", args=[p.pk]) in html


def test_the_settle_page_and_the_reverse_route_r61_r62(org):
    p = project(org)
    wrong = collect(org, p, "5000")
    manager = org.web("east_manager")
    assert manager.get(reverse("clients:project-detail", args=[p.pk])).context["may_settle"]
    url = reverse("clients:project-settle", args=[p.pk])
    assert manager.post(url, {"note": ""}).status_code == 200
    response = manager.post(
        reverse("clients:fee-collection-reverse", args=[wrong.pk]), {"reason": "重复录入"}
    )
    assert response.status_code == 302 and fees.collected(p) == 0
    assert manager.post(url, {"note": "甲方资金困难,余款协商核销"}).status_code == 302
    p.refresh_from_db()
    assert p.fee_settlement == "agreed"


def test_the_site_service_pages_r64(org):
    p = project(org, completed=None, phase="construction")
    web = org.web("east_staff")
    add = reverse("clients:site-service-add", args=[p.pk])
    assert web.get(add).status_code == 200
    bad = web.post(add, {"served_on": "2026-06-01", "our_people": "张工", "problem": "", "status": "open"})
    assert bad.status_code == 200 and "problem" in bad.context["form"].errors
    ok = web.post(
        add, {"served_on": "2026-06-01", "our_people": "张工", "problem": "管线碰撞", "status": "open"}
    )
    assert ok.status_code == 302
    row = SiteService.objects.get()
    edit = reverse("clients:site-service-edit", args=[row.pk])
    stale = web.post(edit, {"served_on": "2026-06-01", "our_people": "张工", "problem": "管线碰撞", "status": "closed",
                            "handling": "调整管线标高", "version": 0})  # fmt: skip
    assert stale.status_code == 200
    closed = web.post(edit, {"served_on": "2026-06-01", "our_people": "张工", "problem": "管线碰撞", "status": "closed",
                             "handling": "调整管线标高", "version": 1})  # fmt: skip
    assert closed.status_code == 302
    row.refresh_from_db()
    assert row.status == "closed" and row.closed_on == TODAY


# -- API --------------------------------------------------------------------------------------


def test_the_api_fee_fields_collections_and_settle(org):
    """The projects API carries the fee (design_fee writable with If-Match); collections and
    settle through their own operations, refusals answer 400."""
    p = project(org)
    api = org.api("east_staff")
    url = reverse("project-detail", args=[p.pk])
    body = api.get(url).json()
    assert body["design_fee"] == "100000.00" and body["fee_outstanding"] == "100000.00"
    assert api.patch(url, {"design_fee": "120000"}, format="json", HTTP_IF_MATCH='W/"0"').status_code == 409
    changed = api.patch(url, {"design_fee": "120000"}, format="json", HTTP_IF_MATCH=f'W/"{body["version"]}"')
    assert changed.status_code == 200 and changed.json()["design_fee"] == "120000.00"
    assert api.patch(url, {"fee_settlement": "agreed"}, format="json").json()["fee_settlement"] == ""

    collections = reverse("fee-collection-list")
    too_much = api.post(
        collections, {"project": p.pk, "amount": "999999", "collected_on": "2026-06-01"}, format="json"
    )
    assert too_much.status_code == 400 and "amount" in too_much.json()
    made = api.post(
        collections, {"project": p.pk, "amount": "20000", "collected_on": "2026-06-01"}, format="json"
    )
    assert made.status_code == 201 and made.json()["amount"] == "20000.00"
    assert api.get(url).json()["fee_collected"] == "20000.00"
    assert org.api("leader").post(collections, {"project": p.pk, "amount": "1", "collected_on": "2026-06-01"},
                                  format="json").status_code == 403  # fmt: skip
    other = org.api("south_staff").post(
        collections, {"project": p.pk, "amount": "1", "collected_on": "2026-06-01"}, format="json"
    )
    assert other.status_code == 400  # a project out of scope does not exist for them
    reverse_url = reverse("fee-collection-reverse", args=[made.json()["id"]])
    assert api.post(reverse_url, {"reason": "错"}, format="json").status_code == 403
    assert org.api("east_manager").post(reverse_url, {"reason": "错"}, format="json").status_code == 201

    settle = reverse("project-settle", args=[p.pk])
    assert api.post(settle, {"note": "协商"}, format="json").status_code == 403
    assert org.api("east_manager").post(settle, {"note": ""}, format="json").status_code == 400
    done = org.api("east_manager").post(settle, {"note": "余款核销"}, format="json")
    assert done.status_code == 200 and done.json()["fee_settlement"] == "agreed"
    assert done.json()["fee_outstanding"] == "0.00" and done["ETag"]


def test_the_api_site_services(org):
    p = project(org, completed=None, phase="construction")
    api = org.api("east_staff")
    made = api.post(
        reverse("site-service-list"),
        {"project": p.pk, "served_on": "2026-06-01", "our_people": "李工", "problem": "预埋件漏埋"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    url = reverse("site-service-detail", args=[made.json()["id"]])
    assert api.patch(url, {"status": "closed"}, format="json").status_code == 400
    version = api.get(url).json()["version"]
    closed = api.patch(
        url, {"status": "closed", "handling": "后置锚栓"}, format="json", HTTP_IF_MATCH=f'W/"{version}"'
    )
    assert closed.status_code == 200 and closed.json()["closed_on"] == "2026-06-10"
    assert api.delete(url).status_code == 405
    listed = api.get(reverse("site-service-list"), {"client": p.client_id}).json()
    assert [r["id"] for r in listed["results"]] == [made.json()["id"]]
