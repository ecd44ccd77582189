"""Demo surveys (design.md "Demo data"): last quarter's campaign, closed with its branch
reports; this quarter's campaign, under way; and benchmark surveys of real-estate clients.
Built on the clients the archive's seed made; idempotent (the campaigns' codes are fixed)."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from clients.models import Client, OrgType
from crm.models import Role, User

from . import services
from .models import Campaign, Question, Survey, SurveyTemplate

RESPONDENTS = [
    "王建国(基建处处长)",
    "刘芳(工程部经理)",
    "陈志刚(项目总监)",
    "赵丽华(采购部主管)",
    "孙海涛(副总经理)",
    "周敏(客服部经理)",
    "吴晓东(工程管理部部长)",
    "郑伟(甲方代表)",
]
COMMENTS_GOOD = [
    "施工现场管理规范,工期基本满足要求。",
    "资料移交及时,项目部配合良好。",
    "设计方案沟通充分,响应速度快。",
    "",
    "",
]
COMMENTS_BAD = [
    "竣工后维修响应偏慢,希望建立固定联系人。",
    "部分门窗渗水问题反复出现,请尽快整改。",
    "现场协调人员变动频繁,沟通效率不高。",
    "工程进度信息通报不及时。",
]
# Weights of the scores 1..5 for a content client and for one with grievances, per dimension
# code (engineering is the group's weak point, as in the benchmark of seed 002).
CONTENT = {"engineering_quality": (0, 1, 30, 40, 29), "engineering": (0, 1, 30, 40, 29)}
CONTENT_DEFAULT = (0, 1, 18, 41, 40)
UNHAPPY = {
    "engineering_quality": (10, 22, 35, 23, 10),
    "engineering": (10, 22, 35, 23, 10),
    "after_service": (8, 20, 35, 25, 12),
}
UNHAPPY_DEFAULT = (2, 8, 35, 35, 20)
TEN = (0, 3, 5, 6, 7, 8, 9, 10)
TEN_CONTENT = (0, 0, 1, 3, 10, 30, 28, 28)
TEN_UNHAPPY = (3, 8, 15, 20, 20, 20, 8, 6)


def _scores(rng: random.Random, template: SurveyTemplate) -> dict[int, int]:
    unhappy = rng.random() < 0.3
    weights, default = (UNHAPPY, UNHAPPY_DEFAULT) if unhappy else (CONTENT, CONTENT_DEFAULT)
    scores = {}
    for q in Question.objects.filter(dimension__template=template).select_related("dimension"):
        if q.scale == "ten":
            scores[q.pk] = rng.choices(TEN, TEN_UNHAPPY if unhappy else TEN_CONTENT)[0]
        else:
            scores[q.pk] = rng.choices((1, 2, 3, 4, 5), weights.get(q.dimension.code, default))[0]
    return scores


def _answer(rng, survey: Survey, by: User, on: dt.date) -> None:
    scores = _scores(rng, survey.template)
    bad = sum(1 for s in scores.values() if s <= 2)
    comment = rng.choice(COMMENTS_BAD if bad else COMMENTS_GOOD)
    services.survey_enter_paper(
        survey=survey,
        by=by,
        scores=scores,
        respondent=rng.choice(RESPONDENTS),
        comment=comment,
        answered_on=on,
    )
    if rng.random() < 0.6:
        # Most came back through the personal link rather than on paper.
        Survey.objects.filter(pk=survey.pk).update(channel=Survey.Channel.EMAIL, entered_by=None)


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def seed(org) -> str:
    """The campaigns and surveys, then the improvement plans made from their matrix (R102)."""
    from .improvements.seed import seed as seed_improvements

    campaigns = seed_campaigns(org)
    if campaigns == "no clients":
        return campaigns
    plans = seed_improvements(org)
    return f"{campaigns}; {plans}" if plans else campaigns


def seed_campaigns(org) -> str:
    clients = Client.objects.filter(grade__in=["A", "B"])
    if not Client.objects.exists():
        return "no clients"
    if Campaign.objects.filter(code__startswith="demo-").exists():
        return "already there"
    if not SurveyTemplate.objects.filter(code="standard").exists():
        # The shipped templates are data of a migration; a flushed database lost them.
        import importlib

        from django.apps import apps

        importlib.import_module("surveys.migrations.0002_standard_templates").ship(apps, None)
    rng = random.Random(2026)
    marketing = org.users.get("marketing") or User.objects.filter(role=Role.MARKETING).first()
    standard = SurveyTemplate.objects.get(code="standard")
    benchmark = SurveyTemplate.objects.get(code="real-estate-benchmark")
    today = timezone.localdate()
    this_q = _quarter_start(today)
    # Last quarter's campaign is closed, this quarter's is under way: in January the closed one
    # is last year's fourth quarter, and this year's figures start with the campaign under way.
    last_q = _quarter_start(this_q - dt.timedelta(days=1))

    # Last quarter: opened, sent by every branch, mostly answered, closed with reports (R25a).
    past = services.campaign_open(
        by=marketing,
        template=standard,
        name=f"{last_q.year}年第{(last_q.month - 1) // 3 + 1}季度客户满意度调查",
        code=f"demo-{last_q:%Y%m}",
        opens_on=last_q,
        deadline=last_q + dt.timedelta(days=45),
    )
    answered = 0
    for survey in past.surveys.select_related("client", "branch"):
        staff = org.users.get(f"{survey.branch.code}_staff") or survey.client.owner
        services.survey_send(survey=survey, by=staff, email=survey.client.email)
        sent_at = timezone.make_aware(
            dt.datetime.combine(past.opens_on + dt.timedelta(days=rng.randint(1, 7)), dt.time(10))
        )
        Survey.objects.filter(pk=survey.pk).update(
            sent_at=sent_at, expires_at=sent_at + dt.timedelta(days=30)
        )
        if rng.random() < 0.8:
            _answer(
                rng, survey, staff, min(past.deadline, past.opens_on + dt.timedelta(days=rng.randint(8, 40)))
            )
            answered += 1
    services.campaign_close(campaign=past)

    # This quarter: under way; east has sent and some answers are in, others have not sent yet.
    current = services.campaign_open(
        by=marketing,
        template=standard,
        name=f"{this_q.year}年第{(this_q.month - 1) // 3 + 1}季度客户满意度调查",
        code=f"demo-{this_q:%Y%m}",
        opens_on=this_q,
        deadline=today + dt.timedelta(days=21),
    )
    for survey in current.surveys.filter(branch__code__in=["east", "design"]).select_related(
        "client", "branch"
    ):
        staff = org.users.get(f"{survey.branch.code}_staff") or survey.client.owner
        services.survey_send(survey=survey, by=staff)
        if rng.random() < 0.5:
            _answer(rng, survey, staff, max(this_q, today - dt.timedelta(days=rng.randint(0, 10))))
            answered += 1

    # Benchmark questionnaire (seed 002) for real-estate developers, about their latest project.
    bench = 0
    for client in clients.filter(org_type=OrgType.REAL_ESTATE).select_related("branch")[:12]:
        project = client.projects.order_by("-signed_on").first()
        survey = services.survey_create(by=marketing, client=client, template=benchmark, project=project)
        staff = org.users.get(f"{survey.branch.code}_staff") or client.owner
        _answer(rng, survey, staff, today - dt.timedelta(days=rng.randint(10, 200)))
        bench += 1
    follow_ups = Survey.objects.filter(unsatisfied_count__gt=0).count()
    return (
        f"{Campaign.objects.filter(code__startswith='demo-').count()} campaigns, {answered} campaign answers, "
        f"{bench} benchmark surveys, {follow_ups} with unsatisfied items"
    )
