"""The quarterly client need analysis report and the need analysis meeting (seed 003,
精准客户需求管理办法, 三(四); R65-R69).

Seed 003: «根据需求分类、评估和整合结果,撰写客户需求分析报告。报告内容应包括需求概述、需求详细分析、
需求价值评估、需求可行性分析、需求整合情况等。定期召开需求分析会议,对需求分析报告进行讨论和审核,
确保报告的准确性和实用性。»

Why quarterly: seed 003 runs needs management on a quarter's rhythm (every client's needs are
collected at least once a quarter, 三(三); a satisfaction survey each quarter, 五(三)), while the
monthly figures are already the monthly report's (R26). A quarter is the shortest span over which
every client has had its needs collected, so its report speaks of all clients.

The rules (domain.md wording in the report of this feature):

* R65. Each reporting branch writes one 客户需求分析报告 per calendar quarter (Asia/Shanghai), for
  the current quarter or one of the four before it, in five parts: 需求概述, 需求详细分析, 需求价值评估,
  需求可行性分析, 需求整合情况. The branch's staff and manager open and write it; each part is offered
  pre-filled with a draft made from the quarter's figures until it is saved, so the writer edits
  rather than types from nothing. The figures are live while the report is written and frozen,
  with the records behind them, when it is submitted; every figure opens the list behind it.
* R66. Its figures are the registry's need figures over the quarter and the branch (crm.figures):
  needs received, counted by urgency, category, nature (功能性/非功能性), origin and by the value
  and feasibility assessed on them (R50); response timeliness and completion rates (R12);
  satisfaction with the handling (R49); clients whose needs collection is overdue at its end;
  duplicates merged (R51) and contradictions marked (R52) in the quarter.
* R67. Workflow: 编写中 -> 待会议审核 (the branch manager submits it once the quarter has ended, all
  five parts written) -> 审核通过 or 退回修改 with a reason (written again and submitted again). The
  review is the conclusion of a need analysis meeting of the report held on or after the day of
  submission, attended by at least two people, and recorded by the branch manager who attended
  it. An accepted report is final. Every step is kept in the history.
* R68. A need analysis meeting records its date (not in the future, not before the report's
  quarter began), its place, its attendees (at least two: active people of the branch or of the
  group roles), what was discussed, and its decisions, each with an owner (an active person of the
  branch) and a due date (not before the meeting), tracked to done: the owner or the branch
  manager marks a decision done with what was done; an open decision past its due date is
  overdue. The branch's staff and manager record meetings until the report is accepted, and may
  add decisions to a meeting later.
* R69. Group marketing, group leaders and auditors read every branch's reports (model-level
  view); a branch's people read their own; a report exports to Excel and prints. Only the
  branch's people write.

One function per step, ``need_report_<step>`` / ``need_meeting_record`` / ``need_decision_<step>``:
keyword-only, transactional, the row re-read under a lock, ``full_clean()`` before saving, the
step kept in the history as its change reason. A refused step raises ValidationError (400) and
changes nothing; a missing role PermissionDenied (403); a report out of scope Http404.
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

from crm import figures as fig
from crm.access import SYSTEM, check_in_scope, in_scope
from crm.figures import Quarter
from crm.models import BRANCH_ROLES, GROUP_ROLES, Branch, Role, StaleVersion, User
from crm.services import notify

from ..meetings import clean_decision, decision_mark_done, parse_date, pk_of
from .models import PART_NAMES, PARTS, NeedAnalysisMeeting, NeedAnalysisReport, NeedMeetingDecision

Status = NeedAnalysisReport.Status

# R65: how many quarters back a report may still be opened (besides the current one).
QUARTERS_BACK = 4
# R68: the fewest attendees of a meeting.
MIN_ATTENDEES = 2
# R68: the most decisions recorded with a meeting at once (more are added afterwards).
MAX_DECISIONS = 20

# R66: the registry's figures the report shows (defined in clients.figures, computed through
# crm.figures): counts, then the rates built on them.
COUNTS = (
    "needs_received",
    "needs_due",
    "needs_on_time",
    "needs_done",
    "needs_rated",
    "needs_rated_satisfied",
    "needs_collection_overdue",
    "needs_merged",
    "need_conflicts",
)
RATES = ("needs_on_time_rate", "needs_completion_rate", "needs_rating_satisfaction")
FIGURES = COUNTS + RATES

# What each part shows beside its text: figures (counts and rates) of the registry.
PART_FIGURES = {
    "overview": (
        "needs_received",
        "needs_due",
        "needs_on_time",
        "needs_on_time_rate",
        "needs_done",
        "needs_completion_rate",
        "needs_rated",
        "needs_rated_satisfied",
        "needs_rating_satisfaction",
        "needs_collection_overdue",
    ),
    "analysis": (),
    "value": (),
    "feasibility": (),
    "integration": ("needs_merged", "need_conflicts"),
}
# R66: the columns of the needs received by which a part counts them (the list behind each
# count is the figure's list narrowed to that value).
PART_BREAKDOWNS = {
    "overview": (),
    "analysis": ("urgency", "category", "nature", "origin"),
    "value": ("value",),
    "feasibility": ("feasibility",),
    "integration": (),
}
BREAKDOWN_FIGURE = "needs_received"


# ------------------------------------------------------------------------------ quarters


def quarters_open(now: dt.datetime | None = None) -> list[Quarter]:
    """R65: the quarters a report may be opened for: the current one and the four before it,
    newest first."""
    quarter = Quarter.containing(now or timezone.now())
    out = []
    for _i in range(QUARTERS_BACK + 1):
        out.append(quarter)
        quarter = quarter.previous()
    return out


def quarter_has_ended(quarter: Quarter, now: dt.datetime | None = None) -> bool:
    return (now or timezone.now()) >= quarter.end


def parse_quarter(raw) -> Quarter:
    """A quarter from a page or the API; a ValidationError on ``quarter`` otherwise."""
    try:
        return Quarter.parse(raw)
    except ValueError as error:
        raise ValidationError({"quarter": [str(error)]}) from None


# ------------------------------------------------------------------------------ who may act


def _of_branch(user, branch_id: int, roles) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.role in roles
        and user.branch_id is not None
        and user.branch_id == branch_id
    )


def may_write(user, report: NeedAnalysisReport, *, memory: bool = True) -> bool:
    """R65, R68: the staff and the manager of the report's branch (in their change scope).
    ``memory``: decide the scope from the user's snapshot (a page's button); the services check
    the database inside their transaction."""
    if not _of_branch(user, report.branch_id, BRANCH_ROLES):
        return False
    return in_scope(user, "change", report) if memory else check_in_scope(user, "change", report)


def may_manage(user, report: NeedAnalysisReport, *, memory: bool = True) -> bool:
    """R67: the manager of the report's branch submits it and records the meeting's review."""
    if not _of_branch(user, report.branch_id, (Role.MANAGER,)):
        return False
    return in_scope(user, "change", report) if memory else check_in_scope(user, "change", report)


def may_mark_done(user, decision: NeedMeetingDecision, report: NeedAnalysisReport) -> bool:
    """R68: a decision's owner, or the manager of the report's branch, marks it done."""
    if may_manage(user, report):
        return True
    return (
        user is not None
        and user.is_authenticated
        and user.pk == decision.owner_id
        and _of_branch(user, report.branch_id, BRANCH_ROLES)
    )


def allowed_steps(user, report: NeedAnalysisReport) -> set[str]:
    """The steps ``user`` may take on ``report`` now (the page's forms and buttons)."""
    steps = set()
    if report.is_editable and may_write(user, report):
        steps.add("save")
    if report.is_editable and may_manage(user, report):
        steps.add("submit")
    if report.status != Status.ACCEPTED and may_write(user, report):
        steps.add("meeting")
    if may_write(user, report):
        steps.add("decision")
    if report.status == Status.SUBMITTED and may_manage(user, report):
        steps.add("review")
    return steps


def _require_view(user, report: NeedAnalysisReport) -> None:
    if not check_in_scope(user, "view", report):
        raise Http404


def _require_write(user, report: NeedAnalysisReport) -> None:
    _require_view(user, report)
    if not may_write(user, report, memory=False):
        raise PermissionDenied(_("只有本单位人员可以编写客户需求分析报告和记录需求分析会议。"))


def _require_manage(user, report: NeedAnalysisReport) -> None:
    _require_view(user, report)
    if not may_manage(user, report, memory=False):
        raise PermissionDenied(_("只有本单位经营部负责人可以提交报告和记录会议审核结论。"))


# ------------------------------------------------------------------------------ helpers


def report_url(report: NeedAnalysisReport) -> str:
    try:
        return reverse("assessments:need-report-detail", kwargs={"pk": report.pk})
    except NoReverseMatch:  # pages not mounted (an API-only deployment)
        return ""


def _lock(report: NeedAnalysisReport) -> NeedAnalysisReport:
    """Reload under a row lock: two people cannot take a step on one report at once; the second
    finds the first one's state and is refused (the API answers it 409)."""
    return NeedAnalysisReport.objects.select_for_update().select_related("branch").get(pk=report.pk)


def _save(obj, by, reason: str, at: dt.datetime | None = None) -> None:
    """Validate and save, the step kept in the history with its reason (and, for a step
    recorded after the fact, its moment)."""
    obj._history_user = by
    obj._change_reason = reason[:100]
    if at is not None:
        obj._history_date = at
    obj.full_clean()
    obj.save()


_date = parse_date
_pk = pk_of


def branch_people(branch_id: int):
    """R68: who may own a decision of the branch's meeting (the form's and the API's choices)."""
    return User.objects.filter(is_active=True, branch_id=branch_id, role__in=BRANCH_ROLES).order_by(
        "full_name", "username"
    )


def possible_attendees(branch_id: int):
    """R68: who may attend the branch's meeting: its active people and the group roles."""
    return User.objects.filter(
        Q(branch_id=branch_id, role__in=BRANCH_ROLES) | Q(role__in=GROUP_ROLES), is_active=True
    ).order_by("branch__sort_order", "full_name", "username")


# ------------------------------------------------------------------------------ opening (R65)


def need_report_open(
    *, branch: Branch, quarter: Quarter, by, at: dt.datetime | None = None
) -> tuple[NeedAnalysisReport, bool]:
    """R65: the branch's report of ``quarter``, made on first opening by one of its people;
    idempotent (a second opening, or two at once, finds the first). Returns (report, created)."""
    if not _of_branch(by, branch.pk, BRANCH_ROLES):
        raise PermissionDenied(_("只有本单位人员可以编写客户需求分析报告。"))
    if branch.kind == Branch.Kind.HQ or not branch.is_active:
        raise ValidationError(_("集团总部不编写分公司的客户需求分析报告。"))
    existing = NeedAnalysisReport.objects.filter(branch=branch, quarter=quarter.label).first()
    if existing is not None:
        return existing, False
    allowed = quarters_open()
    if quarter not in allowed:
        raise ValidationError(
            {
                "quarter": [
                    _("只能编写 %(first)s 至 %(last)s 的客户需求分析报告。")
                    % {"first": allowed[-1].label, "last": allowed[0].label}
                ]
            }
        )
    report = NeedAnalysisReport(branch=branch, quarter=quarter.label)
    try:
        with transaction.atomic():
            _save(report, by, "新建客户需求分析报告", at)
    except IntegrityError:
        return NeedAnalysisReport.objects.get(branch=branch, quarter=quarter.label), False
    except ValidationError as error:  # the unique check of full_clean: opened meanwhile
        existing = NeedAnalysisReport.objects.filter(branch=branch, quarter=quarter.label).first()
        if existing is None:
            raise error from None
        return existing, False
    return report, True


# ------------------------------------------------------------------------------ figures (R66)


def report_window(report: NeedAnalysisReport) -> fig.Window:
    return report.quarter_obj.window(branch_id=report.branch_id)


def report_figures(report: NeedAnalysisReport, reader) -> fig.Result:
    """What the report shows ``reader``: its frozen figures once submitted, else the branch's
    figures over the quarter computed live through ``restrict(reader)``."""
    if report.snapshot is not None:
        return fig.Result.from_json(report.snapshot)
    return fig.evaluate(reader, report_window(report), only=FIGURES)


def figure_list(report: NeedAnalysisReport, reader, key: str, params=None) -> tuple[list[dict], int, list]:
    """The records behind one figure of the report (narrowed to the column values ``params``
    names, :func:`narrowed`) that ``reader`` may see now, how many of them are hidden from the
    reader, and the narrowing applied. The ids of a frozen report are read again through
    ``restrict(reader, "view")`` (fig.visible), so a suspension or an ended grant applies."""
    f = fig.figure(key)
    if report.snapshot is not None:
        every, applied = narrowed((report.snapshot.get("lists") or {}).get(key, []), f, params or {})
        visible = fig.visible(reader, key, every)
        return visible, len(every) - len(visible), applied
    rows = fig.evaluate(reader, report_window(report), only=[key]).lists.get(key, [])
    rows, applied = narrowed(rows, f, params or {})
    return rows, 0, applied


def code_of(value) -> str:
    """A row value as the list's filter names it: '' for blank, 'True'/'False', the code."""
    return "" if value in (None, "") else str(value)


def narrowed(rows: list[dict], figure: fig.Figure, params) -> tuple[list[dict], list[tuple]]:
    """The rows of ``figure`` whose columns have the values ``params`` names (``?urgency=urgent``;
    ``?value=`` for not assessed), and the (column, code) pairs applied. Parameters that name no
    column of the figure are left alone (page, export)."""
    applied = []
    for column in figure.columns:
        if column.choices is None or column.key not in params:
            continue
        wanted = str(params.get(column.key) or "")
        rows = [r for r in rows if code_of(r.get(column.key)) == wanted]
        applied.append((column, wanted))
    return rows, applied


def choice_label(column: fig.Column, code: str) -> str:
    if code == "":
        return _("未评估")
    for value, label in (column.choices or {}).items():
        if code_of(value) == code:
            return str(label)
    return code


def counts_by(rows: list[dict], column: fig.Column) -> list[dict]:
    """R66: the rows counted by the values of ``column``, in the order of its choices (blank,
    as 未评估, last where it occurs or the column is an assessment)."""
    counts: dict[str, int] = {}
    for row in rows:
        code = code_of(row.get(column.key))
        counts[code] = counts.get(code, 0) + 1
    codes = [code_of(v) for v in (column.choices or {})]
    if column.key in ("value", "feasibility") or "" in counts:
        codes.append("")
    codes += [c for c in counts if c not in codes]
    return [{"code": c, "label": choice_label(column, c), "count": counts.get(c, 0)} for c in codes]


def _figure_url(report: NeedAnalysisReport, key: str, **params) -> str:
    from urllib.parse import urlencode

    url = reverse("assessments:need-report-figure", kwargs={"pk": report.pk, "key": key})
    return f"{url}?{urlencode(params)}" if params else url


def _item(report, result: fig.Result, key: str) -> dict:
    """One figure of the report as the page shows it: a count links to its list; a rate links
    to the list of its denominator (design.md "Figures")."""
    f = fig.figure(key)
    if f is not None:
        return {
            "key": key,
            "label": f.label,
            "help": f.help,
            "value": result.values.get(key) or 0,
            "rate": False,
            "url": _figure_url(report, key),
        }
    rate = next(r for r in fig.rates() if r.key == key)
    return {
        "key": key,
        "label": rate.label,
        "help": rate.help,
        "value": result.values.get(key),
        "rate": True,
        "url": _figure_url(report, rate.denominator),
    }


def _breakdown(report, result: fig.Result, column_key: str) -> dict:
    f = fig.figure(BREAKDOWN_FIGURE)
    column = next(c for c in f.columns if c.key == column_key)
    rows = result.lists.get(BREAKDOWN_FIGURE) or []
    items = counts_by(rows, column)
    for item in items:
        item["url"] = _figure_url(report, BREAKDOWN_FIGURE, **{column_key: item["code"]})
    return {"key": column_key, "label": column.label, "items": items}


def _matrix(report, result: fig.Result) -> dict:
    """R66: the needs received by value (rows) and feasibility (columns), each cell a list."""
    f = fig.figure(BREAKDOWN_FIGURE)
    value = next(c for c in f.columns if c.key == "value")
    feasibility = next(c for c in f.columns if c.key == "feasibility")
    codes = [code_of(v) for v in value.choices] + [""]
    rows = result.lists.get(BREAKDOWN_FIGURE) or []
    cells: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (code_of(row.get("value")), code_of(row.get("feasibility")))
        cells[key] = cells.get(key, 0) + 1
    return {
        "columns": [choice_label(feasibility, c) for c in codes],
        "rows": [
            {
                "label": choice_label(value, v),
                "cells": [
                    {
                        "count": cells.get((v, f_), 0),
                        "url": _figure_url(report, BREAKDOWN_FIGURE, value=v, feasibility=f_),
                    }
                    for f_ in codes
                ],
            }
            for v in codes
        ],
    }


def sections(report: NeedAnalysisReport, result: fig.Result) -> list[dict]:
    """The five parts as the page shows them: heading, stored text, and beside it the figures
    and counts the part is about, each a link to its list (R65, R66)."""
    out = []
    for name, label in PARTS:
        out.append(
            {
                "name": name,
                "label": label,
                "text": getattr(report, name),
                "figures": [_item(report, result, key) for key in PART_FIGURES[name]],
                "breakdowns": [_breakdown(report, result, key) for key in PART_BREAKDOWNS[name]],
                "matrix": _matrix(report, result) if name == "feasibility" else None,
            }
        )
    return out


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _counted(breakdown: dict) -> str:
    """'紧急 3 条、重要 5 条' in the reader's language."""
    separator = ", " if (translation.get_language() or "").startswith("en") else "、"
    return separator.join(
        _("%(label)s %(n)d 条") % {"label": item["label"], "n": item["count"]} for item in breakdown["items"]
    )


def drafts(report: NeedAnalysisReport, result: fig.Result) -> dict[str, str]:
    """R65: each part's pre-filled draft, written from the quarter's figures in the reader's
    language; the page offers it in a part left blank, to be edited (it is stored once saved)."""
    values = result.values
    by = {b["key"]: b for s in sections(report, result) for b in s["breakdowns"]}

    def n(key):
        return values.get(key) or 0

    both_high = sum(
        1
        for row in result.lists.get(BREAKDOWN_FIGURE) or []
        if row.get("value") == "high" and row.get("feasibility") == "high"
    )
    to_add = _("(请补充)")
    return {
        "overview": _(
            "%(quarter)s本单位共收到客户需求 %(received)d 条。响应期限在本季度内的需求 %(due)d 条,按期响应 "
            "%(on_time)d 条,需求响应及时率 %(on_time_rate)s;本季度收到的需求已完成 %(done)d 条,需求完成率 "
            "%(completion)s。客户对 %(rated)d 条需求的处理结果作出评价,满意(含基本满意)%(satisfied)d 条,"
            "需求处理满意度 %(satisfaction)s。季度末需求收集逾期的客户 %(overdue)d 家。"
        )
        % {
            "quarter": report.quarter,
            "received": n("needs_received"),
            "due": n("needs_due"),
            "on_time": n("needs_on_time"),
            "on_time_rate": _percent(values.get("needs_on_time_rate")),
            "done": n("needs_done"),
            "completion": _percent(values.get("needs_completion_rate")),
            "rated": n("needs_rated"),
            "satisfied": n("needs_rated_satisfied"),
            "satisfaction": _percent(values.get("needs_rating_satisfaction")),
            "overdue": n("needs_collection_overdue"),
        },
        "analysis": "\n".join(
            [
                _("按紧急程度:%(counts)s。") % {"counts": _counted(by["urgency"])},
                _("按需求类别:%(counts)s。") % {"counts": _counted(by["category"])},
                _("按需求性质:%(counts)s。") % {"counts": _counted(by["nature"])},
                _("按来源层次:%(counts)s。") % {"counts": _counted(by["origin"])},
                _("主要需求及其特点:%(todo)s") % {"todo": to_add},
            ]
        ),
        "value": "\n".join(
            [
                _("本季度收到的需求中,价值评估为:%(counts)s。") % {"counts": _counted(by["value"])},
                _("对业务增长、客户满意度提升和市场竞争力的价值:%(todo)s") % {"todo": to_add},
            ]
        ),
        "feasibility": "\n".join(
            [
                _("本季度收到的需求中,可行性评估为:%(counts)s。") % {"counts": _counted(by["feasibility"])},
                _("其中价值高且可行性高的需求 %(n)d 条,宜优先安排。") % {"n": both_high},
                _("技术、经济、时间可行性:%(todo)s") % {"todo": to_add},
            ]
        ),
        "integration": "\n".join(
            [
                _("本季度合并重复需求 %(merged)d 条,标记相互矛盾的需求 %(conflicts)d 对。")
                % {"merged": n("needs_merged"), "conflicts": n("need_conflicts")},
                _("整合后的需求集合及处理安排:%(todo)s") % {"todo": to_add},
            ]
        ),
    }


# ------------------------------------------------------------------------------ writing (R65, R67)


def _apply_parts(report: NeedAnalysisReport, parts: dict | None) -> None:
    unknown = set(parts or {}) - set(PART_NAMES)
    if unknown:
        raise ValidationError({name: [_("报告没有这一部分。")] for name in sorted(unknown)})
    for name in PART_NAMES:
        if parts is not None and name in parts:
            setattr(report, name, (parts.get(name) or "").strip())


def _require_editable(report: NeedAnalysisReport) -> None:
    if not report.is_editable:
        raise ValidationError(
            _("报告%(status)s,不能修改。") % {"status": report.get_status_display()}, code="not_editable"
        )


@transaction.atomic
def need_report_save(
    *,
    report: NeedAnalysisReport,
    by,
    parts: dict,
    expected_version: int | None = None,
    at: dt.datetime | None = None,
) -> NeedAnalysisReport:
    """R65: save the parts given (the others stay as stored) of a report being written. Based on
    a version that is no longer the stored one (the page's or the API's If-Match), nothing is
    written (StaleVersion, 409)."""
    _require_write(by, report)
    locked = _lock(report)
    if expected_version is not None and expected_version != locked.version:
        raise StaleVersion(locked, expected_version)
    _require_editable(locked)
    _apply_parts(locked, parts)
    _save(locked, by, "保存报告内容", at)
    return locked


@transaction.atomic
def need_report_submit(
    *,
    report: NeedAnalysisReport,
    by,
    parts: dict | None = None,
    expected_version: int | None = None,
    at: dt.datetime | None = None,
) -> NeedAnalysisReport:
    """R65, R67: the branch manager submits the report to the need analysis meeting once its
    quarter has ended, the five parts written (the parts given are saved first); the figures
    are frozen with the records behind them, counted over the whole branch (the product's own
    principal, whatever the submitter's scope)."""
    _require_manage(by, report)
    locked = _lock(report)
    if expected_version is not None and expected_version != locked.version:
        raise StaleVersion(locked, expected_version)
    _require_editable(locked)
    _apply_parts(locked, parts)
    now = at or timezone.now()
    quarter = locked.quarter_obj
    if not quarter_has_ended(quarter, now):
        raise ValidationError(
            _("%(quarter)s 尚未结束,季度结束后才能提交需求分析会议审核。") % {"quarter": quarter.label}
        )
    missing = {name: [_("请填写这一部分。")] for name in PART_NAMES if not getattr(locked, name)}
    if missing:
        raise ValidationError(missing)
    result = fig.evaluate(SYSTEM, report_window(locked), only=FIGURES)
    locked.snapshot = result.as_json()
    locked.values = result.values
    locked.frozen_at = now
    locked.status = Status.SUBMITTED
    locked.submitted_at = now
    locked.submitted_by = by
    _save(locked, by, "提交需求分析会议审核", at)
    return locked


def _meeting_may_review(meeting: NeedAnalysisMeeting, report: NeedAnalysisReport, by) -> dict:
    """R67: the meeting's refusals as field messages (empty when it may review the report)."""
    if meeting.report_id != report.pk:
        return {"meeting": [_("所选会议不是本报告的需求分析会议。")]}
    submitted_on = timezone.localdate(report.submitted_at)
    if meeting.held_on < submitted_on:
        return {"meeting": [_("审核应由报告提交(%(day)s)当天或之后召开的会议作出。") % {"day": submitted_on}]}
    attendees = set(meeting.attendees.values_list("pk", flat=True))
    if len(attendees) < MIN_ATTENDEES:
        return {"meeting": [_("该会议参会人员不足 %(n)d 人,不能作出审核结论。") % {"n": MIN_ATTENDEES}]}
    if by.pk not in attendees:
        return {"meeting": [_("记录审核结论的人应是该会议的参会人员。")]}
    return {}


@transaction.atomic
def need_report_review(
    *,
    report: NeedAnalysisReport,
    by,
    meeting: NeedAnalysisMeeting,
    accept: bool,
    reason: str = "",
    at: dt.datetime | None = None,
) -> NeedAnalysisReport:
    """R67: the conclusion of the need analysis meeting on a submitted report, recorded by the
    branch manager who attended it: accepted (final), or returned with a reason, to be written
    again and submitted again (its figures are live again until then). Group marketing hears of
    an accepted report; the submitter of a returned one."""
    _require_manage(by, report)
    locked = _lock(report)
    if locked.status != Status.SUBMITTED:
        raise ValidationError(
            _("报告%(status)s,不在待会议审核状态。") % {"status": locked.get_status_display()}
        )
    reason = (reason or "").strip()
    errors = _meeting_may_review(meeting, locked, by)
    if not accept and not reason:
        errors["reason"] = [_("请填写退回修改的原因。")]
    if errors:
        raise ValidationError(errors)
    now = at or timezone.now()
    locked.reviewed_at = now
    locked.reviewed_by = by
    locked.review_meeting = meeting
    held = meeting.held_on.isoformat()
    if accept:
        locked.status = Status.ACCEPTED
        locked.returned_reason = ""
        _save(locked, by, f"需求分析会议({held})审核通过", at)
        recipients = list(User.objects.filter(role=Role.MARKETING, is_active=True))
        title = _("%(branch)s %(quarter)s 客户需求分析报告已审核通过") % {
            "branch": locked.branch,
            "quarter": locked.quarter,
        }
        body = ""
    else:
        locked.status = Status.RETURNED
        locked.returned_reason = reason
        locked.snapshot = locked.values = locked.frozen_at = None
        _save(locked, by, f"需求分析会议({held})退回修改:{reason}", at)
        recipients = [locked.submitted_by] if locked.submitted_by_id != by.pk else []
        title = _("%(branch)s %(quarter)s 客户需求分析报告被退回修改") % {
            "branch": locked.branch,
            "quarter": locked.quarter,
        }
        body = reason
    url = report_url(locked)
    key = f"need-report-review:{locked.pk}:{locked.version}"
    transaction.on_commit(
        lambda: notify(recipients=recipients, verb="need_report", title=title, body=body, url=url, key=key)
    )
    return locked


# ------------------------------------------------------------------------------ the meeting (R68)


def _clean_decision(
    report: NeedAnalysisReport, held_on: dt.date | None, data: dict, errors: dict
) -> dict | None:
    return clean_decision(
        branch_people(report.branch_id), held_on, data, errors, owner_error=_("负责人应为本单位的在职人员。")
    )


def _notify_owner(decision: NeedMeetingDecision, report: NeedAnalysisReport, by) -> None:
    if decision.owner_id == getattr(by, "pk", None):
        return
    url = report_url(report)
    title = _("需求分析会议决定事项:%(text)s") % {"text": decision.text[:40]}
    body = _("完成期限 %(due)s。") % {"due": decision.due_on.isoformat()}
    key = f"need-decision:{decision.pk}"
    transaction.on_commit(
        lambda: notify(
            recipients=[decision.owner], verb="need_decision", title=title, body=body, url=url, key=key
        )
    )


@transaction.atomic
def need_meeting_record(
    *,
    report: NeedAnalysisReport,
    by,
    held_on,
    minutes: str,
    attendees: Iterable,
    place: str = "",
    decisions: Iterable[dict] = (),
    at: dt.datetime | None = None,
) -> NeedAnalysisMeeting:
    """R68: record a need analysis meeting on the report: date, place, attendees, what was
    discussed, and its decisions (each with an owner of the branch and a due date). The owners
    are told. Not once the report is accepted."""
    _require_write(by, report)
    locked = _lock(report)
    if locked.status == Status.ACCEPTED:
        raise ValidationError(_("报告已审核通过,不再记录需求分析会议。"))
    errors: dict[str, list[str]] = {}
    day = _date(held_on, "held_on", errors)
    today = timezone.localdate()
    if day is not None and day > today:
        errors["held_on"] = [_("会议日期不能晚于今天:请在会后记录。")]
    elif day is not None and day < locked.quarter_obj.first_day:
        errors["held_on"] = [_("会议日期不能早于报告季度的开始。")]
    minutes = (minutes or "").strip()
    if not minutes:
        errors["minutes"] = [_("请填写会议讨论情况。")]
    ids = {pk for pk in (_pk(a) for a in attendees or ()) if pk}
    people = list(possible_attendees(locked.branch_id).filter(pk__in=ids))
    if len(people) != len(ids):
        errors["attendees"] = [_("参会人员应为本单位或集团的在职人员。")]
    elif len(people) < MIN_ATTENDEES:
        errors["attendees"] = [_("请选择至少 %(n)d 名参会人员。") % {"n": MIN_ATTENDEES}]
    cleaned, problems = [], []
    rows = [
        d for d in decisions or () if any(d.get(k) not in (None, "") for k in ("text", "owner", "due_on"))
    ]
    if len(rows) > MAX_DECISIONS:
        problems.append(_("一次最多记录 %(n)d 项决定事项。") % {"n": MAX_DECISIONS})
    for number, data in enumerate(rows[:MAX_DECISIONS], start=1):
        row_errors: dict[str, list[str]] = {}
        row = _clean_decision(locked, day, data, row_errors)
        if row:
            cleaned.append(row)
        for messages in row_errors.values():
            problems += [_("第%(n)d项决定:%(m)s") % {"n": number, "m": m} for m in messages]
    if problems:
        errors["decisions"] = problems
    if errors:
        raise ValidationError(errors)
    meeting = NeedAnalysisMeeting(
        report=locked,
        held_on=day,
        place=(place or "").strip()[:100],
        minutes=minutes,
        recorded_by=by,
        recorded_at=at or timezone.now(),
    )
    _save(meeting, by, f"记录需求分析会议({day.isoformat()})", at)
    meeting.attendees.set(people)
    for row in cleaned:
        decision = NeedMeetingDecision(meeting=meeting, **row)
        _save(decision, by, "记录会议决定事项", at)
        _notify_owner(decision, locked, by)
    return meeting


@transaction.atomic
def need_decision_add(*, meeting: NeedAnalysisMeeting, by, text: str, owner, due_on) -> NeedMeetingDecision:
    """R68: a further decision of a meeting, with its owner and due date (also after the report
    is accepted: what the meeting decided is followed up whatever became of the report)."""
    report = meeting.report
    _require_write(by, report)
    _lock(report)
    errors: dict[str, list[str]] = {}
    row = _clean_decision(report, meeting.held_on, {"text": text, "owner": owner, "due_on": due_on}, errors)
    if errors:
        raise ValidationError(errors)
    decision = NeedMeetingDecision(meeting=meeting, **row)
    _save(decision, by, "记录会议决定事项")
    _notify_owner(decision, report, by)
    return decision


@transaction.atomic
def need_decision_done(
    *, decision: NeedMeetingDecision, by, note: str, at: dt.datetime | None = None
) -> NeedMeetingDecision:
    """R68: a decision is marked done, with what was done, by its owner or the branch manager;
    once."""
    report = decision.meeting.report
    _require_view(by, report)
    if not check_in_scope(by, "change", report) or not may_mark_done(by, decision, report):
        raise PermissionDenied(_("只有决定事项的负责人或本单位经营部负责人可以确认完成。"))
    locked = NeedMeetingDecision.objects.select_for_update().get(pk=decision.pk)
    decision_mark_done(locked, by=by, note=note, at=at)
    _save(locked, by, "决定事项已完成", at)
    return locked


# ------------------------------------------------------------------------------ reading


def timeline(report: NeedAnalysisReport) -> list[dict]:
    """Every step of the report, its meetings and their decisions (R67, R68), oldest first: the
    history rows with their reasons."""
    rows = []
    for h in report.history.select_related("history_user").order_by("history_date", "history_id"):
        rows.append({"at": h.history_date, "by": h.history_user, "what": h.history_change_reason or ""})
    meetings = NeedAnalysisMeeting.history.filter(report_id=report.pk).select_related("history_user")
    for h in meetings.order_by("history_date", "history_id"):
        rows.append({"at": h.history_date, "by": h.history_user, "what": h.history_change_reason or ""})
    decisions = NeedMeetingDecision.history.filter(
        meeting_id__in=list(report.meetings.values_list("pk", flat=True))
    ).select_related("history_user")
    for h in decisions.order_by("history_date", "history_id"):
        what = h.history_change_reason or ""
        rows.append({"at": h.history_date, "by": h.history_user, "what": f"{what}:{h.text[:40]}"})
    rows.sort(key=lambda r: r["at"])
    return rows


def open_decisions_of(user):
    """R68: the open decisions the user owns, through ``restrict`` (the home panel)."""
    return (
        NeedMeetingDecision.objects.restrict(user, "view")
        .filter(owner=user, done_at__isnull=True)
        .select_related("meeting__report__branch")
        .order_by("due_on", "pk")
    )
