"""Survey workflows (R20-R25a): sending, answering once, paper entry, unsatisfied items and
their follow-up, targets and campaigns."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from clients.facts import fact
from crm.models import Notification
from surveys import services
from surveys.models import Answer, Campaign, CampaignBranchReport, FollowUp, Survey, Target
from tests.surveys.conftest import make_client, scores_for

pytestmark = pytest.mark.django_db


def _token(url):
    return url.rstrip("/").rsplit("/", 1)[1]


def test_shipped_templates_have_r20_dimensions_and_seed_002_targets(standard, benchmark):
    names = list(standard.dimensions.filter(is_summary=False).values_list("name", flat=True))
    assert names == ["客户服务", "工程质量", "服务质量", "竣工后服务"]  # R20, seed 001
    assert standard.dimensions.get(code="loyalty").questions.filter(scale="ten").exists()
    year = timezone.localdate().year
    t = Target.objects.get(dimension__template=benchmark, dimension__code="engineering", year=year)
    assert (t.base, t.target) == (Decimal("0.490"), Decimal("0.550"))  # R23: 49% -> 55%
    overall = Target.objects.get(dimension__template=benchmark, dimension__code="overall", year=year)
    assert (overall.base, overall.target) == (Decimal("0.550"), Decimal("0.650"))


def test_survey_is_attributed_to_project_branch_and_department(org, east_client, standard):
    project = east_client.projects.get()
    survey = services.survey_create(
        by=org["east_staff"], client=east_client, template=standard, project=project
    )
    assert survey.branch == org.branches["east"]
    assert survey.department == org.departments[("east", "biz")]
    assert survey.status == Survey.Status.DRAFT


def test_create_refused_outside_scope_saves_nothing(org, east_client, standard):
    with pytest.raises(PermissionDenied):
        services.survey_create(by=org["south_staff"], client=east_client, template=standard)
    assert not Survey.objects.exists()


def test_send_by_email_issues_a_hashed_link_valid_30_days(
    org, east_client, standard, django_capture_on_commit_callbacks
):
    survey = services.survey_create(by=org["east_staff"], client=east_client, template=standard)
    with django_capture_on_commit_callbacks(execute=True):
        survey, url = services.survey_send(survey=survey, by=org["east_staff"], email="zhang@example.com")
    token = _token(url)
    assert survey.status == Survey.Status.SENT and survey.channel == Survey.Channel.EMAIL
    assert token not in survey.token_hash and len(survey.token_hash) == 64  # only the hash is kept
    assert abs((survey.expires_at - timezone.now()) - dt.timedelta(days=30)) < dt.timedelta(minutes=1)
    assert len(mail.outbox) == 1 and url in mail.outbox[0].body
    assert services.survey_for_token(token) == survey


def test_resend_replaces_the_link(org, east_client, standard):
    survey = services.survey_create(by=org["east_staff"], client=east_client, template=standard)
    _, first = services.survey_send(survey=survey, by=org["east_staff"])
    _, second = services.survey_send(survey=survey, by=org["east_staff"])
    with pytest.raises(services.LinkError):
        services.survey_for_token(_token(first))
    assert services.survey_for_token(_token(second)).pk == survey.pk


def test_answer_counts_unsatisfied_items_and_opens_follow_up(org, east_client, standard):
    """R21: ratings of 1-2 are unsatisfied items; the account owner gets a follow-up."""
    survey = services.survey_create(by=org["east_staff"], client=east_client, template=standard)
    _, url = services.survey_send(survey=survey, by=org["east_staff"])
    scores = scores_for(standard, low=(0, 3))
    survey = services.survey_answer_public(
        token=_token(url), scores=scores, respondent="王经理", comment="维修太慢"
    )
    assert survey.status == Survey.Status.ANSWERED and survey.unsatisfied_count == 2
    with pytest.raises(services.LinkError) as err:
        services.survey_for_token(_token(url))
    assert err.value.reason == "used"
    assert Answer.objects.filter(survey=survey).count() == len(scores)
    follow_up = FollowUp.objects.get(survey=survey)
    assert follow_up.owner == east_client.owner and follow_up.status == FollowUp.Status.OPEN
    assert "客户服务" in follow_up.items and "工程质量" in follow_up.items
    assert Notification.objects.filter(recipient=east_client.owner, verb="survey_unsatisfied").count() == 1
    url = services.complaint_prefill_url(follow_up)
    assert url.startswith("/complaints/new/?") and f"client={east_client.pk}" in url


def test_answer_without_unsatisfied_items_opens_no_follow_up(org, east_client, standard):
    survey = services.survey_create(by=org["east_staff"], client=east_client, template=standard)
    _, url = services.survey_send(survey=survey, by=org["east_staff"])
    services.survey_answer_public(token=_token(url), scores=scores_for(standard, default=4))
    assert not FollowUp.objects.exists()
    survey.refresh_from_db()
    assert survey.satisfaction_rate == Decimal("1.000")


def test_link_answers_once(org, east_client, standard):
    survey = services.survey_create(by=org["east_staff"], client=east_client, template=standard)
    _, url = services.survey_send(survey=survey, by=org["east_staff"])
    services.survey_answer_public(token=_token(url), scores=scores_for(standard))
    with pytest.raises(services.LinkError) as err:
        services.survey_answer_public(token=_token(url), scores=scores_for(standard, default=1))
    assert err.value.reason == "used"
    assert Answer.objects.filter(survey=survey).count() == len(scores_for(standard))
    assert not Answer.objects.filter(score=1).exists()


def test_expired_link_records_nothing(org, east_client, standard):
    survey = services.survey_create(by=org["east_staff"], client=east_client, template=standard)
    _, url = services.survey_send(survey=survey, by=org["east_staff"], days=1)
    later = timezone.now() + dt.timedelta(days=2)
    with pytest.raises(services.LinkError) as err:
        services.survey_answer_public(token=_token(url), scores=scores_for(standard), now=later)
    assert err.value.reason == "expired"
    assert not Answer.objects.exists()
    assert services.surveys_expire(now=later) == 1
    assert services.surveys_expire(now=later) == 0  # idempotent


def test_incomplete_or_out_of_range_scores_save_nothing(org, east_client, standard):
    survey = services.survey_create(by=org["east_staff"], client=east_client, template=standard)
    _, url = services.survey_send(survey=survey, by=org["east_staff"])
    scores = scores_for(standard)
    first = next(iter(scores))
    bad = {**scores, first: 7}
    with pytest.raises(ValidationError) as err:
        services.survey_answer_public(token=_token(url), scores=bad)
    assert f"q{first}" in err.value.message_dict
    scores.pop(first)
    with pytest.raises(ValidationError):
        services.survey_answer_public(token=_token(url), scores=scores)
    assert not Answer.objects.exists()
    survey.refresh_from_db()
    assert survey.status == Survey.Status.SENT  # still answerable


def test_paper_survey_entered_by_staff(org, east_client, standard):
    survey = services.survey_create(by=org["east_staff"], client=east_client, template=standard)
    survey = services.survey_enter_paper(
        survey=survey, by=org["east_staff"], scores=scores_for(standard, low=(1,)), respondent="赵工"
    )
    assert survey.channel == Survey.Channel.PAPER and survey.entered_by == org["east_staff"]
    assert survey.unsatisfied_count == 1
    with pytest.raises(ValidationError):
        services.survey_enter_paper(
            survey=survey, by=org["east_staff"], scores=scores_for(standard), respondent="赵工"
        )
    with pytest.raises(PermissionDenied):
        other = services.survey_create(by=org["east_staff"], client=east_client, template=standard)
        services.survey_enter_paper(
            survey=other, by=org["south_staff"], scores=scores_for(standard), respondent="x"
        )


def test_follow_up_close(org, east_client, standard):
    survey = services.survey_create(by=org["east_staff"], client=east_client, template=standard)
    services.survey_enter_paper(
        survey=survey, by=org["east_staff"], scores=scores_for(standard, low=(0,)), respondent="赵工"
    )
    follow_up = FollowUp.objects.get()
    with pytest.raises(ValidationError):
        services.followup_close(follow_up=follow_up, by=org["east_staff"], note=" ")
    with pytest.raises(PermissionDenied):
        services.followup_close(follow_up=follow_up, by=org["south_staff"], note="已回访")
    services.followup_close(follow_up=follow_up, by=org["east_staff"], note="已电话回访,安排维修")
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.DONE and follow_up.done_by == org["east_staff"]


def test_satisfaction_fact_for_the_archive(org, east_client, standard):
    """R8, R25: the archive reads the client's satisfaction through the registered fact."""
    assert fact("satisfaction", east_client) is None
    survey = services.survey_create(by=org["east_staff"], client=east_client, template=standard)
    scores = scores_for(standard, low=(0, 1))
    services.survey_enter_paper(survey=survey, by=org["east_staff"], scores=scores, respondent="赵工")
    result = fact("satisfaction", east_client)
    assert result["answers"] == len(scores)
    assert result["rate"] == pytest.approx((len(scores) - 2) / len(scores))
    assert "1份问卷" in result["basis"]


def test_target_set_only_by_marketing(org, standard):
    dim = standard.dimensions.get(code="engineering_quality")
    with pytest.raises(PermissionDenied):
        services.target_set(
            dimension=dim, year=2030, base=Decimal("0.5"), target=Decimal("0.6"), by=org["east_manager"]
        )
    with pytest.raises(ValidationError):
        services.target_set(
            dimension=dim, year=2030, base=Decimal("0.6"), target=Decimal("0.5"), by=org["marketing"]
        )
    row = services.target_set(
        dimension=dim, year=2030, base=Decimal("0.5"), target=Decimal("0.6"), by=org["marketing"]
    )
    assert row.target == Decimal("0.6")


def test_campaign_scope_send_close_and_reports(org, standard):
    """R25a: A and B clients with a recent project; branches send; at the deadline branch
    reports and the group summary; closing twice changes nothing."""
    a_east = make_client(org, "east", "A")
    b_south = make_client(org, "south", "B")
    make_client(org, "east", "C")  # out of scope: grade
    make_client(org, "east", "A", with_project=False)  # out of scope: no recent project
    campaign = services.campaign_open(
        by=org["marketing"],
        template=standard,
        name="2026年第4季度客户满意度调查",
        deadline=timezone.localdate() + dt.timedelta(days=30),
    )
    assert set(campaign.surveys.values_list("client_id", flat=True)) == {a_east.pk, b_south.pk}
    assert Notification.objects.filter(recipient=org["east_manager"], verb="survey_campaign").exists()
    with pytest.raises(PermissionDenied):
        services.campaign_open(
            by=org["east_manager"], template=standard, name="x", deadline=timezone.localdate()
        )

    assert (
        services.campaign_send_branch(campaign=campaign, branch=org.branches["east"], by=org["east_staff"])
        == 1
    )
    # east staff cannot send south's surveys
    assert (
        services.campaign_send_branch(campaign=campaign, branch=org.branches["south"], by=org["east_staff"])
        == 0
    )
    east_survey = campaign.surveys.get(client=a_east)
    assert east_survey.status == Survey.Status.SENT and east_survey.recipient_email == "kehu@example.com"
    services.survey_enter_paper(
        survey=east_survey, by=org["east_staff"], scores=scores_for(standard, low=(0,)), respondent="钱总"
    )

    assert (
        services.campaigns_remind(today=campaign.deadline - dt.timedelta(days=3)) >= 1
    )  # south has one open
    assert services.campaigns_remind(today=campaign.deadline - dt.timedelta(days=3)) == 0  # keyed

    assert services.campaigns_close_due(today=campaign.deadline + dt.timedelta(days=1)) == 1
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CLOSED
    assert campaign.surveys.get(client=b_south).status == Survey.Status.EXPIRED
    east_report = CampaignBranchReport.objects.get(campaign=campaign, branch=org.branches["east"])
    assert east_report.summary["answered"] == 1 and east_report.summary["unsatisfied"] == 1
    south_report = CampaignBranchReport.objects.get(campaign=campaign, branch=org.branches["south"])
    assert south_report.summary["expired"] == 1
    assert campaign.summary["answered"] == 1 and campaign.summary["expired"] == 1
    assert {b["name"] for b in campaign.summary["branches"]} == {"华东分公司", "华南分公司"}
    notes = Notification.objects.filter(verb="survey_campaign", recipient=org["marketing"]).count()
    services.campaign_close(campaign=campaign)
    assert CampaignBranchReport.objects.filter(campaign=campaign).count() == 2
    assert Notification.objects.filter(verb="survey_campaign", recipient=org["marketing"]).count() == notes


def test_quarterly_campaign_is_idempotent(org, standard):
    make_client(org, "east", "A")
    first = services.campaign_open_quarterly(today=dt.date(2026, 10, 1))
    again = services.campaign_open_quarterly(today=dt.date(2026, 10, 15))
    assert first.pk == again.pk and first.code == "2026-q4"
    assert first.template == standard
    assert Campaign.objects.count() == 1
    assert first.surveys.count() == 1
