"""Pages of the archive: list (search, filters, sort, pagination, export), the client page,
forms with bad input (field errors, nothing saved), duplicates (R10), htmx inline adds,
grading (R7) and the needs and overdue-visit lists. Query budgets are asserted."""

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from clients import services
from clients.imports.spreadsheet import COLUMNS
from clients.models import AccessLog, Client, Contact, GradeChange, Need, Project, Tag, Visit, VisitPlan
from tests.clients.factories import ContactFactory, ProjectFactory, make_credit_code

from .archive_helpers import make_client, make_need

LIST = reverse("clients:client-list")


def ids(response):
    return {c.pk for c in response.context["page"].object_list}


def form_data(org, **kw):
    data = {
        "name": "苏州工业园区城市建设投资有限公司",
        "credit_code": make_credit_code(501),
        "org_type": "state_owned",
        "industry": "城市建设",
        "address": "苏州工业园区星海街9号",
        "phone": "0512-66881234",
        "email": "jsb@sipcity.cn",
        "branch": org.branches["east"].pk,
        "stage": "potential",
        "social_value": "high",
    }
    data.update(kw)
    return data


# ----------------------------------------------------------------------------- list


def test_list_search_chinese_substring_contact_phone_and_code(org):
    a = make_client(org, name="杭州滨江房地产开发有限公司")
    b = make_client(org, name="宁波港城建设集团")
    ContactFactory(client=b, name="欧阳明", phone="13912345678")
    web = org.web("east_staff")
    assert ids(web.get(LIST, {"q": "滨江房"})) == {a.pk}
    assert ids(web.get(LIST, {"q": "欧阳"})) == {b.pk}
    assert ids(web.get(LIST, {"q": "139-1234-5678"})) == {b.pk}
    assert ids(web.get(LIST, {"q": a.credit_code.lower()})) == {a.pk}


def test_list_filters_and_sort(org):
    tag = Tag.objects.create(name="重点工程")
    a = make_client(org, name="甲方一", grade="A", stage="signed", org_type="government")
    a.tags.add(tag)
    b = make_client(org, name="乙方二", grade="B", owner=org["east_manager"])
    web = org.web("east_staff")
    assert ids(web.get(LIST, {"grade": "A"})) == {a.pk}
    assert ids(web.get(LIST, {"stage": "signed"})) == {a.pk}
    assert ids(web.get(LIST, {"org_type": "government"})) == {a.pk}
    assert ids(web.get(LIST, {"owner": org["east_manager"].pk})) == {b.pk}
    assert ids(web.get(LIST, {"tag": tag.pk})) == {a.pk}
    assert ids(web.get(LIST, {"branch": org.branches["east"].pk})) == {a.pk, b.pk}
    names = [c.name for c in web.get(LIST, {"sort": "-name"}).context["page"].object_list]
    assert names == sorted(names, reverse=True)
    # An unknown branch in the filter is a filter error, not a 500.
    assert web.get(LIST, {"branch": 99999}).status_code == 200


def test_list_overdue_filter(org):
    late = make_client(org, grade="B")
    Client.objects.filter(pk=late.pk).update(created_at=timezone.now() - dt.timedelta(days=200))
    VisitPlan.objects.create(
        client=late,
        frequency="monthly",
        visitor_level="marketing_staff",
        responsible=org["east_staff"],
        next_due_on=timezone.localdate() - dt.timedelta(days=3),
    )
    fresh = make_client(org, grade="B", needs_collected_on=timezone.localdate())
    web = org.web("east_staff")
    assert ids(web.get(LIST, {"overdue": "visit"})) == {late.pk}
    assert fresh.pk not in ids(web.get(LIST, {"overdue": "needs"}))
    assert late.pk in ids(web.get(LIST, {"overdue": "needs"}))


def test_list_pagination_and_query_budget(org, django_assert_max_num_queries):
    for i in range(30):
        c = make_client(org, name=f"分页测试客户{i:02d}")
        ContactFactory(client=c)
    web = org.web("east_staff")
    web.get(LIST)  # warm the session and permission caches
    with django_assert_max_num_queries(24):
        response = web.get(LIST)
    assert response.context["page"].paginator.count == 30
    assert len(response.context["page"].object_list) == 25
    with django_assert_max_num_queries(24):
        response = web.get(LIST, {"page": 2, "q": "分页"})
    assert len(response.context["page"].object_list) == 5


def test_export_is_exactly_the_filtered_list(org, django_assert_max_num_queries):
    a = make_client(org, name="无锡太湖新城发展集团", grade="A", our_evaluation="资信良好,付款及时")
    ContactFactory(client=a, name="王建国", position="总经理", phone="13800001111")
    ContactFactory(client=a, name="李秀英", position="工程部经理", phone="13800002222")
    ProjectFactory(client=a, name="太湖新城学校", contract_value=25_000_000)
    make_client(org, name="常州某公司", grade="B")
    web = org.web("east_staff")
    # The ids in order, then four reads per chunk of 5,000 (clients, contacts, projects, open
    # needs): constant for any archive of up to 5,000 rows, four more per further 5,000 (the
    # whole archive is never in memory). The rows are read while the file streams out.
    with django_assert_max_num_queries(16):
        response = web.get(reverse("clients:client-export"), {"grade": "A"})
        body = response.getvalue()
    assert response.streaming and response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(BytesIO(body)).active.iter_rows(values_only=True))
    # The spreadsheet's columns, then the client's 我方对客户的评价 (R54) and 跟踪状态 (R38).
    assert list(rows[0]) == [*COLUMNS, "我方对客户的评价", "跟踪状态"]
    assert len(rows) == 2
    row = dict(zip([*COLUMNS, "我方对客户的评价", "跟踪状态"], rows[1], strict=True))
    assert row["跟踪状态"] == "跟踪中"
    assert row["我方对客户的评价"] == a.our_evaluation
    assert row["客户单位名称"] == "无锡太湖新城发展集团"
    assert row["联系人"] == "李秀英、王建国" or row["联系人"] == "王建国、李秀英"
    assert row["合同金额(万元)"] == 2500
    assert row["客户分级"] == "A"


# ----------------------------------------------------------------------------- client page


def test_detail_shows_suggestion_criteria_quadrant_and_tabs(org, django_assert_max_num_queries):
    c = make_client(org, integrity_good=True, credit_good=True)
    ProjectFactory(client=c)
    ContactFactory(client=c)
    make_need(org, client=c)
    web = org.web("east_staff")
    web.get(reverse("clients:client-detail", kwargs={"pk": c.pk}))
    with django_assert_max_num_queries(8):  # the tabs load when opened (test_client_tabs.py)
        response = web.get(reverse("clients:client-detail", kwargs={"pk": c.pk}))
    html = response.content.decode()
    assert response.context["suggested"] == "B"
    assert "诚信良好" in html and "数据不足" in html
    for label in ("联系人", "合作历史", "客户需求", "拜访", "变更历史"):
        assert label in html
    assert "投诉" in html  # a tab registered by the complaints app


def test_detail_add_forms_load_on_demand(org):
    """The page carries an add button per tab, not the forms; the button's GET (htmx) returns
    the form, with 请选择 for an empty choice instead of Django's dashes."""
    c = make_client(org)
    web = org.web("east_staff")
    for tab in ("contacts", "visits", "needs"):
        html = web.get(reverse("clients:client-tab", kwargs={"pk": c.pk, "tab": tab})).content.decode()
        assert f'data-testid="open-form-{tab}"' in html and f'data-testid="save-{tab}"' not in html
    form = web.get(reverse("clients:need-add", kwargs={"pk": c.pk}), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="save-needs"' in form and "登记客户需求" in form
    assert "请选择" in form and "---------" not in form


def test_detail_read_of_other_branch_is_logged_only_under_grant(org):
    c = make_client(org)
    org.web("east_staff").get(reverse("clients:client-detail", kwargs={"pk": c.pk}))
    org.web("marketing").get(reverse("clients:client-detail", kwargs={"pk": c.pk}))
    assert not AccessLog.objects.exists()
    from tests.clients.grants import make_grant

    make_grant(org, org["south_staff"], c, active=True)
    assert (
        org.web("south_staff").get(reverse("clients:client-detail", kwargs={"pk": c.pk})).status_code == 200
    )
    log = AccessLog.objects.get()
    assert (log.user, log.client, log.via) == (org["south_staff"], c, "page")
    assert log.grant is not None


# ----------------------------------------------------------------------------- forms


def test_create_client_through_the_form(org):
    response = org.web("east_staff").post(reverse("clients:client-create"), form_data(org))
    client = Client.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "clients:client-detail", kwargs={"pk": client.pk}
    )
    assert client.owner == org["east_staff"] and client.phone_normalized == "0512-66881234"


@pytest.mark.parametrize(
    "field,value",
    [
        ("credit_code", "91310000MA1FL0XX1X"),
        ("phone", "12345"),
        ("email", "不是邮箱"),
        ("branch", "99999"),
        ("name", ""),
    ],
)
def test_create_bad_input_field_errors_nothing_saved(org, field, value):
    data = form_data(org, **{field: value})
    response = org.web("east_staff").post(reverse("clients:client-create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Client.objects.exists()
    # nothing typed is lost
    html = response.content.decode()
    assert "苏州工业园区星海街9号" in html


def test_create_in_another_branch_refused(org):
    response = org.web("east_staff").post(
        reverse("clients:client-create"), form_data(org, branch=org.branches["south"].pk)
    )
    assert response.status_code == 200 and "branch" in response.context["form"].errors
    assert not Client.objects.exists()


def test_duplicate_credit_code_links_existing(org):
    first = make_client(org, credit_code=make_credit_code(501))
    response = org.web("east_staff").post(reverse("clients:client-create"), form_data(org, name="别的名字"))
    assert response.status_code == 200
    assert "credit_code" in response.context["form"].errors
    assert reverse("clients:client-detail", kwargs={"pk": first.pk}) in response.content.decode()
    assert Client.objects.count() == 1


def test_similar_name_warns_then_save_anyway(org):
    make_client(org, name="苏州工业园区城市建设投资有限公司")
    web = org.web("east_staff")
    data = form_data(org, name="苏州工业园区城市建设投资 股份有限公司")
    response = web.post(reverse("clients:client-create"), data)
    assert response.status_code == 200 and response.context["similar"]
    assert Client.objects.count() == 1
    token = response.context["form"]["similar_token"].value()
    assert token and f'value="{token}"' in response.content.decode()
    response = web.post(
        reverse("clients:client-create"), {**data, "confirm_similar": "on", "similar_token": token}
    )
    assert response.status_code == 302 and Client.objects.count() == 2


def test_edit_client_records_stage(org):
    c = make_client(org, credit_code=make_credit_code(501), name="苏州工业园区城市建设投资有限公司")
    response = org.web("east_staff").post(
        reverse("clients:client-edit", kwargs={"pk": c.pk}),
        {**form_data(org, stage="signed", owner=org["east_staff"].pk), "version": c.version},
    )
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.stage == "signed" and c.stage_changes.filter(to_stage="signed").exists()


@pytest.mark.parametrize(
    "field,data",
    [
        ("contract_value", {"contract_value": "-5"}),
        ("completed_on", {"started_on": "2026-05-01", "completed_on": "2026-04-01"}),
    ],
)
def test_project_bad_input(org, field, data):
    c = make_client(org)
    payload = {
        "name": "园区二期",
        "project_type": "commercial",
        "phase": "design",
        "branch": c.branch_id,
        "contract_value": "1000000",
        "cost": "800000",
        **data,
    }
    response = org.web("east_staff").post(reverse("clients:project-create", kwargs={"pk": c.pk}), payload)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not Project.objects.exists()


def test_project_profit_defaults_to_value_minus_cost(org):
    c = make_client(org)
    payload = {
        "name": "园区二期",
        "project_type": "commercial",
        "phase": "design",
        "branch": c.branch_id,
        "contract_value": "1000000",
        "cost": "800000",
    }
    assert (
        org.web("east_staff")
        .post(reverse("clients:project-create", kwargs={"pk": c.pk}), payload)
        .status_code
        == 302
    )
    assert Project.objects.get().profit == 200000


def test_inline_contact_add_htmx_and_errors(org):
    c = make_client(org)
    web = org.web("east_staff")
    url = reverse("clients:contact-add", kwargs={"pk": c.pk})
    bad = web.post(url, {"name": "张三", "phone": "12"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and "phone" in bad.context["form"].errors
    assert 'value="张三"' in bad.content.decode()
    assert not Contact.objects.exists()
    ok = web.post(url, {"name": "张三", "phone": "138 0013 8000", "is_primary": "on"}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and ok["HX-Retarget"] == "#tab-body-contacts"
    assert "张三" in ok.content.decode()
    contact = Contact.objects.get()
    assert contact.phone_normalized == "13800138000" and contact.is_primary
    # edit through the inline form
    edit = web.post(
        reverse("clients:contact-edit", kwargs={"pk": contact.pk}),
        {"name": "张三丰", "phone": "13800138000", "version": contact.version},
    )
    assert edit.status_code == 302
    contact.refresh_from_db()
    assert contact.name == "张三丰"


def test_inline_need_and_visit(org):
    c = make_client(org)
    web = org.web("east_staff")
    r = web.post(
        reverse("clients:need-add", kwargs={"pk": c.pk}),
        {
            "description": "希望提前交付样板房",
            "category": "service",
            "origin": "initial",
            "urgency": "urgent",
            "is_functional": "on",
            "received_at": "2026-09-30T16:00",
        },
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200, r.content.decode()[:500]
    need = Need.objects.get()
    # Urgent: 4 clock hours (R11), the National Day holiday notwithstanding.
    assert timezone.localtime(need.response_due_at).strftime("%Y-%m-%d %H:%M") == "2026-09-30 20:00"
    assert "2026-09-30 20:00" in r.content.decode() and "按自然小时计" in r.content.decode()
    r = web.post(
        reverse("clients:visit-add", kwargs={"pk": c.pk}),
        {"visited_at": "2026-11-20T10:00", "channel": "visit", "our_people": "陈经理", "notes": "介绍新项目"},
    )
    assert r.status_code == 302 and Visit.objects.get().recorded_by == org["east_staff"]
    r = web.post(
        reverse("clients:need-respond", kwargs={"pk": need.pk}), {"action": "done", "note": "已完成"}
    )
    assert r.status_code == 302
    need.refresh_from_db()
    assert need.status == "done"


def test_set_grade_page(org):
    c = make_client(org)
    web = org.web("east_manager")
    url = reverse("clients:client-set-grade", kwargs={"pk": c.pk})
    bad = web.post(url, {"grade": "A", "reason": ""})
    assert bad.status_code == 200 and "reason" in bad.context["form"].errors
    assert not GradeChange.objects.exists()
    ok = web.post(url, {"grade": "A", "reason": "省重点工程业主,二期即将招标"})
    assert ok.status_code == 302
    c.refresh_from_db()
    assert c.grade == "A"
    history = web.get(reverse("clients:client-tab", kwargs={"pk": c.pk, "tab": "history"})).content.decode()
    assert "省重点工程业主" in history


def test_visit_plan_page_rules(org):
    c = make_client(org, grade="C")
    web = org.web("east_staff")
    url = reverse("clients:visit-plan-edit", kwargs={"pk": c.pk})
    r = web.post(url, {"frequency": "monthly"})
    assert r.status_code == 200 and r.context["form"].non_field_errors()
    assert not VisitPlan.objects.exists()
    c.grade = "A"
    c.save()
    r = web.post(url, {"frequency": "quarterly", "is_active": "on"})
    assert r.status_code == 302
    assert VisitPlan.objects.get().visitor_level == "branch_leader"


# ----------------------------------------------------------------------------- needs, visits


def test_need_list_overdue_in_red_and_budget(org, django_assert_max_num_queries):
    late = make_need(org)
    Need.objects.filter(pk=late.pk).update(response_due_at=timezone.now() - dt.timedelta(hours=2))
    for _ in range(5):
        make_need(org)
    web = org.web("east_staff")
    web.get(reverse("clients:need-list"))
    with django_assert_max_num_queries(20):
        response = web.get(reverse("clients:need-list"))
    assert "table-danger" in response.content.decode()
    assert {
        n.pk for n in web.get(reverse("clients:need-list"), {"overdue": "1"}).context["page"].object_list
    } == {late.pk}
    export = web.get(reverse("clients:need-export"), {"overdue": "1"})
    rows = list(load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2


def test_visit_overdue_list_for_staff_and_manager(org, django_assert_max_num_queries):
    c = make_client(org, grade="B")
    services.visit_plan_save(
        plan=VisitPlan(
            client=c, frequency="monthly", next_due_on=timezone.localdate() - dt.timedelta(days=5)
        ),
        by=org["east_staff"],
    )
    url = reverse("clients:visit-overdue-list")
    staff = org.web("east_staff")
    staff.get(url)
    with django_assert_max_num_queries(18):
        assert c.name in staff.get(url).content.decode()
    assert c.name in org.web("east_manager").get(url).content.decode()
    assert c.name not in org.web("south_manager").get(url).content.decode()
    assert org.web("east_manager").get(url, {"export": "xlsx"})["Content-Type"].startswith("application/vnd")


def test_global_search_and_home_panels(org):
    c = make_client(org, name="合肥滨湖新区建设投资有限公司")
    ContactFactory(client=c, name="诸葛亮")
    web = org.web("east_staff")
    html = web.get(reverse("global-search"), {"q": "滨湖新区"}).content.decode()
    assert c.name in html
    assert "诸葛亮" in web.get(reverse("global-search"), {"q": "诸葛"}).content.decode()
    assert (
        c.name not in org.web("south_staff").get(reverse("global-search"), {"q": "滨湖新区"}).content.decode()
    )
    home = web.get(reverse("home")).content.decode()
    assert "客户分级分布" in home and "逾期拜访" in home


def test_export_reads_the_list_in_chunks_in_its_order(org, django_assert_num_queries):
    from clients.imports.spreadsheet import export_rows

    names = ["丁", "甲", "丙", "乙", "戊"]
    for name in names:
        c = make_client(org, name=f"{name}建设发展有限公司")
        ContactFactory(client=c, name=f"{name}经理")
    qs = Client.objects.filter(name__endswith="建设发展有限公司").order_by("-name")
    # The ids in order, then four reads per chunk of 2 (clients, contacts, projects, needs).
    with django_assert_num_queries(1 + 4 * 3):
        rows = list(export_rows(qs, chunk=2))
    assert [r[1] for r in rows] == [c.name for c in qs]
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    assert [r[6] for r in rows] == [f"{c.name[0]}经理" for c in qs]
