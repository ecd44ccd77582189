"""Survey campaigns through the API (R25a): group marketing opens and closes them, a branch's
people send their branch's surveys, calling the services the campaign pages call."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Notification
from surveys import services
from surveys.models import Campaign, CampaignBranchReport, Survey, SurveyTemplate
from tests.surveys.conftest import make_client

pytestmark = pytest.mark.django_db

ROUTES_COVERED = ["survey-campaign-send", "survey-campaign-close"]

LIST = reverse("survey-campaign-list")


def _send(campaign_pk):
    return reverse("survey-campaign-send", kwargs={"pk": campaign_pk})


def _close(campaign_pk):
    return reverse("survey-campaign-close", kwargs={"pk": campaign_pk})


def _payload(template, **kw):
    return {
        "name": "2026年第4季度客户满意度调查",
        "template": template.pk,
        "grades": "AB",
        "project_within_days": 365,
        "deadline": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        **kw,
    }


@pytest.fixture
def campaign(org, standard):
    """An open campaign with a draft survey in east and one in south."""
    make_client(org, "east")
    make_client(org, "south")
    return services.campaign_open(
        by=org["marketing"],
        template=standard,
        name="测试活动",
        deadline=timezone.localdate() + dt.timedelta(days=10),
    )


# -- open (POST /api/survey-campaigns/) -----------------------------------------------------------


def test_marketing_opens_a_campaign_and_the_branch_managers_are_told(org, standard):
    """R25a: a draft survey for every client in scope, a history row, each branch's managers
    notified."""
    east = make_client(org, "east", grade="A")
    make_client(org, "south", grade="B")
    make_client(org, "south", grade="C")  # out of the grades asked for
    response = org.api("marketing").post(LIST, _payload(standard), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "open" and body["grades"] == "AB"
    campaign = Campaign.objects.get(pk=body["id"])
    assert campaign.opened_by == org["marketing"]
    assert campaign.history.filter(history_type="+").count() == 1
    assert campaign.surveys.count() == 2
    assert campaign.surveys.get(client=east).status == Survey.Status.DRAFT
    told = Notification.objects.filter(
        verb="survey_campaign", key__startswith=f"campaign-open-{campaign.pk}-"
    )
    assert set(told.values_list("recipient__username", flat=True)) == {"east_manager", "south_manager"}


@pytest.mark.parametrize("user", ["east_manager", "east_staff", "leader", "auditor", "norole"])
def test_only_marketing_opens_one(org, standard, user):
    make_client(org, "east")
    response = org.api(user).post(LIST, _payload(standard), format="json")
    assert response.status_code == 403
    assert not Campaign.objects.exists() and not Survey.objects.exists()


def test_anonymous_is_401(org, standard):
    assert org.api(None).post(LIST, _payload(standard), format="json").status_code == 401


def test_refused_openings_are_400_with_a_message(org, standard):
    api = org.api("marketing")
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = api.post(LIST, _payload(standard, deadline=past), format="json")
    assert response.status_code == 400 and response.json()["deadline"] == ["截止日期不能早于今天。"]
    # The service's own check of the grades (the model's clean).
    response = api.post(LIST, _payload(standard, grades="AX"), format="json")
    assert response.status_code == 400 and response.json()["grades"] == ["客户分级范围只能由 A、B、C 组成。"]
    inactive = SurveyTemplate.objects.create(code="old", name="旧模板", is_active=False)
    response = api.post(LIST, _payload(inactive), format="json")
    assert response.status_code == 400 and response.json()["template"]
    response = api.post(LIST, _payload(standard, project_within_days=10**9), format="json")
    assert response.status_code == 400 and response.json()["project_within_days"]
    assert not Campaign.objects.exists()


def test_page_and_api_open_alike(org, standard):
    """The page's form and the API both go through campaign_open: same surveys, same notices."""
    make_client(org, "east")
    form = {**_payload(standard), "grades": ["A", "B"]}
    assert org.web("marketing").post(reverse("surveys:campaign-create"), form).status_code == 302
    assert org.api("marketing").post(LIST, _payload(standard), format="json").status_code == 201
    page, api = Campaign.objects.order_by("pk")
    assert page.surveys.count() == api.surveys.count() == 1
    assert page.grades == api.grades == "AB"


# -- send (POST /api/survey-campaigns/{id}/send/) ---------------------------------------------------


def test_branch_sends_its_own_surveys(org, campaign):
    east = org.branches["east"]
    response = org.api("east_staff").post(_send(campaign.pk), {"branch": east.pk}, format="json")
    assert response.status_code == 200 and response.json() == {"sent": 1}
    survey = campaign.surveys.get(branch=east)
    assert survey.status == Survey.Status.SENT and survey.token_hash
    assert survey.history.filter(status=Survey.Status.SENT).exists()
    assert campaign.surveys.get(branch=org.branches["south"]).status == Survey.Status.DRAFT
    again = org.api("east_manager").post(_send(campaign.pk), {"branch": east.pk}, format="json")
    assert again.status_code == 200 and again.json() == {"sent": 0}


def test_marketing_may_send_for_a_branch(org, campaign):
    south = org.branches["south"]
    response = org.api("marketing").post(_send(campaign.pk), {"branch": south.pk}, format="json")
    assert response.status_code == 200 and response.json() == {"sent": 1}


@pytest.mark.parametrize("user", ["leader", "auditor", "norole"])
def test_send_needs_the_right_to_change_surveys(org, campaign, user):
    response = org.api(user).post(_send(campaign.pk), {"branch": org.branches["east"].pk}, format="json")
    assert response.status_code == 403
    assert not campaign.surveys.exclude(status=Survey.Status.DRAFT).exists()


def test_send_for_another_branch_or_campaign_is_not_found(org, campaign):
    api = org.api("east_staff")
    assert (
        api.post(_send(campaign.pk), {"branch": org.branches["south"].pk}, format="json").status_code == 404
    )
    assert (
        api.post(_send(campaign.pk + 999), {"branch": org.branches["east"].pk}, format="json").status_code
        == 404
    )
    assert not campaign.surveys.exclude(status=Survey.Status.DRAFT).exists()


def test_send_refused_is_400_with_a_message(org, campaign):
    api = org.api("east_staff")
    assert api.post(_send(campaign.pk), {}, format="json").json()["branch"]
    services.campaign_close(campaign=campaign)
    response = api.post(_send(campaign.pk), {"branch": org.branches["east"].pk}, format="json")
    assert response.status_code == 400 and response.json() == {"detail": ["调查活动已截止。"]}


# -- close (POST /api/survey-campaigns/{id}/close/) -------------------------------------------------


def test_marketing_closes_and_gets_the_summary(org, campaign):
    response = org.api("marketing").post(_close(campaign.pk))
    assert response.status_code == 200 and response.json()["status"] == "closed"
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CLOSED and campaign.closed_at
    assert campaign.history.filter(status=Campaign.Status.CLOSED).exists()
    assert CampaignBranchReport.objects.filter(campaign=campaign).count() == 2
    assert not campaign.surveys.filter(status=Survey.Status.DRAFT).exists()  # expired
    assert Notification.objects.filter(
        recipient=org["marketing"], key=f"campaign-closed-{campaign.pk}"
    ).exists()


@pytest.mark.parametrize("user", ["east_manager", "east_staff", "leader", "auditor", "norole"])
def test_only_marketing_closes(org, campaign, user):
    assert org.api(user).post(_close(campaign.pk)).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.OPEN
    assert not CampaignBranchReport.objects.exists()


def test_close_unknown_is_not_found_and_closed_is_400(org, campaign):
    api = org.api("marketing")
    assert api.post(_close(campaign.pk + 999)).status_code == 404
    assert api.post(_close(campaign.pk)).status_code == 200
    again = api.post(_close(campaign.pk))
    assert again.status_code == 400 and again.json() == {"detail": ["调查活动已截止。"]}
    assert Notification.objects.filter(key=f"campaign-closed-{campaign.pk}").count() == 1


def test_reads_stay_open_to_every_role(org, campaign):
    detail = reverse("survey-campaign-detail", kwargs={"pk": campaign.pk})
    for user in ("east_staff", "leader", "auditor"):
        assert org.api(user).get(detail).status_code == 200
    # No edit or delete for anyone: a method the resource does not take answers 405 first.
    assert org.api("east_staff").put(detail, {}, format="json").status_code == 405
    assert org.api("marketing").put(detail, {}, format="json").status_code == 405
    assert org.api("marketing").delete(detail).status_code == 405


def test_schema_documents_the_steps(org):
    paths = org.api("marketing").get("/api/schema/", {"format": "json"}).json()["paths"]
    create = paths["/api/survey-campaigns/"]["post"]
    assert create["operationId"] == "survey_campaigns_create"
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/CampaignOpenRequest"
    )
    assert {"201", "400", "403"} <= create["responses"].keys()
    for step in ("send", "close"):
        assert {"200", "400", "403", "404"} <= paths[f"/api/survey-campaigns/{{id}}/{step}/"]["post"][
            "responses"
        ].keys()
    # The follow-ups are opened by answered surveys: their collection offers no POST (405).
    assert "post" not in paths["/api/survey-follow-ups/"]
    assert org.api("east_staff").post(reverse("survey-follow-up-list"), {}, format="json").status_code == 405
