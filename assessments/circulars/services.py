"""The half-year review meeting and what the group sends back (seed 001, 三(二)Ⅱ4; R87-R93).

Seed 001: «集团公司市场营销部每半年组织各分子公司召开一次“客户关系管理工作研讨会”通报半年来客户关系维护
成果,并对各分子公司客户关系维护成效进行考核»; «将结果(有选择的)印发至集团公司领导及各分子公司、项目部手中»;
«对于考核结果优良的部门,由集团公司市场营销部撰文上报集团领导»; «总结上交集团公司市场营销部后报于集团公司
领导».

The rules (domain.md wording in the report of this feature):

* R87. Group marketing records one 客户关系管理工作研讨会 per assessment round, once the round is open
  (its assessments computed): its date (not in the future, not before the half year ended), place,
  attendees (at least two active people of the group roles or of the branches), minutes, and its
  decisions, each with an owner (an active person of group marketing or of a branch) and a due
  date (not before the meeting), tracked to done: the owner or group marketing marks a decision
  done with what was done; an open decision past its due date is overdue. The owners are told.
  The meeting page presents the round's ratings and the half year's ranking (R29) from the round.
* R88. The meeting's circular (通报) is generated from the round once every branch is rated: the
  ratings with their reasons, the half year's ranking, the commendations (优良), the archive
  suspensions (差) and the work summaries owed (合格, 差), and the half year's re-grading (R31).
  Group marketing edits its title and text while it is a draft (a stale edit is refused, 409) and
  may generate it again from the round; an issued circular no longer changes.
* R89. Issuing sends the circular to every active person of every reporting branch, whatever its
  project department (each gets a notification, once: a second issue sends nothing), and keeps a
  read receipt per person with their branch and department. Every person with a role reads an
  issued circular; a draft is group marketing's.
* R90. A recipient's first opening of the circular is their receipt's read time (later openings
  keep it). Group marketing sees, per branch and per project department, who has read it and who
  has not, and exports the receipts to Excel; a branch manager sees his branch's.
* R91. The rankings (R29: quarter, half year, year) reach the project departments' people as well
  as the branches': every active person of a reporting branch is told (assessments.monthly).
* R92. The commendation of an 优良 branch is a write-up by group marketing to the leaders, drafted
  from the branch's assessment indicators (the text pre-filled with its figures), edited, then
  sent; a branch's submitted work summary (合格, 差) is forwarded to the leaders by group
  marketing with a remark. One of each per assessment. Each step is kept in the history.
* R93. What is sent reaches every active leader (a notification, once) with a receipt; the
  leader's opening of it marks it read; the leaders' home page lists what they have not read yet,
  with links. Leaders and auditors read what was sent; drafts are group marketing's.

One function per step (``review_meeting_record``, ``review_decision_add``, ``review_decision_done``,
``circular_generate``, ``circular_save``, ``circular_issue``, ``circular_open``,
``commendation_draft``, ``summary_forward_draft``, ``leader_report_save``, ``leader_report_send``,
``leader_report_open``): keyword-only, transactional, rows re-read under a lock, ``full_clean()``
before saving, the step kept in the history as its change reason. A refused step raises
ValidationError (400) and changes nothing; a missing role PermissionDenied (403); a row out of
scope Http404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.access import has_global
from crm.figures import HalfYear
from crm.models import BRANCH_ROLES, GROUP_ROLES, Role, Suspension, User
from crm.services import notify

from ..meetings import clean_decision, decision_mark_done, parse_date, pk_of
from ..models import Assessment, AssessmentRound, GroupSummary, Ranking, WorkSummary
from ..obligations import leaders, reporting_branches
from .models import Circular, CircularReceipt, LeaderReceipt, LeaderReport, ReviewDecision, ReviewMeeting

# R87: the fewest attendees of a meeting; the most decisions recorded with it at once.
MIN_ATTENDEES = 2
MAX_DECISIONS = 20


def _url(name: str, **kwargs) -> str:
    try:
        return reverse(f"assessments:{name}", kwargs=kwargs)
    except NoReverseMatch:  # pages not mounted (an API-only deployment)
        return ""


def _save(obj, by, reason: str, at: dt.datetime | None = None) -> None:
    """Validate and save, the step kept in the history with its reason (and moment)."""
    obj._history_user = by
    obj._change_reason = reason[:100]
    if at is not None:
        obj._history_date = at
    obj.full_clean()
    obj.save()


# ------------------------------------------------------------------------------ who may act


def is_marketing(user) -> bool:
    """Group marketing (model-level change of the meeting) runs every step of R87-R92."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role == Role.MARKETING)
        and has_global(user, ReviewMeeting, "change")
    )


def _require_marketing(user) -> None:
    if not is_marketing(user):
        raise PermissionDenied(_("只有集团市场营销部可以记录研讨会、编写通报和上报集团领导。"))


def may_read_meetings(user) -> bool:
    return bool(user and user.is_authenticated and has_global(user, ReviewMeeting, "view"))


def possible_attendees():
    """R87: who may attend: the active people of the group roles and of the branches."""
    return User.objects.filter(is_active=True, role__in=(*GROUP_ROLES, *BRANCH_ROLES)).order_by(
        "branch__sort_order", "full_name", "username"
    )


def possible_owners():
    """R87: who may own a decision: group marketing and the branches' people."""
    return User.objects.filter(is_active=True, role__in=(Role.MARKETING, *BRANCH_ROLES)).order_by(
        "branch__sort_order", "full_name", "username"
    )


def recipients():
    """R89, R91: every active person of every reporting branch, whatever their department."""
    return (
        User.objects.filter(is_active=True, role__in=BRANCH_ROLES, branch__in=reporting_branches())
        .select_related("branch", "department")
        .order_by("branch__sort_order", "username")
    )


# ------------------------------------------------------------------------------ the meeting (R87)


def _notify_owner(decision: ReviewDecision, by) -> None:
    if decision.owner_id == getattr(by, "pk", None):
        return
    url = _url("review-meeting-detail", pk=decision.meeting_id)
    title = _("客户关系管理工作研讨会决定事项:%(text)s") % {"text": decision.text[:40]}
    body = _("完成期限 %(due)s。") % {"due": decision.due_on.isoformat()}
    key = f"review-decision:{decision.pk}"
    owner = decision.owner
    transaction.on_commit(
        lambda: notify(recipients=[owner], verb="review_decision", title=title, body=body, url=url, key=key)
    )


def _clean_decisions(held_on, decisions, errors: dict) -> list[dict]:
    cleaned, problems = [], []
    rows = [
        d for d in decisions or () if any(d.get(k) not in (None, "") for k in ("text", "owner", "due_on"))
    ]
    if len(rows) > MAX_DECISIONS:
        problems.append(_("一次最多记录 %(n)d 项决定事项。") % {"n": MAX_DECISIONS})
    for number, data in enumerate(rows[:MAX_DECISIONS], start=1):
        row_errors: dict[str, list[str]] = {}
        row = clean_decision(
            possible_owners(),
            held_on,
            data,
            row_errors,
            owner_error=_("负责人应为集团市场营销部或分子公司的在职人员。"),
        )
        if row:
            cleaned.append(row)
        for messages in row_errors.values():
            problems += [_("第%(n)d项决定:%(m)s") % {"n": number, "m": m} for m in messages]
    if problems:
        errors["decisions"] = problems
    return cleaned


@transaction.atomic
def review_meeting_record(
    *,
    rnd: AssessmentRound,
    by,
    held_on,
    minutes: str,
    attendees: Iterable,
    place: str = "",
    decisions: Iterable[dict] = (),
    at: dt.datetime | None = None,
) -> ReviewMeeting:
    """R87: group marketing records the round's 客户关系管理工作研讨会: date, place, attendees,
    minutes and decisions (owners told). Once per round, once the round is open."""
    _require_marketing(by)
    locked = AssessmentRound.objects.select_for_update().get(pk=rnd.pk)
    if locked.state != AssessmentRound.State.OPEN:
        raise ValidationError(_("考核尚在计算或计算失败,暂不能记录研讨会。"))
    if ReviewMeeting.objects.filter(round=locked).exists():
        raise ValidationError(_("本次半年考核的研讨会已记录。"))
    errors: dict[str, list[str]] = {}
    day = parse_date(held_on, "held_on", errors)
    half = HalfYear.parse(locked.half_year)
    if day is not None and day > timezone.localdate(at or timezone.now()):
        errors["held_on"] = [_("会议日期不能晚于今天:请在会后记录。")]
    elif day is not None and day < timezone.localtime(half.end).date():
        errors["held_on"] = [_("会议日期不能早于考核半年度结束。")]
    minutes = (minutes or "").strip()
    if not minutes:
        errors["minutes"] = [_("请填写会议纪要。")]
    ids = {pk for pk in (pk_of(a) for a in attendees or ()) if pk}
    people = list(possible_attendees().filter(pk__in=ids))
    if len(people) != len(ids):
        errors["attendees"] = [_("参会人员应为集团或分子公司的在职人员。")]
    elif len(people) < MIN_ATTENDEES:
        errors["attendees"] = [_("请选择至少 %(n)d 名参会人员。") % {"n": MIN_ATTENDEES}]
    cleaned = _clean_decisions(day, decisions, errors)
    if errors:
        raise ValidationError(errors)
    meeting = ReviewMeeting(
        round=locked,
        held_on=day,
        place=(place or "").strip()[:100],
        minutes=minutes,
        recorded_by=by,
        recorded_at=at or timezone.now(),
    )
    try:
        with transaction.atomic():
            _save(meeting, by, f"记录客户关系管理工作研讨会({day.isoformat()})", at)
    except (IntegrityError, ValidationError):
        raise ValidationError(_("本次半年考核的研讨会已记录。")) from None
    meeting.attendees.set(people)
    for row in cleaned:
        decision = ReviewDecision(meeting=meeting, **row)
        _save(decision, by, "记录研讨会决定事项", at)
        _notify_owner(decision, by)
    return meeting


@transaction.atomic
def review_decision_add(*, meeting: ReviewMeeting, by, text: str, owner, due_on) -> ReviewDecision:
    """R87: a further decision of the meeting, with its owner and due date."""
    _require_marketing(by)
    meeting = ReviewMeeting.objects.select_for_update().get(pk=meeting.pk)
    errors: dict[str, list[str]] = {}
    row = clean_decision(
        possible_owners(),
        meeting.held_on,
        {"text": text, "owner": owner, "due_on": due_on},
        errors,
        owner_error=_("负责人应为集团市场营销部或分子公司的在职人员。"),
    )
    if errors:
        raise ValidationError(errors)
    decision = ReviewDecision(meeting=meeting, **row)
    _save(decision, by, "记录研讨会决定事项")
    _notify_owner(decision, by)
    return decision


def may_mark_done(user, decision: ReviewDecision) -> bool:
    """R87: the decision's owner or group marketing."""
    return is_marketing(user) or (user.is_authenticated and user.is_active and user.pk == decision.owner_id)


@transaction.atomic
def review_decision_done(
    *, decision: ReviewDecision, by, note: str, at: dt.datetime | None = None
) -> ReviewDecision:
    """R87: the owner or group marketing marks a decision done, with what was done; once."""
    if not ReviewDecision.objects.restrict(by, "view").filter(pk=decision.pk).exists():
        raise Http404
    if not may_mark_done(by, decision):
        raise PermissionDenied(_("只有决定事项的负责人或集团市场营销部可以确认完成。"))
    locked = ReviewDecision.objects.select_for_update().get(pk=decision.pk)
    decision_mark_done(locked, by=by, note=note, at=at)
    _save(locked, by, "决定事项已完成", at)
    return locked


def open_decisions_of(user):
    """R87: the open decisions the user owns (the home panel)."""
    return (
        ReviewDecision.objects.restrict(user, "view")
        .filter(owner=user, done_at__isnull=True)
        .select_related("meeting__round")
        .order_by("due_on", "pk")
    )


# ------------------------------------------------------------------------------ what the round shows


def round_results(rnd: AssessmentRound) -> dict:
    """R87, R88: the round's ratings, the half year's ranking (R29), the commendations, the
    archive suspensions, the work summaries owed and the half year's re-grading, as plain data
    (kept on the circular as its facts; shown on the meeting's page)."""
    assessments = list(
        Assessment.objects.filter(round=rnd)
        .select_related("branch")
        .order_by("branch__sort_order", "branch__code")
    )
    labels = dict(Assessment.Rating.choices)
    ratings = [
        {
            "branch_id": a.branch_id,
            "branch": str(a.branch),
            "assessment": a.pk,
            "rating": a.rating,
            "rating_label": str(labels.get(a.rating, _("待评定"))),
            "reason": a.reason,
        }
        for a in assessments
    ]
    ranking = Ranking.objects.filter(kind=Ranking.Kind.HALF, label=rnd.half_year).first()
    half = HalfYear.parse(rnd.half_year)
    suspended = []
    for a in assessments:
        if a.rating != Assessment.Rating.POOR or a.rated_at is None:
            continue
        row = (
            Suspension.objects.filter(
                branch_id=a.branch_id, kind=Suspension.Kind.ARCHIVE, starts_at=a.rated_at
            )
            .order_by("-starts_at")
            .first()
        )
        suspended.append(
            {
                "branch": str(a.branch),
                "ends_at": timezone.localtime(row.ends_at).date().isoformat() if row else "",
            }
        )
    summaries = [
        {
            "branch": str(s.branch),
            "due_on": timezone.localtime(s.due_at).date().isoformat(),
            "submitted": s.submitted_at is not None,
        }
        for s in WorkSummary.objects.filter(assessment__round=rnd)
        .select_related("branch")
        .order_by("branch__sort_order")
    ]
    regrading = {"count": 0, "moves": {}}
    summary = GroupSummary.objects.filter(half_year=half.label).first()
    if summary is not None and summary.regraded_at:
        for r in summary.regradings.filter(applied_at__isnull=False).values("from_grade", "to_grade"):
            move = f"{r['from_grade']}→{r['to_grade']}"
            regrading["moves"][move] = regrading["moves"].get(move, 0) + 1
            regrading["count"] += 1
    return {
        "half_year": rnd.half_year,
        "ratings": ratings,
        "ranking": {
            "id": ranking.pk,
            "label": ranking.label,
            "rows": [
                {k: row.get(k) for k in ("rank", "branch", "A", "B", "C", "total")} for row in ranking.rows
            ],
        }
        if ranking
        else None,
        "commended": [r["branch"] for r in ratings if r["rating"] == Assessment.Rating.EXCELLENT],
        "suspended": suspended,
        "summaries": summaries,
        "regrading": regrading,
    }


def _circular_text(meeting: ReviewMeeting, facts: dict) -> tuple[str, str]:
    """R88: the circular's title and text drafted from the round's facts."""
    half = facts["half_year"]
    title = _("关于%(half)s客户关系维护成效考核结果的通报") % {"half": half}
    lines = [
        _("集团公司各分子公司、项目经理部:"),
        "",
        _(
            "集团公司市场营销部于%(day)s组织召开%(half)s“客户关系管理工作研讨会”,通报半年来客户关系维护成果,现将考核结果通报如下。"
        )
        % {"day": meeting.held_on.isoformat(), "half": half},
        "",
        _("一、考核结果"),
    ]
    for r in facts["ratings"]:
        lines.append(
            _("%(branch)s:%(rating)s。%(reason)s")
            % {"branch": r["branch"], "rating": r["rating_label"], "reason": r["reason"]}
        )
    lines += ["", _("二、客户分级排名")]
    if facts["ranking"]:
        for row in facts["ranking"]["rows"]:
            lines.append(
                _("第%(rank)s名 %(branch)s:A类 %(A)s 家,B类 %(B)s 家,C类 %(C)s 家。")
                % {k: row.get(k) for k in ("rank", "branch", "A", "B", "C")}
            )
    else:
        lines.append(_("本半年度排名尚未发布。"))
    lines += ["", _("三、表扬")]
    lines.append(
        _("对考核结果优良的%(list)s予以通报表扬,并撰文上报集团领导。")
        % {"list": "、".join(facts["commended"])}
        if facts["commended"]
        else _("本半年度无考核结果优良的单位。")
    )
    lines += ["", _("四、工作总结与暂停查询")]
    for s in facts["summaries"]:
        lines.append(
            _("%(branch)s 应于%(due)s前提交《客户关系维护工作总结》。")
            % {"branch": s["branch"], "due": s["due_on"]}
        )
    for s in facts["suspended"]:
        lines.append(
            _("%(branch)s 考核结果为“差”,暂停其客户信息库、客户档案库查询权利一个月(至%(end)s)。")
            % {"branch": s["branch"], "end": s["ends_at"]}
        )
    if not facts["summaries"] and not facts["suspended"]:
        lines.append(_("无。"))
    lines += ["", _("五、客户分级调整")]
    regrading = facts["regrading"]
    if regrading["count"]:
        moves = ",".join(f"{move} {n} 家" for move, n in sorted(regrading["moves"].items()))
        lines.append(
            _(
                "根据客户分析结果,集团公司调整了 %(n)d 家客户的类别(%(moves)s),调整后的客户清单已发至各分子公司。"
            )
            % {"n": regrading["count"], "moves": moves}
        )
    else:
        lines.append(_("本半年度未调整客户类别。"))
    lines += ["", _("集团公司市场营销部")]
    return title, "\n".join(lines)


# ------------------------------------------------------------------------------ the circular (R88-R90)


@transaction.atomic
def circular_generate(*, meeting: ReviewMeeting, by, at: dt.datetime | None = None) -> Circular:
    """R88: draft (or draft again) the meeting's circular from the round, once every branch is
    rated; an issued circular is not generated again."""
    _require_marketing(by)
    meeting = ReviewMeeting.objects.select_for_update().select_related("round").get(pk=meeting.pk)
    if Assessment.objects.filter(round=meeting.round, rated_at__isnull=True).exists():
        raise ValidationError(_("还有分子公司的考核结果未评定,暂不能生成通报。"))
    existing = Circular.objects.select_for_update().filter(meeting=meeting).first()
    if existing is not None and existing.is_issued:
        raise ValidationError(_("通报已印发,不能重新生成。"))
    with translation.override("zh-hans"):
        facts = round_results(meeting.round)
        title, body = _circular_text(meeting, facts)
    circular = existing or Circular(meeting=meeting, generated_by=by)
    circular.title, circular.body, circular.facts = title, body, facts
    circular.generated_at = at or timezone.now()
    circular.generated_by = by
    _save(circular, by, "根据考核结果重新生成通报" if existing else "根据考核结果生成通报", at)
    return circular


@transaction.atomic
def circular_save(*, circular: Circular, by, title: str, body: str, version: int | None = None) -> Circular:
    """R88: group marketing edits the draft's title and text (a stale version is refused)."""
    _require_marketing(by)
    locked = Circular.objects.select_for_update().get(pk=circular.pk)
    if version is not None and locked.version != version:
        from crm.models import StaleVersion

        raise StaleVersion(locked, version)
    if locked.is_issued:
        raise ValidationError(_("通报已印发,不能修改。"))
    errors = {}
    # A browser's textarea sends CRLF; the text is kept with plain line ends.
    title, body = (title or "").strip(), (body or "").replace("\r\n", "\n").strip()
    if not title:
        errors["title"] = [_("请填写标题。")]
    if not body:
        errors["body"] = [_("请填写正文。")]
    if errors:
        raise ValidationError(errors)
    locked.title, locked.body = title[:200], body
    _save(locked, by, "修改通报")
    return locked


@transaction.atomic
def circular_issue(*, circular: Circular, by, at: dt.datetime | None = None) -> Circular:
    """R89: issue the circular to every active person of every reporting branch and project
    department: a receipt each and a notification each (once, keyed)."""
    _require_marketing(by)
    locked = Circular.objects.select_for_update().get(pk=circular.pk)
    if locked.is_issued:
        raise ValidationError(_("通报已印发。"))
    now = at or timezone.now()
    locked.status = Circular.Status.ISSUED
    locked.issued_at = now
    locked.issued_by = by
    _save(locked, by, "印发通报", at)
    people = list(recipients())
    CircularReceipt.objects.bulk_create(
        [
            CircularReceipt(
                circular=locked, user=u, branch_id=u.branch_id, department_id=u.department_id, sent_at=now
            )
            for u in people
        ],
        ignore_conflicts=True,
    )
    url = _url("circular-detail", pk=locked.pk)
    title = locked.title
    transaction.on_commit(
        lambda: notify(
            recipients=people,
            verb="circular",
            title=_("集团通报:%(title)s") % {"title": title},
            body=_("请阅读集团公司市场营销部印发的通报。"),
            url=url,
            key=f"circular:{locked.pk}",
        )
    )
    return locked


def circular_open(*, circular: Circular, user, at: dt.datetime | None = None) -> CircularReceipt | None:
    """R90: the recipient's first opening of an issued circular is kept on their receipt."""
    if not circular.is_issued or not user.is_authenticated:
        return None
    receipt = CircularReceipt.objects.filter(circular=circular, user=user).first()
    if receipt is not None and receipt.read_at is None:
        moment = at or timezone.now()
        updated = CircularReceipt.objects.filter(pk=receipt.pk, read_at__isnull=True).update(read_at=moment)
        if updated:
            receipt.read_at = moment
    return receipt


def readers(circular: Circular, user) -> list[dict]:
    """R90: the receipts the user may see (group marketing: all; a branch manager: his branch's),
    grouped by branch, then project department, with who has read and who has not."""
    receipts = (
        CircularReceipt.objects.restrict(user, "view")
        .filter(circular=circular)
        .select_related("user", "branch", "department")
        .order_by("branch__sort_order", "department__name", "user__username")
    )
    groups: dict = {}
    for r in receipts:
        branch = groups.setdefault(
            r.branch_id, {"branch": r.branch, "departments": {}, "read": 0, "total": 0}
        )
        dept = branch["departments"].setdefault(
            r.department_id, {"department": r.department, "read": [], "unread": []}
        )
        (dept["read"] if r.read_at else dept["unread"]).append(r)
        branch["total"] += 1
        branch["read"] += 1 if r.read_at else 0
    out = []
    for branch in groups.values():
        branch["departments"] = list(branch["departments"].values())
        out.append(branch)
    return out


# ------------------------------------------------------------------------------ to the leaders (R92, R93)


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def commendation_text(assessment: Assessment) -> tuple[str, str]:
    """R92: the write-up drafted from the assessment's indicator figures."""
    ind = assessment.indicators or {}
    rep = ind.get("reporting", {})
    growth = rep.get("growth", {})
    comp = ind.get("complaints", {})
    sat = ind.get("satisfaction", {})
    value = lambda part, key: (part.get(key) or {}).get("value")  # noqa: E731
    title = _("关于%(branch)s %(half)s客户关系维护成效考核结果为优良的报告") % {
        "branch": assessment.branch,
        "half": assessment.half_year,
    }
    lines = [
        _("集团领导:"),
        "",
        _("%(half)s客户关系维护成效考核中,%(branch)s考核结果为优良。主要指标如下:")
        % {"half": assessment.half_year, "branch": assessment.branch},
        _(
            "一、信息上报:%(periods)s个月中按时上报%(on_time)s个月,客户档案完整率%(share)s,客户数由%(start)s家增至%(end)s家。"
        )
        % {
            "periods": rep.get("periods", "—"),
            "on_time": rep.get("on_time", "—"),
            "share": _percent((rep.get("completeness") or {}).get("share")),
            "start": growth.get("start", "—"),
            "end": growth.get("end", "—"),
        },
        _(
            "二、客户投诉:受理投诉%(received)s件,已解决%(resolved)s件,其中按时解决%(on_time)s件,逾期%(overdue)s件。"
        )
        % {
            "received": value(comp, "complaints_received") or 0,
            "resolved": value(comp, "complaints_resolved") or 0,
            "on_time": value(comp, "complaints_resolved_on_time") or 0,
            "overdue": value(comp, "complaints_overdue") or 0,
        },
        _("三、客户满意度:回收调查%(surveys)s份,不满意项%(items)s项。")
        % {"surveys": value(sat, "surveys_answered") or 0, "items": value(sat, "unsatisfied_items") or 0},
        _("考核评定理由:%(reason)s") % {"reason": assessment.reason},
        "",
        _("建议集团公司内部发文表扬、奖励,结果纳入集团公司政绩考核指标。"),
        "",
        _("集团公司市场营销部"),
    ]
    return title, "\n".join(lines)


@transaction.atomic
def commendation_draft(*, assessment: Assessment, by, at: dt.datetime | None = None) -> LeaderReport:
    """R92: group marketing drafts the commendation of an 优良 branch from its indicators; once
    per assessment (a second call finds the draft)."""
    _require_marketing(by)
    assessment = Assessment.objects.select_for_update().select_related("branch").get(pk=assessment.pk)
    if assessment.rating != Assessment.Rating.EXCELLENT:
        raise ValidationError(_("只有考核结果为优良的单位才撰写表扬材料。"))
    existing = LeaderReport.objects.filter(assessment=assessment, kind=LeaderReport.Kind.COMMENDATION).first()
    if existing is not None:
        return existing
    with translation.override("zh-hans"):
        title, text = commendation_text(assessment)
    report = LeaderReport(
        kind=LeaderReport.Kind.COMMENDATION, assessment=assessment, title=title, text=text, drafted_by=by
    )
    _save(report, by, "根据考核指标撰写表扬材料", at)
    return report


@transaction.atomic
def summary_forward_draft(
    *, summary: WorkSummary, by, remark: str = "", at: dt.datetime | None = None
) -> LeaderReport:
    """R92: group marketing takes a branch's submitted work summary to forward it to the leaders
    with a remark; once per summary (a second call finds it)."""
    _require_marketing(by)
    summary = (
        WorkSummary.objects.select_for_update().select_related("assessment", "branch").get(pk=summary.pk)
    )
    if summary.submitted_at is None:
        raise ValidationError(_("工作总结尚未提交,不能报送集团领导。"))
    existing = LeaderReport.objects.filter(work_summary=summary).first()
    if existing is not None:
        return existing
    title = _("%(branch)s %(half)s客户关系维护工作总结") % {
        "branch": summary.branch,
        "half": summary.assessment.half_year,
    }
    report = LeaderReport(
        kind=LeaderReport.Kind.SUMMARY,
        assessment=summary.assessment,
        work_summary=summary,
        title=title,
        text=(remark or "").strip() or _("呈集团领导阅示。"),
        drafted_by=by,
    )
    _save(report, by, "转报工作总结(填写意见)", at)
    return report


@transaction.atomic
def leader_report_save(
    *, report: LeaderReport, by, title: str, text: str, version: int | None = None
) -> LeaderReport:
    """R92: group marketing edits the write-up or the remark while it is a draft."""
    _require_marketing(by)
    locked = LeaderReport.objects.select_for_update().get(pk=report.pk)
    if version is not None and locked.version != version:
        from crm.models import StaleVersion

        raise StaleVersion(locked, version)
    if locked.is_sent:
        raise ValidationError(_("已上报集团领导,不能修改。"))
    errors = {}
    title, text = (title or "").strip(), (text or "").replace("\r\n", "\n").strip()
    if not title:
        errors["title"] = [_("请填写标题。")]
    if not text:
        errors["text"] = [_("请填写正文。")]
    if errors:
        raise ValidationError(errors)
    locked.title, locked.text = title[:200], text
    _save(locked, by, "修改表扬材料" if locked.kind == LeaderReport.Kind.COMMENDATION else "修改转报意见")
    return locked


@transaction.atomic
def leader_report_send(*, report: LeaderReport, by, at: dt.datetime | None = None) -> LeaderReport:
    """R92, R93: send to every active leader: a receipt and a notification each (once)."""
    _require_marketing(by)
    locked = LeaderReport.objects.select_for_update().get(pk=report.pk)
    if locked.is_sent:
        raise ValidationError(_("已上报集团领导。"))
    locked.status = LeaderReport.Status.SENT
    locked.sent_at = at or timezone.now()
    locked.sent_by = by
    _save(locked, by, "上报集团领导", at)
    people = list(leaders())
    LeaderReceipt.objects.bulk_create(
        [LeaderReceipt(report=locked, user=u) for u in people], ignore_conflicts=True
    )
    url = _url("leader-report-detail", pk=locked.pk)
    title = locked.title
    transaction.on_commit(
        lambda: notify(
            recipients=people, verb="leader_report", title=title, url=url, key=f"leader-report:{locked.pk}"
        )
    )
    return locked


def leader_report_open(*, report: LeaderReport, user, at: dt.datetime | None = None) -> None:
    """R93: a leader's first opening of what was sent marks it read."""
    if user.is_authenticated:
        LeaderReceipt.objects.filter(
            report=report, report__status=LeaderReport.Status.SENT, user=user, read_at__isnull=True
        ).update(read_at=at or timezone.now())


def unread_for(user):
    """R93: what was sent to the leader and not read yet, oldest first (the home panel)."""
    return (
        LeaderReport.objects.restrict(user, "view")
        .filter(receipts__user=user, receipts__read_at__isnull=True)
        .select_related("assessment__branch")
        .order_by("sent_at", "pk")
    )


def timeline(rows) -> list[dict]:
    """Every step of the given history querysets, oldest first."""
    out = []
    for qs in rows:
        for h in qs.select_related("history_user").order_by("history_date", "history_id"):
            out.append({"at": h.history_date, "by": h.history_user, "what": h.history_change_reason or ""})
    out.sort(key=lambda r: r["at"])
    return out


def meeting_timeline(meeting: ReviewMeeting) -> list[dict]:
    return timeline(
        [
            ReviewMeeting.history.filter(id=meeting.pk),
            ReviewDecision.history.filter(meeting_id=meeting.pk),
            Circular.history.filter(meeting_id=meeting.pk),
        ]
    )


def assessment_reports(user, assessment: Assessment):
    """The reports to the leaders about an assessment the user may read."""
    return LeaderReport.objects.restrict(user, "view").filter(Q(assessment=assessment))
