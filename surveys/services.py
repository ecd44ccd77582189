"""Writes and workflows of the surveys (R20-R25a). Views, serializers, forms and tasks call
these; each is keyword-only, checks what it saves and runs in one transaction."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from clients.models import Client, Grade, Project
from crm.access import check_in_scope, has_global
from crm.models import Branch, Role, User
from crm.public_links import LinkError, hash_of, new_token
from crm.services import managers_of, notify

from .models import (
    Answer,
    Campaign,
    CampaignBranchReport,
    Dimension,
    FollowUp,
    Question,
    Survey,
    SurveyTemplate,
    Target,
    is_positive,
    is_unsatisfied,
)

LINK_DAYS = 30
TOKEN_SALT = "surveys.answer-link"


def _new_token() -> tuple[str, str]:
    """A random token, signed so a tampered link is refused before any database lookup;
    only the hash of the random part is stored (crm.public_links, shared with R48's link)."""
    return new_token(TOKEN_SALT)


def survey_for_token(token: str) -> Survey:
    """The survey a link opens, or LinkError(invalid | used | expired). Reads nothing else."""
    hashed = hash_of(token, TOKEN_SALT)
    survey = Survey.objects.select_related("template").filter(token_hash=hashed).order_by("-pk").first()
    if survey is None:
        raise LinkError("invalid")
    if survey.status == Survey.Status.ANSWERED:
        raise LinkError("used")
    if survey.status == Survey.Status.EXPIRED or not survey.link_usable:
        raise LinkError("expired")
    return survey


def answer_url(token: str) -> str:
    return f"{settings.CRM_SITE_URL}{reverse('surveys:answer', kwargs={'token': token})}"


# -- surveys --------------------------------------------------------------------------------


@transaction.atomic
def survey_create(
    *,
    by: User,
    client: Client,
    template: SurveyTemplate,
    project: Project | None = None,
    campaign: Campaign | None = None,
    recipient_name: str = "",
    recipient_email: str = "",
) -> Survey:
    """A survey of a client, about a project or the relationship (R20). It is attributed to the
    project's branch and department, else the client's (R21, R32 indicator 3)."""
    if not template.is_active:
        raise ValidationError({"template": _("该调查模板已停用。")})
    survey = Survey(
        client=client,
        project=project,
        template=template,
        campaign=campaign,
        branch=project.branch if project else client.branch,
        department=(project.department if project and project.department_id else client.department),
        recipient_name=recipient_name,
        recipient_email=recipient_email,
        created_by=by,
    )
    survey.full_clean()
    survey.save()
    if not check_in_scope(by, "add", survey):
        raise PermissionDenied(_("无权为该客户创建满意度调查。"))
    return survey


@transaction.atomic
def survey_send(
    *, survey: Survey, by: User, email: str = "", days: int = LINK_DAYS, now: dt.datetime | None = None
) -> tuple[Survey, str]:
    """Issue the personal link (R22): valid ``days`` (30 by default), answerable once. Sending
    again replaces the link (the old one stops working). With an e-mail address, the client
    gets the link by mail. Returns the survey and the public answer URL."""
    now = now or timezone.now()
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.status == Survey.Status.ANSWERED:
        raise ValidationError(_("该问卷已回收,不能再次发送。"))
    if not 1 <= days <= 90:
        raise ValidationError({"days": _("有效期应为 1-90 天。")})
    token, hashed = _new_token()
    survey.token_hash = hashed
    survey.expires_at = now + dt.timedelta(days=days)
    survey.sent_at = now
    survey.sent_by = by
    survey.status = Survey.Status.SENT
    email = (email or "").strip()
    if email:
        survey.recipient_email = email
    survey.channel = Survey.Channel.EMAIL if email else Survey.Channel.LINK
    survey.full_clean()
    survey.save()
    if not check_in_scope(by, "change", survey):
        raise PermissionDenied(_("无权发送该问卷。"))
    url = answer_url(token)
    if email:
        group = settings.CRM_GROUP_NAME
        subject = _("%(group)s客户满意度调查") % {"group": group}
        body = _(
            "尊敬的客户:\n\n感谢您对%(group)s的信任与支持。请您抽出几分钟时间,通过以下链接填写满意度调查"
            "(%(until)s前有效,仅可填写一次):\n\n%(url)s\n\n%(group)s"
        ) % {"group": group, "url": url, "until": timezone.localtime(survey.expires_at).strftime("%Y-%m-%d")}
        transaction.on_commit(lambda: send_mail(subject, body, None, [email], fail_silently=True))
    return survey, url


def _validate_scores(template: SurveyTemplate, scores: dict) -> list[tuple[Question, int]]:
    """Every question of the template answered, each within its scale (R21)."""
    questions = list(Question.objects.filter(dimension__template=template).select_related("dimension"))
    errors = {}
    rows = []
    for q in questions:
        value = scores.get(q.pk, scores.get(str(q.pk)))
        try:
            score = int(value)
        except (TypeError, ValueError):
            errors[f"q{q.pk}"] = _("请为此项评分。")
            continue
        if not q.min_score <= score <= q.max_score:
            errors[f"q{q.pk}"] = _("评分应在 %(a)d-%(b)d 之间。") % {"a": q.min_score, "b": q.max_score}
            continue
        rows.append((q, score))
    if errors:
        raise ValidationError(errors)
    if not rows:
        raise ValidationError(_("该模板没有题目。"))
    return rows


def _record(*, survey: Survey, scores: dict, respondent: str, comment: str, at: dt.datetime) -> Survey:
    rows = _validate_scores(survey.template, scores)
    answers = [
        Answer(
            survey=survey,
            question=q,
            dimension=q.dimension,
            score=score,
            positive=is_positive(score, q.scale),
            unsatisfied=is_unsatisfied(score, q.scale),
        )
        for q, score in rows
    ]
    bulk_create_with_history(answers, Answer)  # history, like every write (hardening: audit)
    survey.unsatisfied_count = sum(a.unsatisfied for a in answers)
    survey.satisfaction_rate = Decimal(sum(a.positive for a in answers)) / len(answers)
    survey.satisfaction_rate = survey.satisfaction_rate.quantize(Decimal("0.001"))
    survey.status = Survey.Status.ANSWERED
    survey.answered_at = at
    survey.respondent = respondent.strip()[:50]
    survey.comment = comment.strip()
    # The hash stays so the used link answers "already submitted" (R22), never a second time.
    survey.full_clean()
    survey.save()
    if survey.unsatisfied_count:
        followup_open(survey=survey, answers=answers)
    return survey


@transaction.atomic
def survey_answer_public(
    *, token: str, scores: dict, respondent: str = "", comment: str = "", now: dt.datetime | None = None
) -> Survey:
    """The client answers through the personal link (R22): once, before it expires. A used,
    expired or tampered link raises LinkError and records nothing."""
    now = now or timezone.now()
    survey = survey_for_token(token)
    survey = Survey.objects.select_for_update().select_related("template").get(pk=survey.pk)
    if survey.status != Survey.Status.SENT:
        raise LinkError("used" if survey.status == Survey.Status.ANSWERED else "expired")
    if survey.expires_at <= now:
        raise LinkError("expired")
    return _record(survey=survey, scores=scores, respondent=respondent, comment=comment, at=now)


@transaction.atomic
def survey_enter_paper(
    *,
    survey: Survey,
    by: User,
    scores: dict,
    respondent: str,
    comment: str = "",
    answered_on: dt.date | None = None,
) -> Survey:
    """Staff enter a paper survey (R22) for a survey not yet answered."""
    survey = Survey.objects.select_for_update().select_related("template").get(pk=survey.pk)
    if not check_in_scope(by, "change", survey):
        raise PermissionDenied(_("无权录入该问卷。"))
    if survey.status == Survey.Status.ANSWERED:
        raise ValidationError(_("该问卷已回收,不能重复录入。"))
    if not respondent.strip():
        raise ValidationError({"respondent": _("请填写填写人。")})
    answered_on = answered_on or timezone.localdate()
    if answered_on > timezone.localdate():
        raise ValidationError({"answered_on": _("填写日期不能晚于今天。")})
    at = timezone.make_aware(dt.datetime.combine(answered_on, dt.time(12)))
    survey.channel = Survey.Channel.PAPER
    survey.entered_by = by
    return _record(survey=survey, scores=scores, respondent=respondent, comment=comment, at=at)


@transaction.atomic
def surveys_expire(*, now: dt.datetime | None = None) -> int:
    """Sent surveys whose link has run out are marked expired (idempotent)."""
    now = now or timezone.now()
    return _expire(Survey.objects.filter(status=Survey.Status.SENT, expires_at__lte=now))


def _expire(surveys) -> int:
    """Mark surveys expired in bulk, each with its history row (hardening: audit)."""
    rows = list(surveys.select_for_update())
    for survey in rows:
        survey.status = Survey.Status.EXPIRED
    bulk_update_with_history(rows, Survey, ["status"], batch_size=500)
    return len(rows)


# -- unsatisfied items and their follow-up (R21) --------------------------------------------


def complaint_prefill_url(follow_up: FollowUp) -> str:
    """The complaints app's create page, prefilled with the client and the unsatisfied items.
    A link, not an import: surveys and complaints are parallel apps (design.md)."""
    content = _("满意度调查不满意项:%(items)s") % {"items": follow_up.items}
    if follow_up.survey.comment:
        content += "\n" + _("客户意见:%(c)s") % {"c": follow_up.survey.comment}
    query = {"client": follow_up.client_id, "content": content}
    if follow_up.survey.project_id:
        query["project"] = follow_up.survey.project_id
    return "/complaints/new/?" + urlencode(query)


def followup_open(*, survey: Survey, answers: list[Answer]) -> FollowUp:
    """A survey with unsatisfied items opens a follow-up for the client's account owner and
    notifies them and the branch's managers (R21)."""
    items = "; ".join(
        _("%(dimension)s·%(question)s(%(score)s分)")
        % {"dimension": a.dimension.name, "question": a.question.text, "score": a.score}
        for a in answers
        if a.unsatisfied
    )
    follow_up, created = FollowUp.objects.get_or_create(
        survey=survey,
        defaults={
            "client": survey.client,
            "branch": survey.branch,
            "owner": survey.client.owner,
            "items": items,
        },
    )
    if created:
        url = reverse("surveys:survey-detail", kwargs={"pk": survey.pk})
        notify(
            recipients=[survey.client.owner, *managers_of(survey.branch)],
            verb="survey_unsatisfied",
            title=lambda: (
                _("%(client)s 满意度调查有 %(n)d 项不满意,请跟进")
                % {"client": survey.client.name, "n": survey.unsatisfied_count}
            ),
            body=items,
            url=url,
            key=f"survey-followup-{survey.pk}",
        )
    return follow_up


@transaction.atomic
def followup_close(*, follow_up: FollowUp, by: User, note: str) -> FollowUp:
    """The owner records how the unsatisfied items were followed up."""
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if not check_in_scope(by, "change", follow_up):
        raise PermissionDenied(_("无权处理该跟进。"))
    if follow_up.status == FollowUp.Status.DONE:
        raise ValidationError(_("该跟进已完成。"))
    if not note.strip():
        raise ValidationError({"note": _("请填写跟进情况。")})
    follow_up.status = FollowUp.Status.DONE
    follow_up.note = note.strip()
    follow_up.done_at = timezone.now()
    follow_up.done_by = by
    follow_up.full_clean()
    follow_up.save()
    return follow_up


# -- targets (R23) ----------------------------------------------------------------------------


@transaction.atomic
def target_set(*, dimension: Dimension, year: int, base: Decimal, target: Decimal, by: User) -> Target:
    """Group marketing sets a dimension's base and target value for a year (R23)."""
    if not has_global(by, Target, "change"):
        raise PermissionDenied(_("只有集团市场营销部可以设置满意度目标。"))
    row = Target.objects.filter(dimension=dimension, year=year).first() or Target(
        dimension=dimension, year=year
    )
    row.base = base
    row.target = target
    row.full_clean()
    row.save()
    return row


# -- campaigns (R25a) -------------------------------------------------------------------------


def campaign_clients(campaign: Campaign):
    """The clients in a campaign's scope: the given grades with a project signed (or started)
    within ``project_within_days`` before the campaign opened."""
    since = campaign.opens_on - dt.timedelta(days=campaign.project_within_days)
    recent = Project.objects.filter(
        Q(signed_on__gte=since) | Q(started_on__gte=since) | Q(completed_on__gte=since)
    )
    return Client.objects.filter(grade__in=list(campaign.grades), pk__in=recent.values("client_id")).order_by(
        "branch__sort_order", "name"
    )


@transaction.atomic
def campaign_open(
    *,
    by: User | None,
    template: SurveyTemplate,
    name: str,
    deadline: dt.date,
    code: str = "",
    grades: str = "AB",
    project_within_days: int = 365,
    opens_on: dt.date | None = None,
) -> Campaign:
    """Group marketing opens a campaign (R25a): a draft survey for every client in scope, for
    the client's branch to send; each branch's managers are told."""
    if by is not None and not has_global(by, Campaign, "add"):
        raise PermissionDenied(_("只有集团市场营销部可以发起调查活动。"))
    opens_on = opens_on or timezone.localdate()
    campaign = Campaign(
        code=code or f"c{opens_on:%Y%m%d}-{secrets.token_hex(2)}",
        name=name,
        template=template,
        grades="".join(sorted(set(grades.upper()))),
        project_within_days=project_within_days,
        opens_on=opens_on,
        deadline=deadline,
        opened_by=by,
    )
    campaign.full_clean()
    campaign.save()
    creator = by or User.objects.filter(role=Role.MARKETING, is_active=True).order_by("pk").first()
    latest = {}
    for p in Project.objects.filter(client__in=campaign_clients(campaign)).order_by(
        "client_id", "-signed_on"
    ):
        latest.setdefault(p.client_id, p)
    surveys = []
    for client in campaign_clients(campaign).select_related("department"):
        project = latest.get(client.pk)
        surveys.append(
            Survey(
                client=client,
                project=project,
                template=template,
                campaign=campaign,
                branch=project.branch if project else client.branch,
                department=(project.department if project and project.department_id else client.department),
                created_by=creator or client.owner,
            )
        )
    bulk_create_with_history(surveys, Survey)
    branch_ids = {s.branch_id for s in surveys}
    url = reverse("surveys:campaign-detail", kwargs={"pk": campaign.pk})
    for branch in Branch.objects.filter(pk__in=branch_ids):
        notify(
            recipients=list(managers_of(branch)),
            verb="survey_campaign",
            title=lambda: (
                _("满意度调查活动「%(name)s」已开始,请于 %(d)s 前完成发送与回收")
                % {"name": campaign.name, "d": deadline}
            ),
            url=url,
            key=f"campaign-open-{campaign.pk}-{branch.pk}",
        )
    return campaign


def _primary_email(client: Client) -> tuple[str, str]:
    contact = next((c for c in client.contacts.all() if c.email), None)
    if contact:
        return contact.name, contact.email
    return "", client.email


@transaction.atomic
def campaign_send_branch(*, campaign: Campaign, branch: Branch, by: User) -> int:
    """A branch sends its campaign surveys (R25a): every draft gets its personal link, by
    e-mail to the primary contact where there is an address. Returns how many were sent."""
    if campaign.status != Campaign.Status.OPEN:
        raise ValidationError(_("调查活动已截止。"))
    drafts = (
        Survey.objects.restrict(by, "change")
        .filter(campaign=campaign, branch=branch, status=Survey.Status.DRAFT)
        .select_related("client")
        .prefetch_related("client__contacts")
    )
    days = max(1, min(90, (campaign.deadline - timezone.localdate()).days + 1))
    sent = 0
    for survey in drafts:
        name, email = _primary_email(survey.client)
        if name and not survey.recipient_name:
            survey.recipient_name = name
        survey_send(survey=survey, by=by, email=email, days=days)
        sent += 1
    return sent


def _stats(surveys) -> dict:
    """Counts and satisfaction rates of a set of surveys (R23): per dimension, the share of
    positive answers; unsatisfied items per dimension (R21)."""
    counts = surveys.aggregate(
        total=Count("pk"),
        sent=Count("pk", filter=~Q(status=Survey.Status.DRAFT)),
        answered=Count("pk", filter=Q(status=Survey.Status.ANSWERED)),
        expired=Count("pk", filter=Q(status=Survey.Status.EXPIRED)),
    )
    dims = (
        Answer.objects.filter(survey__in=surveys)
        .values("dimension_id", "dimension__name")
        .annotate(
            n=Count("pk"),
            positive=Count("pk", filter=Q(positive=True)),
            unsatisfied=Count("pk", filter=Q(unsatisfied=True)),
        )
        .order_by("dimension__order")
    )
    counts["dimensions"] = [
        {
            "dimension": d["dimension_id"],
            "name": d["dimension__name"],
            "answers": d["n"],
            "rate": round(d["positive"] / d["n"], 3) if d["n"] else None,
            "unsatisfied": d["unsatisfied"],
        }
        for d in dims
    ]
    counts["unsatisfied"] = sum(d["unsatisfied"] for d in counts["dimensions"])
    return counts


@transaction.atomic
def campaign_close(*, campaign: Campaign, now: dt.datetime | None = None) -> Campaign:
    """At the deadline (R25a): unanswered surveys expire, each branch's satisfaction report is
    summarised from its answers and goes up to group marketing, who get the group's summary
    built from the branches'. Running it again changes nothing and notifies nobody twice."""
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == Campaign.Status.CLOSED:
        return campaign
    _expire(Survey.objects.filter(campaign=campaign, status__in=[Survey.Status.DRAFT, Survey.Status.SENT]))
    surveys = Survey.objects.filter(campaign=campaign)
    branch_ids = surveys.values_list("branch_id", flat=True).distinct()
    reports = []
    for branch in Branch.objects.filter(pk__in=branch_ids):
        summary = _stats(surveys.filter(branch=branch))
        report, _created = CampaignBranchReport.objects.update_or_create(
            campaign=campaign, branch=branch, defaults={"summary": summary}
        )
        reports.append(report)
    campaign.summary = _group_summary(reports)
    campaign.status = Campaign.Status.CLOSED
    campaign.closed_at = now
    campaign.full_clean()
    campaign.save()
    marketing = User.objects.filter(role=Role.MARKETING, is_active=True)
    url = reverse("surveys:campaign-detail", kwargs={"pk": campaign.pk})
    notify(
        recipients=list(marketing),
        verb="survey_campaign",
        title=lambda: (
            _("满意度调查活动「%(name)s」已截止,各分子公司调查报告已汇总") % {"name": campaign.name}
        ),
        url=url,
        key=f"campaign-closed-{campaign.pk}",
    )
    # R106, R107: the plans this campaign measures have their effect: their managers hear it.
    from .improvements.services import plans_effect_ready

    plans_effect_ready(campaign)
    return campaign


def _group_summary(reports: list[CampaignBranchReport]) -> dict:
    """The group's summary, built from the branches' reports (R25a)."""
    total = {"total": 0, "sent": 0, "answered": 0, "expired": 0, "unsatisfied": 0}
    dims: dict[int, dict] = {}
    for report in reports:
        s = report.summary
        for key in total:
            total[key] += s.get(key, 0)
        for d in s.get("dimensions", []):
            row = dims.setdefault(
                d["dimension"],
                {
                    "dimension": d["dimension"],
                    "name": d["name"],
                    "answers": 0,
                    "positive": 0.0,
                    "unsatisfied": 0,
                },
            )
            row["answers"] += d["answers"]
            row["positive"] += (d["rate"] or 0) * d["answers"]
            row["unsatisfied"] += d["unsatisfied"]
    total["dimensions"] = [
        {
            "dimension": r["dimension"],
            "name": r["name"],
            "answers": r["answers"],
            "rate": round(r["positive"] / r["answers"], 3) if r["answers"] else None,
            "unsatisfied": r["unsatisfied"],
        }
        for r in dims.values()
    ]
    total["branches"] = [
        {
            "branch": r.branch_id,
            "name": str(r.branch),
            **{k: r.summary.get(k, 0) for k in ("sent", "answered", "expired", "unsatisfied")},
        }
        for r in reports
    ]
    return total


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


@transaction.atomic
def campaign_open_quarterly(*, today: dt.date | None = None, deadline_days: int = 45) -> Campaign | None:
    """The quarterly campaign (R25a, seed 003), opened by a scheduled job: one per quarter,
    with the default template; a second run finds it and does nothing."""
    today = today or timezone.localdate()
    year, q = quarter_of(today)
    code = f"{year}-q{q}"
    existing = Campaign.objects.filter(code=code).first()
    if existing:
        return existing
    template = SurveyTemplate.objects.filter(is_active=True, is_default=True).first()
    if template is None:
        return None
    return campaign_open(
        by=None,
        template=template,
        name=_("%(y)d年第%(q)d季度客户满意度调查") % {"y": year, "q": q},
        code=code,
        deadline=today + dt.timedelta(days=deadline_days),
        opens_on=today,
    )


def campaigns_remind(*, today: dt.date | None = None, days_before: int = 7) -> int:
    """Remind the managers of branches with unsent or unanswered surveys before an open
    campaign's deadline (R25a); keyed, so a second run sends nothing."""
    today = today or timezone.localdate()
    made = 0
    due = Campaign.objects.filter(
        status=Campaign.Status.OPEN, deadline__gte=today, deadline__lte=today + dt.timedelta(days=days_before)
    )
    for campaign in due:
        pending = (
            Survey.objects.filter(campaign=campaign, status__in=[Survey.Status.DRAFT, Survey.Status.SENT])
            .values("branch_id")
            .annotate(n=Count("pk"))
        )
        url = reverse("surveys:campaign-detail", kwargs={"pk": campaign.pk})
        for row in pending:
            branch = Branch.objects.get(pk=row["branch_id"])
            made += len(
                notify(
                    recipients=list(managers_of(branch)),
                    verb="survey_campaign",
                    title=lambda: (
                        _("满意度调查活动「%(name)s」将于 %(d)s 截止,本单位尚有 %(n)d 份问卷未回收")
                        % {"name": campaign.name, "d": campaign.deadline, "n": row["n"]}  # noqa: B023 (rendered at once, in each language)
                    ),
                    url=url,
                    key=f"campaign-remind-{campaign.pk}-{branch.pk}",
                )
            )
    return made


def campaigns_close_due(*, today: dt.date | None = None) -> int:
    """Close every open campaign whose deadline has passed (idempotent, catches up)."""
    today = today or timezone.localdate()
    n = 0
    for campaign in Campaign.objects.filter(status=Campaign.Status.OPEN, deadline__lt=today):
        campaign_close(campaign=campaign)
        n += 1
    return n


GRADES_DEFAULT = (Grade.A, Grade.B)
