"""Satisfaction surveys for ``seed_bulk`` (the benchmark's volume): a year of answered
surveys for about one client in eight, mostly A and B clients, built in memory and returned
for ``bulk_create``, no query per row.

R25a: the last four quarters each have their campaign on the default template (the quarterly
job's code ``YYYY-qN``, or the quarter's campaign already there), made once before the chunks;
a client is in a campaign's scope as ``campaign_clients`` has it (grade A or B, a project within
365 days before it opened, and already in the archive then). Past campaigns are closed with
their branch reports and the group's summary (``finish()``, as ``campaign_close`` builds them,
without its notifications); the current quarter's stays open. A client outside every
campaign (grade C, or too new) gets a survey of its own, as staff make from the client page.

R21-R23: every question of the template is answered, mostly 4-5, some 3, rarely 1-2 (the demo's
weights, ``surveys.seed``, with fewer clients with grievances); each answer's ``positive`` and
``unsatisfied`` come from the models' ``is_positive``/``is_unsatisfied`` and the survey's
``satisfaction_rate`` and ``unsatisfied_count`` are computed from them as ``_record`` does. A
survey with an unsatisfied item has its FollowUp for the client's owner (most older ones
followed up). About one survey in eight is not answered: expired, or still out this quarter.
No notifications are made for these rows."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clients.seed import keep_timestamps, office_moment, person_name
from crm.models import Branch, Role, User

from . import services
from .models import (
    Answer,
    Campaign,
    CampaignBranchReport,
    FollowUp,
    Question,
    Scale,
    Survey,
    SurveyTemplate,
    is_positive,
    is_unsatisfied,
)
from .seed import (
    COMMENTS_BAD,
    COMMENTS_GOOD,
    CONTENT,
    CONTENT_DEFAULT,
    TEN,
    TEN_CONTENT,
    TEN_UNHAPPY,
    UNHAPPY,
    UNHAPPY_DEFAULT,
)

# Share of clients surveyed by grade: about one in eight overall with the archive's A:B:C mix.
SHARE = {"A": 0.25, "B": 0.14, "C": 0.02}
UNHAPPY_SHARE = 0.12  # clients with grievances (the demo has 0.3: a showcase, not a year)
ANSWERED = 0.88
PAPER = 0.25
EMAIL = 0.6
DEADLINE_DAYS = 45  # campaign_open_quarterly's default
POSITIONS = ("总经理", "副总经理", "工程部经理", "基建处处长", "项目总监", "采购部主管", "客服部经理")
FOLLOW_NOTES = (
    "已上门沟通,对不满意项逐条说明并制定整改计划,客户表示认可。",
    "已安排维修班组处理,完成后电话回访,客户满意。",
    "已与客户约定每月例会通报整改进度。",
    "已更换现场联系人并书面告知客户,后续跟踪。",
)


def satisfaction_rate(answers) -> Decimal:
    """The survey's satisfaction rate (R23): the share of positive answers, as ``_record``
    computes it."""
    rate = Decimal(sum(a.positive for a in answers)) / len(answers)
    return rate.quantize(Decimal("0.001"))


def follow_up_items(answers, questions) -> str:
    """The unsatisfied items as ``followup_open`` lists them."""
    return "; ".join(
        f"{questions[a.question_id].dimension.name}·{questions[a.question_id].text}({a.score}分)"
        for a in answers
        if a.unsatisfied
    )


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _aware(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def default_template() -> SurveyTemplate:
    """The quarterly campaigns' template; the shipped ones (a migration's data) are restored
    first when a flushed database lost them, as the demo seed does."""
    template = SurveyTemplate.objects.filter(is_active=True, is_default=True).order_by("pk").first()
    if template is None:
        import importlib

        from django.apps import apps

        importlib.import_module("surveys.migrations.0002_standard_templates").ship(apps, None)
        template = SurveyTemplate.objects.filter(is_active=True, is_default=True).order_by("pk").first()
        template = template or SurveyTemplate.objects.get(code="standard")
    return template


def start(run) -> SurveyBulk:
    """``seed_bulk``'s entry point for surveys (the contract is crm's ``seed_bulk`` command's):
    the quarters' campaigns, then the surveys from their own random stream."""
    return SurveyBulk(now=run.now, rng=random.Random(f"{run.seed}-surveys"), batch_size=run.batch_size)


class SurveyBulk:
    """Prepared once per ``seed_bulk`` run: the template's questions and the four quarterly
    campaigns; ``create(chunk)`` per chunk bulk-creates what ``build()`` returns
    (``[(label, model, rows), ...]`` in creation order); ``finish()`` after the last chunk
    closes the past campaigns."""

    models = (Survey, Answer, FollowUp)

    def __init__(self, *, now: dt.datetime, rng: random.Random, batch_size: int = 2000):
        self.now = now
        self.rng = rng
        self.batch_size = batch_size
        self.today = timezone.localdate(now)
        self.template = default_template()
        self.questions = list(
            Question.objects.filter(dimension__template=self.template)
            .select_related("dimension")
            .order_by("dimension__order", "order", "pk")
        )
        self.by_pk = {q.pk: q for q in self.questions}
        self.marketing = User.objects.filter(role=Role.MARKETING, is_active=True).order_by("pk").first()
        self.campaigns = [self._campaign(q) for q in self._quarters()]

    def _quarters(self) -> list[dt.date]:
        start = _quarter_start(self.today)
        quarters = [start]
        for _ in range(3):
            quarters.append(_quarter_start(quarters[-1] - dt.timedelta(days=1)))
        return quarters[::-1]

    def _campaign(self, opens_on: dt.date) -> Campaign:
        """The quarter's campaign: the one already there (the job's or the demo's), else made
        as ``campaign_open_quarterly`` makes it."""
        existing = (
            Campaign.objects.filter(opens_on=opens_on, template=self.template, grades="AB")
            .order_by("pk")
            .first()
        )
        if existing:
            return existing
        year, q = opens_on.year, (opens_on.month - 1) // 3 + 1
        deadline = opens_on + dt.timedelta(days=DEADLINE_DAYS)
        if opens_on == _quarter_start(self.today):
            deadline = max(deadline, self.today + dt.timedelta(days=7))
        campaign, _created = Campaign.objects.get_or_create(
            code=f"{year}-q{q}",
            defaults={
                "name": f"{year}年第{q}季度客户满意度调查",
                "template": self.template,
                "grades": "AB",
                "project_within_days": 365,
                "opens_on": opens_on,
                "deadline": deadline,
            },
        )
        return campaign

    def _in_scope(self, campaign: Campaign, client, projects):
        """The client's latest project when the campaign opened, if the client was in its
        scope (``campaign_clients``), else False."""
        if client.grade not in campaign.grades or client.created_at >= _aware(campaign.opens_on, 8):
            return False
        since = campaign.opens_on - dt.timedelta(days=campaign.project_within_days)
        there = [p for p in projects if p.signed_on <= campaign.opens_on]
        if not any(
            (p.signed_on and p.signed_on >= since)
            or (p.started_on and p.started_on >= since)
            or (p.completed_on and p.completed_on >= since)
            for p in there
        ):
            return False
        return max(there, key=lambda p: p.signed_on)

    def create(self, chunk) -> dict[str, int]:
        """The surveys of the chunk's clients, bulk-created: ``{label: rows made}``."""
        made = {}
        with keep_timestamps(*self.models):
            for label, model, rows in self.build(chunk.clients, self.rng, chunk.projects):
                model.objects.bulk_create(rows, batch_size=self.batch_size)
                made[label] = len(rows)
        return made

    def build(self, clients, rng, projects=None) -> list[tuple[str, type, list]]:
        surveys, answers, follow_ups = [], [], []
        projects = projects or {}
        for client in clients:
            if rng.random() >= SHARE.get(client.grade, 0):
                continue
            own = projects.get(client.pk, ())
            choices = [(c, p) for c in self.campaigns if (p := self._in_scope(c, client, own)) is not False]
            # Older quarters weigh more: fewer of the archive's clients were there to be asked.
            weights = [2 ** (len(self.campaigns) - self.campaigns.index(c)) for c, _p in choices]
            campaign, project = rng.choices(choices, weights)[0] if choices else (None, None)
            if campaign is None and own:
                project = max(own, key=lambda p: p.signed_on)
            self._one(rng, client, campaign, project, surveys, answers, follow_ups)
        return [
            ("surveys", Survey, surveys),
            ("answers", Answer, answers),
            ("follow-ups", FollowUp, follow_ups),
        ]

    def _one(self, rng, client, campaign, project, surveys, answers, follow_ups) -> None:
        now = self.now
        owner = client.owner
        if campaign is not None:
            created = _aware(campaign.opens_on, 8)
            sent = office_moment(rng, campaign.opens_on + dt.timedelta(days=rng.randint(1, 10)))
            days = max(1, min(90, (campaign.deadline - timezone.localdate(sent)).days + 1))
            last_day = campaign.deadline
            closed = campaign.deadline < self.today
            creator = self.marketing or owner
        else:
            first = timezone.localdate(client.created_at)
            day = first + dt.timedelta(days=rng.randint(0, max((self.today - first).days, 0)))
            created = max(office_moment(rng, day), client.created_at + dt.timedelta(minutes=5))
            sent = created + dt.timedelta(minutes=rng.randint(10, 300))
            days = services.LINK_DAYS
            last_day = None
            closed = False
            creator = owner
        if created > now:
            return
        name, pinyin = person_name(rng)
        survey = Survey(
            client=client,
            project=project,
            template=self.template,
            campaign=campaign,
            branch_id=project.branch_id if project is not None else client.branch_id,
            department_id=(
                project.department_id
                if project is not None and project.department_id
                else client.department_id
            ),
            status=Survey.Status.DRAFT,
            recipient_name=name,
            created_by=creator,
            created_at=created,
            updated_at=created,
        )
        surveys.append(survey)
        if sent > now:
            return  # the branch has not sent it yet (this quarter)
        email = rng.random() < EMAIL
        survey.recipient_email = f"{pinyin}{client.pk}@example.com" if email else ""
        survey.channel = Survey.Channel.EMAIL if email else Survey.Channel.LINK
        survey.token_hash = hashlib.sha256(f"bulk-{client.pk}-{rng.getrandbits(64)}".encode()).hexdigest()
        survey.sent_at = sent
        survey.sent_by = owner
        survey.expires_at = sent + dt.timedelta(days=days)
        survey.status = Survey.Status.SENT
        survey.updated_at = sent

        paper = rng.random() < PAPER
        day = timezone.localdate(sent) + dt.timedelta(days=rng.randint(0, 25))
        at = _aware(day, 12) if paper else office_moment(rng, day)
        answered = (
            rng.random() < ANSWERED
            and sent < at <= now
            and at < survey.expires_at
            and (last_day is None or day <= last_day)
        )
        if not answered:
            if closed or survey.expires_at <= now:
                survey.status = Survey.Status.EXPIRED
            return

        unhappy = rng.random() < UNHAPPY_SHARE
        weights, default = (UNHAPPY, UNHAPPY_DEFAULT) if unhappy else (CONTENT, CONTENT_DEFAULT)
        rows = []
        for q in self.questions:
            if q.scale == Scale.TEN:
                score = rng.choices(TEN, TEN_UNHAPPY if unhappy else TEN_CONTENT)[0]
            else:
                score = rng.choices((1, 2, 3, 4, 5), weights.get(q.dimension.code, default))[0]
            rows.append(
                Answer(
                    survey=survey,
                    question=q,
                    dimension_id=q.dimension_id,
                    score=score,
                    positive=is_positive(score, q.scale),
                    unsatisfied=is_unsatisfied(score, q.scale),
                    created_at=at,
                    updated_at=at,
                )
            )
        answers.extend(rows)
        survey.status = Survey.Status.ANSWERED
        survey.answered_at = at
        survey.unsatisfied_count = sum(a.unsatisfied for a in rows)
        survey.satisfaction_rate = satisfaction_rate(rows)
        survey.respondent = f"{person_name(rng)[0]}({rng.choice(POSITIONS)})"
        survey.comment = rng.choice(COMMENTS_BAD if survey.unsatisfied_count else COMMENTS_GOOD)
        survey.updated_at = at
        if paper:
            survey.channel = Survey.Channel.PAPER
            survey.entered_by = owner
        if not survey.unsatisfied_count:
            return
        follow_up = FollowUp(
            survey=survey,
            client=client,
            branch_id=survey.branch_id,
            owner=owner,
            items=follow_up_items(rows, self.by_pk),
            created_at=at,
            updated_at=at,
        )
        done = office_moment(rng, timezone.localdate(at) + dt.timedelta(days=rng.randint(2, 14)))
        if done <= now - dt.timedelta(days=1) and rng.random() < 0.8:
            follow_up.status = FollowUp.Status.DONE
            follow_up.note = rng.choice(FOLLOW_NOTES)
            follow_up.done_at = done
            follow_up.done_by = owner
            follow_up.updated_at = done
        follow_ups.append(follow_up)

    @transaction.atomic
    def finish(self) -> dict[str, int]:
        """Close the campaigns whose deadline has passed, as ``campaign_close`` does (unanswered
        surveys expire, a report per branch, the group's summary built from them), at the
        moment the daily job would have; a campaign closed before is summarised again (it
        has new surveys). No notifications. Returns ``{"campaign reports": branch reports written}``."""
        made = 0
        for campaign in self.campaigns:
            if campaign.deadline >= self.today:
                continue
            Survey.objects.filter(
                campaign=campaign, status__in=[Survey.Status.DRAFT, Survey.Status.SENT]
            ).update(status=Survey.Status.EXPIRED)
            surveys = Survey.objects.filter(campaign=campaign)
            reports = []
            for branch in Branch.objects.filter(pk__in=surveys.values("branch_id")):
                report, _created = CampaignBranchReport.objects.update_or_create(
                    campaign=campaign,
                    branch=branch,
                    defaults={"summary": services._stats(surveys.filter(branch=branch))},
                )
                reports.append(report)
            made += len(reports)
            campaign.summary = services._group_summary(reports)
            campaign.status = Campaign.Status.CLOSED
            campaign.closed_at = campaign.closed_at or _aware(campaign.deadline + dt.timedelta(days=1), 8, 30)
            campaign.save()
        return {"campaign reports": made}
