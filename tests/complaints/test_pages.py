"""The pages: queue (filters, sort, export, query budget), complaint page, create form (bad
input keeps what was typed; a client outside scope is 404), step forms, client tab, home panel."""

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from clients.panels import tabs
from complaints.models import Complaint
from crm.dashboard import panels
from tests.clients.factories import ProjectFactory

from .conftest import make_client, make_complaint

pytestmark = pytest.mark.django_db
LIST = "complaints:complaint-list"


def test_queue_filters_and_overdue_marked(org, east_client):
    late = make_complaint(
        org, client=east_client, severity="urgent", received_at=timezone.now() - dt.timedelta(hours=2)
    )
    ok = make_complaint(org, client=east_client, severity="low")
    web = org.web("east_staff")
    response = web.get(reverse(LIST), {"overdue": "true"})
    assert list(response.context["page"].object_list) == [late]
    assert "table-danger" in response.content.decode()
    response = web.get(reverse(LIST), {"severity": "low"})
    assert list(response.context["page"].object_list) == [ok]
    response = web.get(reverse(LIST), {"sort": "resolve_due"})
    assert list(response.context["page"].object_list) == [late, ok]
    response = web.get(reverse(LIST), {"owner": org["east_staff"].pk, "received_from": "2000-01-01"})
    assert set(response.context["page"].object_list) == {late, ok}


def test_queue_export_is_the_filtered_list(org, east_client):
    make_complaint(org, client=east_client, severity="low", title="结算单据延误")
    make_complaint(org, client=east_client, severity="urgent", title="塔吊夜间施工扰民")
    make_complaint(org, "south", title="南方投诉")
    response = org.web("east_staff").get(reverse(LIST), {"severity": "low", "export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and len(rows) == 2 and rows[1][11] == "结算单据延误"


def test_queue_query_budget(org, django_assert_max_num_queries):
    """No N+1: the queue costs the same with 3 rows as with 15, within a fixed ceiling (the
    shell's navigation checks of every app are part of the figure)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    web = org.web("east_staff")
    client = make_client(org)
    for _ in range(3):
        make_complaint(org, client=client)
    with CaptureQueriesContext(connection) as few:
        web.get(reverse(LIST))
    for _ in range(3):
        client = make_client(org)
        for _ in range(4):
            make_complaint(org, client=client, project=None)
    with django_assert_max_num_queries(len(few.captured_queries)), CaptureQueriesContext(connection) as many:
        response = web.get(reverse(LIST))
    assert response.context["page"].paginator.count == 15
    assert len(many.captured_queries) <= 25


def test_detail_query_budget_and_content(org, key_project, django_assert_max_num_queries):
    c = make_complaint(org, client=key_project.client, project=key_project)
    from complaints import services

    services.complaint_hand_over(
        complaint=c, by=org["east_staff"], to=org["east_manager"], reason="请负责人处理"
    )
    web = org.web("east_manager")
    with django_assert_max_num_queries(20):
        response = web.get(reverse("complaints:complaint-detail", kwargs={"pk": c.pk}))
    html = response.content.decode()
    assert "请负责人处理" in html and 'data-step="acknowledge"' in html
    assert [link["user"] for link in response.context["chain"]] == [org["east_staff"], org["east_manager"]]
    # The former owner sees the page but no step buttons (R15).
    html = (
        org.web("east_staff")
        .get(reverse("complaints:complaint-detail", kwargs={"pk": c.pk}))
        .content.decode()
    )
    assert 'data-step="acknowledge"' not in html


def test_create_form_bad_input_keeps_what_was_typed(org, east_client):
    web = org.web("east_staff")
    response = web.post(
        reverse("complaints:complaint-create"),
        {
            "client": east_client.pk,
            "kind": "indirect",
            "channel": "phone",
            "category": "engineering_quality",
            "severity": "normal",
            "motive": "unknown",
            "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "content": "幕墙玻璃有裂纹,总包转达业主意见",
        },
    )
    assert response.status_code == 200
    assert "contractor" in response.context["form"].errors
    assert "幕墙玻璃有裂纹,总包转达业主意见" in response.content.decode()
    assert not Complaint.objects.exists()


def test_create_form_logs_and_redirects(org, east_client):
    web = org.web("east_staff")
    assert (
        east_client.name
        in web.get(reverse("complaints:complaint-create"), {"client": east_client.pk}).content.decode()
    )
    response = web.post(
        reverse("complaints:complaint-create"),
        {
            "client": east_client.pk,
            "kind": "direct",
            "channel": "phone",
            "category": "service_attitude",
            "severity": "high",
            "motive": "psychological",
            "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "title": "现场人员态度生硬",
            "content": "业主代表反映现场施工员说话态度生硬。",
        },
    )
    c = Complaint.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "complaints:complaint-detail", kwargs={"pk": c.pk}
    )
    assert c.owner == org["east_staff"] and c.severity == "high"


def test_create_form_prefills_client_project_and_content(org, east_client, key_project):
    """The survey follow-up's "转为投诉" link passes client, project and content."""
    web = org.web("east_staff")
    response = web.get(
        reverse("complaints:complaint-create"),
        {"client": east_client.pk, "project": key_project.pk, "content": "满意度调查不满意项:工程质量(2分)"},
    )
    form = response.context["form"]
    assert form.initial["client"] == east_client.pk
    assert form.initial["project"] == key_project.pk
    assert form.initial["content"] == "满意度调查不满意项:工程质量(2分)"
    # A project of another client is not prefilled.
    other = ProjectFactory(client=make_client(org, "east"))
    response = web.get(
        reverse("complaints:complaint-create"), {"client": east_client.pk, "project": other.pk}
    )
    assert "project" not in response.context["form"].initial


def test_create_for_client_outside_scope_is_404(org):
    south_client = make_client(org, "south")
    web = org.web("east_staff")
    assert web.get(reverse("complaints:complaint-create"), {"client": south_client.pk}).status_code == 404
    response = web.post(
        reverse("complaints:complaint-create"),
        {"client": south_client.pk, "category": "billing", "content": "x", "kind": "direct"},
    )
    assert response.status_code == 404
    assert not Complaint.objects.exists()


def test_step_form_refusal_shows_message_and_changes_nothing(org, east_client):
    c = make_complaint(org, client=east_client)
    web = org.web("east_staff")
    url = reverse("complaints:complaint-step", kwargs={"pk": c.pk, "step": "close"})
    response = web.post(url, {"note": ""})
    assert response.status_code == 200 and "不能" in response.content.decode()
    url = reverse("complaints:complaint-step", kwargs={"pk": c.pk, "step": "hand_over"})
    response = web.post(url, {"to": org["south_staff"].pk, "reason": "转交"})
    assert response.status_code == 200 and response.context["form"].errors["to"]
    c.refresh_from_db()
    assert c.status == "received" and c.owner == org["east_staff"]


def test_step_forms_walk_the_workflow(org, east_client):
    c = make_complaint(org, client=east_client)
    web = org.web("east_staff")

    def step(name, data):
        r = web.post(reverse("complaints:complaint-step", kwargs={"pk": c.pk, "step": name}), data)
        assert r.status_code == 302, r.context["form"].errors if r.context else r
        c.refresh_from_db()
        return c.status

    assert step("acknowledge", {"note": "已电话联系业主"}) == "acknowledged"
    assert step("investigate", {"note": ""}) == "investigating"
    r = web.post(
        reverse("complaints:complaint-step", kwargs={"pk": c.pk, "step": "resolve"}), {"resolution": "已说明"}
    )
    assert r.status_code == 200 and "finding" in r.context["form"].errors and "已说明" in r.content.decode()
    assert (
        step("resolve", {"finding": "client_error", "resolution": "系业主自行改动管线所致,已耐心解释"})
        == "resolved"
    )
    assert (
        step("return_visit", {"satisfaction": "satisfied", "method": "phone", "notes": "业主表示理解"})
        == "return_visit"
    )
    assert step("close", {"note": ""}) == "closed"


def test_client_tab_lists_the_clients_complaints_through_restrict(org, east_client, rf):
    make_complaint(org, client=east_client, title="外墙渗水")
    make_complaint(org, client=make_client(org), title="别的客户")
    tab = next(t for t in tabs() if t.key == "complaints")
    request = rf.get("/")
    request.user = org["east_staff"]
    ctx = tab.context(request, east_client)
    assert ctx["count"] == 1 and ctx["complaints"][0].title == "外墙渗水"
    request.user = org["south_staff"]
    assert tab.context(request, east_client)["count"] == 0


def test_home_panel_counts_the_users_complaints(org, east_client):
    make_complaint(
        org, client=east_client, severity="urgent", received_at=timezone.now() - dt.timedelta(hours=1)
    )
    panel = next(p for p in panels(org["east_staff"]) if p["title"] == "客户投诉")
    figures = {f["label"]: f["value"] for f in panel["figures"]}
    assert figures["我负责的未办结"] == 1 and figures["超期"] == 1
    south = next(p for p in panels(org["south_staff"]) if p["title"] == "客户投诉")
    assert {f["label"]: f["value"] for f in south["figures"]}["超期"] == 0
    assert not [p for p in panels(org["norole"]) if p["title"] == "客户投诉"]


def test_nav_by_role(org):
    html = org.web("east_staff").get(reverse("home")).content.decode()
    assert reverse(LIST) in html and reverse("complaints:complaint-create") in html
    html = org.web("leader").get(reverse("home")).content.decode()
    assert reverse(LIST) in html and reverse("complaints:complaint-create") not in html
    assert reverse(LIST) not in org.web("norole").get(reverse("home")).content.decode()


def test_client_page_shows_the_complaints_tab(org, east_client):
    c = make_complaint(org, client=east_client, title="外墙渗水")
    # The page's tab link, and the tab's own address (loaded when the tab is opened).
    response = org.web("east_staff").get(
        reverse("clients:client-tab", kwargs={"pk": east_client.pk, "tab": "complaints"})
    )
    html = response.content.decode()
    assert 'data-testid="tab-complaints"' in html and 'data-testid="client-complaints"' in html
    assert reverse("complaints:complaint-detail", kwargs={"pk": c.pk}) in html and "外墙渗水" in html
