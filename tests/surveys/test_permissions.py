"""Permission matrices of the surveys (style.md 10): surveys, their follow-ups, answers and
branch reports inherit ObjectMatrix; the group's configuration pages (templates, targets,
campaigns, results) are readable by every role and writable by group marketing only."""

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from surveys import services
from surveys.models import Answer, Campaign, CampaignBranchReport, FollowUp, Survey, SurveyTemplate, Target
from tests.permissions import ObjectMatrix
from tests.surveys.conftest import make_client, scores_for

pytestmark = pytest.mark.django_db


def make_survey(org, branch_code, *, answered=False, low=(0,)):
    client = make_client(org, branch_code)
    template = SurveyTemplate.objects.get(code="standard")
    survey = services.survey_create(by=org[f"{branch_code}_staff"], client=client, template=template)
    if answered:
        survey = services.survey_enter_paper(
            survey=survey,
            by=org[f"{branch_code}_staff"],
            scores=scores_for(template, low=low),
            respondent="赵工",
        )
    return survey


class ReadOnlyApi:
    """Read-only resources: a write is refused (403/404/405) and changes nothing."""

    def test_api_refused_writes_change_nothing(self, org):
        obj = self.make(org, "east")
        before = self.model.objects.filter(pk=obj.pk).values().get()
        for user in ("south_staff", "leader", "east_staff"):
            assert org.api(user).patch(self._api_detail(obj), {}, format="json").status_code in (
                403,
                404,
                405,
            )
            assert org.api(user).delete(self._api_detail(obj)).status_code in (403, 404, 405)
        assert self.model.objects.filter(pk=obj.pk).values().get() == before


class TestSurveyMatrix(ObjectMatrix):
    model = Survey
    list_route = "surveys:survey-list"
    detail_route = "surveys:survey-detail"
    api_list_route = "survey-list"
    api_detail_route = "survey-detail"
    covers = {
        "surveys:survey-list",
        "surveys:survey-detail",
        "surveys:survey-create",
        "surveys:survey-send",
        "surveys:survey-paper",
        "survey-list",
        "survey-detail",
        "survey-send",
        "survey-paper",
    }

    def make(self, org, branch_code):
        return make_survey(org, branch_code)

    def test_create_page(self, org):
        url = reverse("surveys:survey-create")
        assert org.web(None).get(url).status_code == 302
        assert org.web("norole").get(url).status_code == 403
        assert org.web("leader").get(url).status_code == 403
        assert org.web("east_staff").get(url).status_code == 200

    def test_create_page_offers_only_clients_in_scope(self, org):
        own, other = make_client(org, "east"), make_client(org, "south")
        form = org.web("east_staff").get(reverse("surveys:survey-create")).context["form"]
        choices = set(form.fields["client"].queryset)
        assert own in choices and other not in choices
        template = SurveyTemplate.objects.get(code="standard")
        response = org.web("east_staff").post(
            reverse("surveys:survey-create"), {"client": other.pk, "template": template.pk}
        )
        assert response.status_code == 200 and "client" in response.context["form"].errors
        assert not Survey.objects.exists()

    def test_write_pages(self, org):
        survey = self.make(org, "east")
        paper = reverse("surveys:survey-paper", kwargs={"pk": survey.pk})
        send = reverse("surveys:survey-send", kwargs={"pk": survey.pk})
        assert org.web(None).get(paper).status_code == 302
        assert org.web("norole").get(paper).status_code == 403
        assert org.web("leader").get(paper).status_code == 403
        assert org.web("south_manager").get(paper).status_code == 404
        assert org.web("south_manager").post(send, {"days": 30}).status_code == 404
        assert org.web("auditor").post(send, {"days": 30}).status_code == 403
        survey.refresh_from_db()
        assert survey.status == Survey.Status.DRAFT and not survey.token_hash
        web = org.web("east_staff")
        assert web.get(paper).status_code == 200
        response = web.post(send, {"days": 30, "email": ""})
        assert response.status_code == 302
        detail = web.get(reverse("surveys:survey-detail", kwargs={"pk": survey.pk}))
        assert "/surveys/a/" in detail.content.decode()  # the link to copy, shown once
        again = web.get(reverse("surveys:survey-detail", kwargs={"pk": survey.pk}))
        assert "/surveys/a/" not in again.content.decode()

    def test_paper_page_keeps_input_on_error(self, org):
        survey = self.make(org, "east")
        url = reverse("surveys:survey-paper", kwargs={"pk": survey.pk})
        response = org.web("east_staff").post(
            url, {"respondent": "赵工", "comment": "整体不错", "answered_on": "2026-01-05"}
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "整体不错" in html and "赵工" in html
        assert not Answer.objects.exists()

    def test_api_send_returns_answer_url(self, org):
        survey = self.make(org, "east")
        url = reverse("survey-send", kwargs={"pk": survey.pk})
        assert org.api("south_staff").post(url, {}, format="json").status_code == 404
        assert org.api("leader").post(url, {}, format="json").status_code == 403
        response = org.api("east_staff").post(url, {"days": 10}, format="json")
        assert response.status_code == 200 and "/surveys/a/" in response.json()["answer_url"]
        token = response.json()["answer_url"].rstrip("/").rsplit("/", 1)[1]
        assert org.web(None).get(reverse("surveys:answer", kwargs={"token": token})).status_code == 200

    def test_api_send_answered_is_400(self, org):
        survey = make_survey(org, "east", answered=True)
        response = org.api("east_staff").post(
            reverse("survey-send", kwargs={"pk": survey.pk}), {}, format="json"
        )
        assert response.status_code == 400 and response.json()

    def test_api_create_and_paper(self, org):
        client = make_client(org, "east")
        other = make_client(org, "south")
        template = SurveyTemplate.objects.get(code="standard")
        api = org.api("east_staff")
        bad = api.post(reverse("survey-list"), {"client": other.pk, "template": template.pk}, format="json")
        assert bad.status_code == 400
        response = api.post(
            reverse("survey-list"), {"client": client.pk, "template": template.pk}, format="json"
        )
        assert response.status_code == 201, response.content
        pk = response.json()["id"]
        assert response.json()["status"] == "draft"
        scores = {str(k): v for k, v in scores_for(template, low=(0, 1)).items()}
        paper = reverse("survey-paper", kwargs={"pk": pk})
        assert api.post(paper, {"scores": {}, "respondent": "赵工"}, format="json").status_code == 400
        done = api.post(paper, {"scores": scores, "respondent": "赵工"}, format="json")
        assert done.status_code == 200 and done.json()["unsatisfied_count"] == 2
        assert len(done.json()["answers"]) == len(scores)

    def test_list_export_is_the_filtered_list(self, org):
        answered = make_survey(org, "east", answered=True)
        draft = make_survey(org, "east")
        make_survey(org, "south")
        response = org.web("east_staff").get(reverse("surveys:survey-list") + "?status=answered&export=xlsx")
        rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(min_row=2, values_only=True))
        names = [r[0] for r in rows]
        assert names == [answered.client.name] and draft.client.name not in names

    def test_list_query_budget(self, org, django_assert_max_num_queries):
        for _ in range(4):
            make_survey(org, "east", answered=True)
        web = org.web("east_staff")
        with django_assert_max_num_queries(22):
            response = web.get(reverse("surveys:survey-list") + "?q=测试&sort=unsatisfied")
        assert len(response.context["page"].object_list) == 4

    def test_api_list_query_budget(self, org, django_assert_max_num_queries):
        for _ in range(4):
            make_survey(org, "east", answered=True)
        api = org.api("east_staff")
        with django_assert_max_num_queries(10):
            response = api.get(reverse("survey-list"))
        assert response.json()["count"] == 4


class TestFollowUpMatrix(ObjectMatrix):
    model = FollowUp
    list_route = "surveys:followup-list"
    api_list_route = "survey-follow-up-list"
    api_detail_route = "survey-follow-up-detail"
    covers = {
        "surveys:followup-list",
        "surveys:followup-close",
        "survey-follow-up-list",
        "survey-follow-up-detail",
        "survey-follow-up-close",
    }

    def make(self, org, branch_code):
        return make_survey(org, branch_code, answered=True).follow_up

    def test_api_refused_writes_change_nothing(self, org):
        obj = self.make(org, "east")
        before = FollowUp.objects.filter(pk=obj.pk).values().get()
        close = reverse("survey-follow-up-close", kwargs={"pk": obj.pk})
        assert org.api("south_staff").post(close, {"note": "篡改"}, format="json").status_code == 404
        assert org.api("leader").post(close, {"note": "篡改"}, format="json").status_code == 403
        assert org.api("south_staff").patch(self._api_detail(obj), {}, format="json").status_code in (
            403,
            404,
            405,
        )
        assert FollowUp.objects.filter(pk=obj.pk).values().get() == before
        response = org.api("east_staff").post(close, {"note": "已回访,安排返修"}, format="json")
        assert response.status_code == 200 and response.json()["status"] == "done"
        again = org.api("east_staff").post(close, {"note": "再次"}, format="json")
        assert again.status_code == 400

    def test_close_page(self, org):
        obj = self.make(org, "east")
        url = reverse("surveys:followup-close", kwargs={"pk": obj.pk})
        assert org.web(None).post(url, {"note": "x"}).status_code == 302
        assert org.web("norole").post(url, {"note": "x"}).status_code == 403
        assert org.web("south_staff").post(url, {"note": "x"}).status_code == 404
        assert org.web("auditor").post(url, {"note": "x"}).status_code == 403
        obj.refresh_from_db()
        assert obj.status == FollowUp.Status.OPEN
        assert org.web("east_staff").post(url, {"note": "已回访"}).status_code == 302
        obj.refresh_from_db()
        assert obj.status == FollowUp.Status.DONE

    def test_list_shows_complaint_link_and_budget(self, org, django_assert_max_num_queries):
        for _ in range(3):
            self.make(org, "east")
        web = org.web("east_staff")
        with django_assert_max_num_queries(20):
            response = web.get(reverse("surveys:followup-list"))
        html = response.content.decode()
        assert html.count('data-testid="follow-up-row"') == 3
        assert "/complaints/new/?client=" in html


class TestAnswerMatrix(ReadOnlyApi, ObjectMatrix):
    model = Answer
    api_list_route = "survey-answer-list"
    api_detail_route = "survey-answer-detail"
    covers = {"survey-answer-list", "survey-answer-detail"}

    def make(self, org, branch_code):
        return make_survey(org, branch_code, answered=True).answers.first()

    def client_of(self, obj):
        return obj.survey.client


class TestReportMatrix(ReadOnlyApi, ObjectMatrix):
    model = CampaignBranchReport
    api_list_route = "survey-report-list"
    api_detail_route = "survey-report-detail"
    grants_apply = False
    covers = {"survey-report-list", "survey-report-detail"}

    def make(self, org, branch_code):
        template = SurveyTemplate.objects.get(code="standard")
        make_client(org, branch_code)
        campaign = services.campaign_open(
            by=org["marketing"],
            template=template,
            name="测试活动",
            deadline=timezone.localdate() + dt.timedelta(days=5),
        )
        services.campaign_close(campaign=campaign)
        return CampaignBranchReport.objects.get(campaign=campaign, branch=org.branches[branch_code])


# -- group configuration: every role reads, group marketing writes ------------------------------

ROUTES_COVERED = [
    "surveys:template-list",
    "surveys:template-detail",
    "surveys:template-create",
    "surveys:template-edit",
    "surveys:targets",
    "surveys:results",
    "surveys:matrix",
    "surveys:campaign-list",
    "surveys:campaign-create",
    "surveys:campaign-detail",
    "surveys:campaign-send",
    "surveys:campaign-close",
    "survey-template-list",
    "survey-template-detail",
    "survey-campaign-list",
    "survey-campaign-detail",
]


@pytest.mark.parametrize(
    "route",
    [
        "surveys:targets",
        "surveys:results",
        "surveys:matrix",
        "surveys:campaign-list",
    ],
)
def test_group_pages_read_by_every_role(org, route):
    url = reverse(route)
    assert org.web(None).get(url).status_code == 302
    assert org.web("norole").get(url).status_code == 403
    for user in ("east_staff", "south_manager", "marketing", "leader", "auditor"):
        assert org.web(user).get(url).status_code == 200, user


def test_template_pages(org, standard):
    detail = reverse("surveys:template-detail", kwargs={"pk": standard.pk})
    edit = reverse("surveys:template-edit", kwargs={"pk": standard.pk})
    create = reverse("surveys:template-create")
    # The template pages are group configuration for those who set up or run surveys; staff fill
    # surveys in from the survey form (the API still serves them the templates).
    for url in (reverse("surveys:template-list"), detail):
        assert org.web(None).get(url).status_code == 302
        for user in ("norole", "east_staff"):
            assert org.web(user).get(url).status_code == 403, (url, user)
        for user in ("south_manager", "marketing", "leader", "auditor"):
            assert org.web(user).get(url).status_code == 200, (url, user)
    assert org.api("east_staff").get(reverse("survey-template-list")).status_code == 200
    for url in (edit, create):
        assert org.web(None).get(url).status_code == 302
        for user in ("norole", "east_staff", "east_manager", "leader", "auditor"):
            assert org.web(user).get(url).status_code == 403, (url, user)
        assert org.web("marketing").get(url).status_code == 200


def test_marketing_edits_importance_weight(org, standard):
    web = org.web("marketing")
    url = reverse("surveys:template-edit", kwargs={"pk": standard.pk})
    form = web.get(url).context
    data = {}
    for f in (form["form"], form["dims"], form["questions"]):
        if hasattr(f, "management_form"):
            for name in f.management_form.fields:
                data[f.management_form.add_prefix(name)] = f.management_form[name].value()
            forms = f.forms
        else:
            forms = [f]
        for sub in forms:
            for name in sub.fields:
                value = sub[name].value()
                if value is None or value is False:
                    continue
                data[sub.add_prefix(name)] = value
    eq = standard.dimensions.get(code="engineering_quality")
    idx = [d.instance.pk for d in form["dims"].forms].index(eq.pk)
    data[f"d-{idx}-importance"] = "0.45"
    response = web.post(url, data)
    assert response.status_code == 302, response.context and [
        f.errors for f in response.context["dims"].forms
    ]
    eq.refresh_from_db()
    assert str(eq.importance) == "0.45"
    data[f"d-{idx}-importance"] = "abc"
    response = web.post(url, data)
    assert response.status_code == 200
    eq.refresh_from_db()
    assert str(eq.importance) == "0.45"


def test_targets_edit_only_marketing(org, standard):
    year = timezone.localdate().year
    dim = standard.dimensions.get(code="service_quality")
    url = reverse("surveys:targets") + f"?template={standard.pk}&year={year}"
    payload = {f"base-{dim.pk}": "60", f"target-{dim.pk}": "70"}
    assert org.web("east_manager").post(url, payload).status_code == 403
    assert org.web("leader").post(url, payload).status_code == 403
    assert org.web("marketing").post(url, payload).status_code == 302
    t = Target.objects.get(dimension=dim, year=year)
    assert float(t.base) == 0.6 and float(t.target) == 0.7
    bad = org.web("marketing").post(url, {f"base-{dim.pk}": "80", f"target-{dim.pk}": "x"})
    assert bad.status_code == 200
    t.refresh_from_db()
    assert float(t.base) == 0.6


def test_campaign_pages(org, standard):
    client = make_client(org, "east")
    make_client(org, "south")
    create = reverse("surveys:campaign-create")
    for user in ("east_manager", "leader", "norole"):
        assert org.web(user).get(create).status_code == 403
    deadline = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    response = org.web("marketing").post(
        create,
        {
            "name": "2026年第4季度客户满意度调查",
            "template": standard.pk,
            "grades": ["A", "B"],
            "project_within_days": 365,
            "deadline": deadline,
        },
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    detail = reverse("surveys:campaign-detail", kwargs={"pk": campaign.pk})
    page = org.web("east_staff").get(detail)
    assert page.status_code == 200
    assert [p["branch"].code for p in page.context["progress"]] == ["east"]  # own branch only
    assert org.web("marketing").get(detail).context["progress"].__len__() == 2
    send = reverse("surveys:campaign-send", kwargs={"pk": campaign.pk})
    assert org.web("east_staff").post(send, {"branch": org.branches["south"].pk}).status_code == 404
    assert org.web("leader").post(send, {"branch": org.branches["east"].pk}).status_code == 403
    assert org.web("east_staff").post(send, {"branch": org.branches["east"].pk}).status_code == 302
    assert campaign.surveys.get(client=client).status == Survey.Status.SENT
    assert campaign.surveys.get(branch=org.branches["south"]).status == Survey.Status.DRAFT
    close = reverse("surveys:campaign-close", kwargs={"pk": campaign.pk})
    assert org.web("east_manager").post(close).status_code == 403
    assert org.web("marketing").post(close).status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CLOSED
    assert CampaignBranchReport.objects.filter(campaign=campaign).count() == 2
    assert len(org.web("east_staff").get(detail).context["reports"]) == 1


def test_results_scope_and_figures(org, standard):
    """R23: the group figure counts every branch for group roles; a branch's people see their
    own branch only, and an out-of-scope branch filter is a 404."""
    make_survey(org, "east", answered=True, low=(0, 1))
    make_survey(org, "south", answered=True, low=())
    url = reverse("surveys:results") + f"?template={standard.pk}"
    group = org.web("leader").get(url).context["data"]["rows"]
    cs = next(r for r in group if r["dimension"].code == "customer_service")
    assert cs["answers"] == 4 and cs["actual"] == pytest.approx(0.5) and cs["unsatisfied"] == 2
    assert cs["base"] == pytest.approx(0.59) and cs["status"] == "below"
    own = org.web("east_staff").get(url).context["data"]["rows"]
    assert next(r for r in own if r["dimension"].code == "customer_service")["answers"] == 2
    south = org.branches["south"].pk
    assert org.web("east_staff").get(url + f"&branch={south}").status_code == 404
    matrix = (
        org.web("marketing")
        .get(reverse("surveys:matrix") + f"?template={standard.pk}&branch={south}")
        .context["matrix"]
    )
    assert all(p["rate"] == 1 for p in matrix["points"])


def test_results_query_budget(org, standard, django_assert_max_num_queries):
    for code in ("east", "south", "design"):
        make_survey(org, code, answered=True)
    web = org.web("marketing")
    with django_assert_max_num_queries(24):
        response = web.get(reverse("surveys:results") + f"?template={standard.pk}")
    assert response.status_code == 200


def test_api_templates_and_campaigns(org, standard):
    api = org.api("east_staff")
    data = api.get(reverse("survey-template-list")).json()
    assert standard.pk in {t["id"] for t in data["results"]}
    detail = api.get(reverse("survey-template-detail", kwargs={"pk": standard.pk})).json()
    assert [d["name"] for d in detail["dimensions"]][:4] == ["客户服务", "工程质量", "服务质量", "竣工后服务"]
    assert org.api(None).get(reverse("survey-template-list")).status_code in (401, 403)
    assert org.api("norole").get(reverse("survey-template-list")).status_code == 403
    assert api.patch(
        reverse("survey-template-detail", kwargs={"pk": standard.pk}), {"name": "x"}, format="json"
    ).status_code in (403, 404)
    assert (
        org.api("leader")
        .patch(reverse("survey-template-detail", kwargs={"pk": standard.pk}), {"name": "x"}, format="json")
        .status_code
        == 403
    )
    assert (
        api.post(reverse("survey-template-list"), {"code": "x", "name": "x"}, format="json").status_code
        == 403
    )
    assert not SurveyTemplate.objects.filter(code="x").exists()
    ok = org.api("marketing").patch(
        reverse("survey-template-detail", kwargs={"pk": standard.pk}), {"name_en": "Standard"}, format="json"
    )
    assert ok.status_code == 200
    make_client(org, "east")
    campaign = services.campaign_open(
        by=org["marketing"], template=standard, name="活动", deadline=timezone.localdate()
    )
    assert api.get(reverse("survey-campaign-detail", kwargs={"pk": campaign.pk})).status_code == 200
    assert api.get(reverse("survey-campaign-list")).json()["count"] == 1
    assert org.api("norole").get(reverse("survey-campaign-list")).status_code == 403
