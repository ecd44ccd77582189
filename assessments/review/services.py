"""The half-year review (R30-R34): the branches' client analysis reports, the assessment of every
branch by the job and the auditors, and the consequences that enforce themselves (R33).

Consequences are rows that ``restrict()`` and the services already consult (crm.models.Suspension):
a poor rating suspends the branch's archive query for one month (the row ends by itself); a branch
that owes something past its due date (a monthly report, the analysis report, the work summary)
holds a "submissions" row, lifted by the submission of what it owes (``holds_sync``).
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client, Project
from crm.access import SYSTEM, has_global, in_scope
from crm.figures import HalfYear, evaluate
from crm.models import Branch, Notification, Role, Suspension, User
from crm.services import managers_of, notify

from ..models import (
    AnalysisReport,
    Assessment,
    AssessmentRound,
    MonthlyReport,
    SpotCheck,
    WorkSummary,
)
from ..obligations import group_marketing, holds_sync, leaders, reporting_branches
from ..rounds.services import ASSESSMENT, part_succeeded, pending_branches

# ------------------------------------------------------------------------ archive completeness

# The archive form's fields that a complete record has (R32 indicator 1), with their labels.
REQUIRED_FIELDS = (
    ("credit_code", "统一社会信用代码"),
    ("org_type", "客户类型"),
    ("industry", "所属行业"),
    ("address", "单位地址"),
    ("phone", "联系电话"),
    ("department", "项目经理部"),
    ("contacts", "联系人"),
    ("evaluation_of_us", "客户对我方的评价"),
)


def required_fields() -> list[tuple[str, str]]:
    from clients.models import Contact

    labels = {f.name: str(f.verbose_name) for f in Client._meta.fields}
    labels["contacts"] = str(Contact._meta.verbose_name)
    return [(name, labels.get(name, fallback)) for name, fallback in REQUIRED_FIELDS]


def archive_completeness(branch_id: int, *, limit: int = 20) -> dict:
    """The share of the required fields filled, per client and for the branch (their mean), and
    the least complete clients. One query."""
    filled = {
        "credit_code": ~Q(credit_code=""),
        "org_type": ~Q(org_type="other"),
        "industry": ~Q(industry=""),
        "address": ~Q(address=""),
        "phone": ~Q(phone=""),
        "department": Q(department__isnull=False),
        "evaluation_of_us": ~Q(evaluation_of_us=""),
    }
    from django.db.models import Case, IntegerField, Value, When

    annotations = {
        f"f_{name}": Case(When(q, then=Value(1)), default=Value(0), output_field=IntegerField())
        for name, q in filled.items()
    }
    rows = list(
        Client.objects.filter(branch_id=branch_id)
        .annotate(n_contacts=Count("contacts"), **annotations)
        .values("pk", "name", "n_contacts", *annotations)
    )
    total = len(REQUIRED_FIELDS)
    per_client = []
    for row in rows:
        missing = [name for name in filled if not row[f"f_{name}"]]
        if not row["n_contacts"]:
            missing.append("contacts")
        per_client.append(
            {"id": row["pk"], "name": row["name"], "missing": missing, "share": 1 - len(missing) / total}
        )
    share = sum(c["share"] for c in per_client) / len(per_client) if per_client else None
    per_client.sort(key=lambda c: (c["share"], c["name"]))
    return {
        "share": share,
        "clients": len(per_client),
        "complete": sum(1 for c in per_client if not c["missing"]),
        "least": per_client[:limit],
        "fields": [name for name, _label in REQUIRED_FIELDS],
    }


def client_growth(branch_id: int, half: HalfYear) -> dict:
    """R32.1: the branch's client count at the end of the half year against its start."""
    qs = Client.objects.filter(branch_id=branch_id)
    before = qs.filter(created_at__lt=half.start).count()
    after = qs.filter(created_at__lt=half.end).count()
    return {"start": before, "end": after, "growth": (after - before) / before if before else None}


# ------------------------------------------------------------------------------ indicators


def _figure(result, key):
    return {"value": result.values.get(key), "list": result.lists.get(key, [])}


CULTIVATION_FIGURES = ["b_under_cultivation", "b_promoted_to_a", "b_sent_back_to_c", "b_not_evaluated"]


def compute_indicators(branch: Branch, half: HalfYear, *, standard: float) -> dict:
    """R32: what the system computes for one branch and half year, with the records behind each
    figure (frozen on the assessment). Figures come from crm.figures, defined once."""
    labels = [p.label for p in half.periods()]
    reports = {
        r["period"]: r
        for r in MonthlyReport.objects.filter(branch=branch, period__in=labels).values(
            "pk", "period", "status", "on_time", "submitted_at"
        )
    }
    monthly = []
    for label in labels:
        r = reports.get(label)
        if r is None or r["status"] == MonthlyReport.Status.MISSING or r["on_time"] is None:
            state = "missing"
        else:
            state = "on_time" if r["on_time"] else "late"
        monthly.append({"period": label, "state": state, "report": r["pk"] if r else None})
    growth = client_growth(branch.pk, half)
    result = evaluate(
        SYSTEM,
        half.window(branch_id=branch.pk),
        only=[
            "complaints_received",
            "complaints_resolved",
            "complaints_resolved_on_time",
            "complaints_overdue",
            "complaints_reopened",
            "unsatisfied_items",
            "surveys_answered",
        ],
    )
    # R47: B→A cultivation in the half year: plans open at its end, promotions, demotions, and
    # the B clients left without their half-year evaluation.
    cultivation = evaluate(SYSTEM, half.window(branch_id=branch.pk), only=CULTIVATION_FIGURES)
    from complaints.models import Complaint

    outcomes = {
        row["finding"] or "": row["n"]
        for row in Complaint.objects.filter(
            client__branch=branch, received_at__gte=half.start, received_at__lt=half.end
        )
        .values("finding")
        .annotate(n=Count("pk"))
    }
    return {
        "half_year": half.label,
        "reporting": {
            "monthly": monthly,
            "on_time": sum(1 for m in monthly if m["state"] == "on_time"),
            "periods": len(monthly),
            "completeness": archive_completeness(branch.pk),
            "growth": {
                **growth,
                "standard": standard,
                "meets": growth["growth"] is not None and growth["growth"] >= standard,
            },
        },
        "complaints": {
            key: _figure(result, key)
            for key in (
                "complaints_received",
                "complaints_resolved",
                "complaints_resolved_on_time",
                "complaints_overdue",
                "complaints_reopened",
            )
        }
        | {"outcomes": outcomes},
        "satisfaction": {
            "unsatisfied_items": _figure(result, "unsatisfied_items"),
            "surveys_answered": _figure(result, "surveys_answered"),
        },
        "cultivation": {key: _figure(cultivation, key) for key in CULTIVATION_FIGURES},
    }


# ---------------------------------------------------------------------------- the round (R34)


def assessment_round_start(
    *, half: HalfYear, by=None, standard: float | None = None
) -> tuple[AssessmentRound, list[int]]:
    """Open (or find) the assessment of ``half`` once it has ended; returns the branches whose
    indicators are still to compute and have not failed (the caller dispatches them).
    Idempotent."""
    if timezone.now() < half.end:
        raise ValidationError(_("%(half)s 尚未结束,不能开始考核。") % {"half": half.label})
    if standard is not None:
        require_valid_standard(standard)
    try:
        with transaction.atomic():
            rnd, _created = AssessmentRound.objects.get_or_create(
                half_year=half.label,
                defaults={
                    "opened_by": by,
                    "growth_standard": settings.CRM_CLIENT_GROWTH_STANDARD if standard is None else standard,
                },
            )
    except IntegrityError:
        rnd = AssessmentRound.objects.get(half_year=half.label)
    with transaction.atomic():
        rnd = AssessmentRound.objects.select_for_update().get(pk=rnd.pk)
        for branch in reporting_branches():
            Assessment.objects.get_or_create(branch=branch, half_year=half.label, defaults={"round": rnd})
        rnd.total = rnd.assessments.count()
        rnd.done = rnd.assessments.filter(computed_at__isnull=False).count()
        rnd.save(update_fields=["total", "done", "updated_at"])
    # A failed part waits for 重新计算 (R55): neither the job nor its daily catch-up queues it.
    pending = pending_branches(ASSESSMENT, rnd)
    if not pending:
        assessment_round_finish(round_id=rnd.pk)
    return rnd, pending


def _sample(branch_id: int, seed: int, size: int) -> list[int]:
    """The accuracy sample (R32.5): reproducible from the recorded seed (same ids, same order)."""
    ids = sorted(Client.objects.filter(branch_id=branch_id).values_list("pk", flat=True))
    return sorted(random.Random(seed).sample(ids, min(size, len(ids))))


def assessment_compute(*, round_id: int, branch_id: int) -> bool:
    """One branch's part of the round: indicators, the sample; counted once."""
    rnd = AssessmentRound.objects.get(pk=round_id)
    half = HalfYear.parse(rnd.half_year)
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().get(round=rnd, branch_id=branch_id)
        if assessment.computed_at is not None:
            first = False
        else:
            assessment.indicators = compute_indicators(assessment.branch, half, standard=rnd.growth_standard)
            assessment.sample_seed = random.SystemRandom().randrange(1, 2**31)
            for client_id in _sample(branch_id, assessment.sample_seed, settings.CRM_SPOT_CHECK_SIZE):
                SpotCheck.objects.get_or_create(assessment=assessment, client_id=client_id)
            assessment.computed_at = timezone.now()
            part_succeeded(assessment)
            assessment.save()
            AssessmentRound.objects.filter(pk=rnd.pk).update(done=F("done") + 1)
            first = True
    assessment_round_finish(round_id=rnd.pk)
    return first


def assessment_round_finish(*, round_id: int) -> bool:
    with transaction.atomic():
        rnd = AssessmentRound.objects.select_for_update().get(pk=round_id)
        if (
            rnd.state == AssessmentRound.State.OPEN
            or rnd.assessments.filter(computed_at__isnull=True).exists()
        ):
            return False
        rnd.state = AssessmentRound.State.OPEN
        rnd.done = rnd.total
        rnd.save()
    url = reverse("assessments:assessment-list") + f"?half_year={rnd.half_year}"
    transaction.on_commit(
        lambda: notify(
            recipients=User.objects.filter(role=Role.AUDITOR, is_active=True),
            verb="assessment",
            title=lambda: _("%(half)s 分子公司客户关系维护成效考核已开始") % {"half": rnd.half_year},
            body=lambda: _("系统已计算各分子公司的考核指标并抽取信息准确性样本,请抽查并评定。"),
            url=url,
            key=f"assessment-open:{rnd.half_year}",
        )
    )
    return True


def require_valid_standard(standard) -> None:
    """R32.1: a standard of client-count growth is a finite share from -100% to 1000%; one rule
    for the page, the API and the job (NaN or infinity stored made every branch's part fail)."""
    from crm.validators import validate_finite

    validate_finite(standard)
    if not -1 <= float(standard) <= 10:
        raise ValidationError({"growth_standard": _("增长标准应为 -100% 到 1000% 之间的百分数。")})


@transaction.atomic
def round_set_standard(*, rnd: AssessmentRound, by, standard: float) -> AssessmentRound:
    """R32.1: group marketing sets the round's standard of client-count growth; the assessments
    not yet rated are measured against it at once (their frozen counts stay)."""
    if not (by.is_superuser or (by.role == Role.MARKETING and has_global(by, AssessmentRound, "change"))):
        raise PermissionDenied(_("只有集团市场营销部可以设定增长标准。"))
    require_valid_standard(standard)
    rnd = AssessmentRound.objects.select_for_update().get(pk=rnd.pk)
    rnd.growth_standard = standard
    rnd.save()
    for assessment in rnd.assessments.select_for_update().filter(
        rated_at__isnull=True, computed_at__isnull=False
    ):
        growth = assessment.indicators["reporting"]["growth"]
        growth["standard"] = standard
        growth["meets"] = growth["growth"] is not None and growth["growth"] >= standard
        assessment.save(update_fields=["indicators", "updated_at", "version"])
    return rnd


def halves_to_open(now: dt.datetime | None = None) -> list[HalfYear]:
    """Catching up (R34): the last ended half year if its round is not open yet."""
    last = HalfYear.last_ended(now)
    rnd = AssessmentRound.objects.filter(half_year=last.label).first()
    return [] if rnd and rnd.state == AssessmentRound.State.OPEN else [last]


# ------------------------------------------------------------------------ the auditor's work


def is_auditor(user) -> bool:
    return user.is_authenticated and (user.role == Role.AUDITOR or user.is_superuser)


def _require_auditor(user):
    if not is_auditor(user):
        raise PermissionDenied(_("只有考核人员可以抽查和评定。"))


@transaction.atomic
def spot_check_record(
    *, check: SpotCheck, by, accurate: bool, note: str = "", at: dt.datetime | None = None
) -> SpotCheck:
    _require_auditor(by)
    check = SpotCheck.objects.select_for_update().select_related("assessment").get(pk=check.pk)
    if check.assessment.rated_at:
        raise ValidationError(_("考核结果已评定,抽查结果不能再修改。"))
    check.accurate = bool(accurate)
    check.note = (note or "").strip()[:300]
    check.checked_at = at or timezone.now()
    check.checked_by = by
    check.save()
    return check


@transaction.atomic
def analysis_judge(*, report: AnalysisReport, by, meets: bool) -> AnalysisReport:
    """R32.4: the auditor's judgement that the analysis report meets the requirements."""
    _require_auditor(by)
    report = AnalysisReport.objects.select_for_update().get(pk=report.pk)
    if report.status != AnalysisReport.Status.SUBMITTED:
        raise ValidationError(_("分析报告尚未提交,不能评判。"))
    report.meets_requirements = bool(meets)
    report.save()
    return report


def _add_month(moment: dt.datetime) -> dt.datetime:
    local = timezone.localtime(moment)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    import calendar

    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


@transaction.atomic
def assessment_rate(
    *, assessment: Assessment, by, rating: str, reason: str, at: dt.datetime | None = None
) -> Assessment:
    """R32, R33: the auditor sets 优良 / 合格 / 差 with a reason, once every sampled record is
    checked; the consequences follow: a commendation to leaders (优良), a work summary owed
    within a week (合格, 差), and for 差 the archive query suspended for one month."""
    _require_auditor(by)
    if rating not in Assessment.Rating.values:
        raise ValidationError({"rating": _("考核结果应为优良、合格或差。")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写评定理由。")})
    assessment = Assessment.objects.select_for_update().select_related("branch").get(pk=assessment.pk)
    if assessment.rated_at:
        raise ValidationError(_("考核结果已评定。"))
    if assessment.computed_at is None:
        raise ValidationError(_("考核指标尚在计算,请稍后。"))
    if assessment.spot_checks.filter(accurate__isnull=True).exists():
        raise ValidationError(_("请先完成全部信息准确性抽查。"))
    now = at or timezone.now()
    assessment.rating = rating
    assessment.reason = reason
    assessment.rated_at = now
    assessment.rated_by = by
    branch = assessment.branch
    label = assessment.get_rating_display()
    url = reverse("assessments:assessment-detail", kwargs={"pk": assessment.pk})
    if rating == Assessment.Rating.EXCELLENT:
        assessment.commended_at = now
    else:
        WorkSummary.objects.get_or_create(
            assessment=assessment,
            defaults={"branch": branch, "due_at": now + dt.timedelta(days=settings.CRM_WORK_SUMMARY_DAYS)},
        )
    if rating == Assessment.Rating.POOR:
        Suspension.objects.create(
            branch=branch,
            kind=Suspension.Kind.ARCHIVE,
            reason=_("%(half)s 客户关系维护成效考核结果为“差”") % {"half": assessment.half_year},
            starts_at=now,
            ends_at=_add_month(now),
        )
        from crm.access import scope_changed

        scope_changed()
    assessment.save()
    title = _("%(branch)s %(half)s 考核结果:%(rating)s") % {
        "branch": branch,
        "half": assessment.half_year,
        "rating": label,
    }
    transaction.on_commit(
        lambda: notify(
            recipients=list(leaders()) + list(group_marketing()) + list(managers_of(branch)),
            verb="assessment",
            title=title,
            body=lambda: (
                (
                    _("予以通报表扬。")
                    if rating == Assessment.Rating.EXCELLENT
                    else _("请在一周内提交客户关系维护工作总结。")
                )
                + " "
                + reason
            ),
            url=url,
            key=f"assessment-rated:{assessment.pk}",
        )
    )
    return assessment


# ----------------------------------------------------------------------- the branch's work


def may_submit_for(user, branch_id: int) -> bool:
    """The branch manager submits the branch's papers (an administrator may act for them)."""
    if not user.is_authenticated:
        return False
    return (
        user.is_superuser
        or user.role == Role.ADMIN
        or (user.role == Role.MANAGER and user.branch_id == branch_id)
    )


@transaction.atomic
def work_summary_submit(
    *, summary: WorkSummary, by, parts: dict, at: dt.datetime | None = None
) -> WorkSummary:
    """R33: the work summary, with a part for each indicator; lifts the hold it caused."""
    if not may_submit_for(by, summary.branch_id) or not in_scope(by, "change", summary):
        raise PermissionDenied(_("只有本单位经营部负责人可以提交工作总结。"))
    summary = WorkSummary.objects.select_for_update().get(pk=summary.pk)
    if summary.submitted_at:
        raise ValidationError(_("工作总结已提交。"))
    errors = {}
    for part in WorkSummary.PARTS:
        text = (parts.get(part) or "").strip()
        if not text:
            errors[part] = _("请填写这一部分。")
        setattr(summary, part, text)
    if errors:
        raise ValidationError(errors)
    summary.submitted_at = at or timezone.now()
    summary.submitted_by = by
    summary.save()
    transaction.on_commit(lambda: holds_sync(summary.branch))
    return summary


# ---------------------------------------------------------------- the client analysis (R30, R31)


def analysis_is_due(half: HalfYear) -> bool:
    """R31: a branch writes the report of each half year from the first one the system reviews
    (``CRM_REVIEW_START``) to the current one; a later half year has nothing to report yet."""
    return HalfYear.parse(settings.CRM_REVIEW_START) <= half <= HalfYear.containing()


def analysis_open(*, branch: Branch, half: HalfYear) -> AnalysisReport:
    """The branch's report of ``half``, created on first opening (idempotent); only for a half
    year that is due (R31), so that no page, API call or job creates reports of 2099H1."""
    report = AnalysisReport.objects.filter(branch=branch, half_year=half.label).first()
    if report:
        return report
    if not analysis_is_due(half):
        raise ValidationError(
            {
                "half_year": [
                    _("%(half)s 的客户分析报告尚不需要编写(可编写 %(first)s 至 %(last)s)。")
                    % {
                        "half": half.label,
                        "first": settings.CRM_REVIEW_START,
                        "last": HalfYear.containing().label,
                    }
                ]
            },
            code="not_due",
        )
    try:
        with transaction.atomic():
            return AnalysisReport.objects.create(branch=branch, half_year=half.label)
    except IntegrityError:
        return AnalysisReport.objects.get(branch=branch, half_year=half.label)


# The repair figures of the product aspect (defined by complaints.repairs.figures, R99).
REPAIR_FIGURES = (
    "repairs_received", "repairs_registered_on_time", "repair_registration_rate", "repairs_closed",
    "repairs_fixed_first_time", "repair_first_time_fix_rate", "repair_visits_due", "repair_visits_on_time",
    "repair_visit_on_time_rate", "repair_visits_made", "repair_visits_satisfied", "repair_satisfaction_rate",
)  # fmt: skip


def analysis_figures(branch_id: int, half: HalfYear) -> dict:
    """R31: the figures the report is pre-filled with, from the records of the half year."""
    from clients.grading import REPEAT_COOPERATION_PROJECTS, quadrant
    from clients.models import ProjectType

    clients = Client.objects.filter(branch_id=branch_id)
    repeat = clients.annotate(n=Count("projects")).filter(n__gte=REPEAT_COOPERATION_PROJECTS).count()
    quadrants: dict[str, int] = {}
    for client in clients.filter(projects__isnull=False).distinct()[:500]:
        q = quadrant(client)
        quadrants[str(q["label"])] = quadrants.get(str(q["label"]), 0) + 1
    projects = Project.objects.filter(branch_id=branch_id)
    money = projects.aggregate(value=Sum("contract_value"), cost=Sum("cost"), profit=Sum("profit"))
    value, cost, profit = (float(money[k] or 0) for k in ("value", "cost", "profit"))
    by_type = [
        {
            "type": str(dict(ProjectType.choices).get(r["project_type"], r["project_type"])),
            "count": r["n"],
            "profit": float(r["p"] or 0),
        }
        for r in projects.values("project_type").annotate(n=Count("pk"), p=Sum("profit")).order_by("-n")
    ]
    window = evaluate(
        SYSTEM,
        half.window(branch_id=branch_id),
        only=[
            "complaints_received",
            "complaints_resolved",
            "surveys_answered",
            "unsatisfied_items",
            *REPAIR_FIGURES,
        ],
    ).values
    parents = list(
        clients.exclude(parent_company="")
        .values("parent_company")
        .annotate(n=Count("pk"))
        .filter(n__gte=2)
        .order_by("-n")[:10]
    )
    return {
        "loyalty": {"clients": clients.count(), "repeat": repeat, "quadrants": quadrants},
        "profit": {
            "contract_value": value,
            "cost": cost,
            "profit": profit,
            "scale_to_profit": round(value / profit, 2) if profit else None,
            "cost_to_profit": round(cost / profit, 2) if profit else None,
        },
        # The product aspect (R30) includes how its defects were repaired (R99, seed 002:
        # 维修的及时性、维修一次成功率).
        "product": {"by_type": by_type, "repairs": {k: window.get(k) for k in REPAIR_FIGURES}},
        "complaints": {k: window.get(k) for k in ("complaints_received", "complaints_resolved")},
        "surveys": {k: window.get(k) for k in ("surveys_answered", "unsatisfied_items")},
        "parents": [{"parent": p["parent_company"], "clients": p["n"]} for p in parents],
    }


ANALYSIS_TEXTS = ("loyalty", "profit", "future", "capability", "product", "common_traits")


@transaction.atomic
def analysis_save(
    *, report: AnalysisReport, by, data: dict, submit: bool = False, at: dt.datetime | None = None
) -> AnalysisReport:
    """Save the branch's texts; with ``submit``, freeze the figures and hand it in (R31)."""
    if not may_submit_for(by, report.branch_id) or not in_scope(by, "change", report):
        raise PermissionDenied(_("只有本单位经营部负责人可以编写和提交客户分析报告。"))
    report = AnalysisReport.objects.select_for_update().get(pk=report.pk)
    if report.status == AnalysisReport.Status.SUBMITTED:
        raise ValidationError(_("客户分析报告已提交。"))
    for name in ANALYSIS_TEXTS:
        if name in data:
            setattr(report, name, (data.get(name) or "").strip())
    if submit:
        aspects = ("loyalty", "profit", "future", "capability", "product")
        missing = {n: _("请填写这一方面的分析。") for n in aspects if not getattr(report, n)}
        if missing:
            raise ValidationError(missing)
        half = HalfYear.parse(report.half_year)
        now = at or timezone.now()
        report.figures = analysis_figures(report.branch_id, half)
        report.status = AnalysisReport.Status.SUBMITTED
        report.submitted_at = now
        report.submitted_by = by
        report.on_time = now <= half.analysis_due
    report.save()
    if submit:
        from .filing import file_evaluations

        file_evaluations(report=report, by=by)  # R54: the analyses go into the archive
        transaction.on_commit(lambda: holds_sync(report.branch))
    return report


def may_view_results(user) -> bool:
    return user.is_authenticated and has_global(user, Assessment, "view")


# ------------------------------------------------------------ the group's summary and re-grading


def summary_due(half: HalfYear) -> dt.datetime | None:
    """R31: 30 days after the last branch submitted its analysis (None until all are in)."""
    branches = list(reporting_branches().values_list("pk", flat=True))
    submitted = AnalysisReport.objects.filter(
        half_year=half.label, branch_id__in=branches, status=AnalysisReport.Status.SUBMITTED
    )
    if submitted.count() < len(branches):
        return None
    last = submitted.order_by("-submitted_at").values_list("submitted_at", flat=True).first()
    return last + dt.timedelta(days=30)


def summary_open(half: HalfYear):
    from ..models import GroupSummary

    summary, _created = GroupSummary.objects.get_or_create(half_year=half.label)
    return summary


def is_marketing(user) -> bool:
    from ..models import GroupSummary

    return user.is_authenticated and (
        user.is_superuser or (user.role == Role.MARKETING and has_global(user, GroupSummary, "change"))
    )


def _require_marketing(user):
    from ..models import GroupSummary

    if not (user.is_superuser or (user.role == Role.MARKETING and has_global(user, GroupSummary, "change"))):
        raise PermissionDenied(_("只有集团市场营销部可以编写汇总和重新分级。"))


@transaction.atomic
def summary_save(*, summary, by, text: str, submit: bool = False):
    from ..models import GroupSummary

    _require_marketing(by)
    summary = GroupSummary.objects.select_for_update().get(pk=summary.pk)
    summary.text = (text or "").strip()
    if submit:
        if not summary.text:
            raise ValidationError({"text": _("请填写汇总分析。")})
        summary.submitted_at = timezone.now()
        summary.submitted_by = by
    summary.save()
    return summary


def _list_separator() -> str:
    from django.utils.translation import get_language

    return ", " if (get_language() or "").startswith("en") else "、"


def regrading_candidates(half: HalfYear, *, limit: int = 50) -> list[dict]:
    """R7, R31: clients whose suggested grade differs from their grade, with the criteria behind
    the suggestion (the first ``limit``, A clients first)."""
    from clients.grading import suggest_grade
    from clients.selectors import with_grading_facts

    out = []
    qs = with_grading_facts(Client.objects.filter(branch__in=reporting_branches())).select_related("branch")
    for client in qs.order_by("grade", "name").iterator(chunk_size=500):
        grade, criteria = suggest_grade(client)
        if grade != client.grade:
            out.append(
                {
                    "client": client,
                    "from": client.grade,
                    "to": grade,
                    "why": _list_separator().join(
                        c["label"]
                        for c in criteria
                        if c["held"] and (c["points_to"] == grade or grade == "C")
                    )
                    or _("A类条件未全部满足"),
                }
            )
            if len(out) >= limit:
                break
    return out


@transaction.atomic
def regrading_propose(*, summary, by, client: Client, to_grade: str, reason: str):
    from clients.models import Grade

    from ..models import Regrading

    _require_marketing(by)
    if summary.regraded_at:
        raise ValidationError(_("本期重新分级已执行。"))
    if to_grade not in Grade.values:
        raise ValidationError({"to_grade": _("无效的客户分级。")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写重新分级的理由。")})
    if to_grade == client.grade:
        raise ValidationError({"to_grade": _("新分级与当前分级相同。")})
    proposal, _created = Regrading.objects.update_or_create(
        summary=summary,
        client=client,
        defaults={"from_grade": client.grade, "to_grade": to_grade, "reason": reason, "proposed_by": by},
    )
    return proposal


def regrading_apply(*, summary, by) -> int:
    """R31: apply every proposal through the one grading service (R7), then tell the leaders (the
    group's new A/B/C lists) and send every branch its own (R75, :func:`regrading_lists_send`)."""
    from clients.services import client_set_grade

    from ..models import GroupSummary

    _require_marketing(by)
    with transaction.atomic():
        summary = GroupSummary.objects.select_for_update().get(pk=summary.pk)
        if summary.regraded_at:
            raise ValidationError(_("本期重新分级已执行。"))
        applied = 0
        for proposal in summary.regradings.select_related("client", "client__branch").filter(
            applied_at__isnull=True
        ):
            client_set_grade(client=proposal.client, grade=proposal.to_grade, reason=proposal.reason, by=by)
            proposal.applied_at = timezone.now()
            proposal.save(update_fields=["applied_at", "updated_at"])
            applied += 1
        summary.regraded_at = timezone.now()
        summary.save()
    notify(
        recipients=leaders(),
        verb="regrading",
        title=lambda: (
            _("%(half)s 重新分级已完成,共调整 %(n)d 家客户") % {"half": summary.half_year, "n": applied}
        ),
        body=lambda: _(
            "新的A类、B类、C类客户名单可在客户档案中按分级筛选并导出;各分子公司已收到本单位的客户清单。"
        ),
        url=reverse("clients:client-list") + "?sort=grade",
        key=f"regrading:{summary.half_year}",
    )
    regrading_lists_send(summary=summary)
    return applied


def _grade_list_links(branch: Branch) -> tuple[str, str]:
    """The branch's archive list sorted by grade (A, B, C) and its export: exactly the branch's
    own clients, read through the reader's scope when opened (R75)."""
    query = f"?branch={branch.pk}&sort=grade"
    return reverse("clients:client-list") + query, reverse("clients:client-export") + query


def regrading_lists_send(*, summary) -> int:
    """R75 (seed 001: «集团公司市场营销部依据客户分析结果对客户所属客户类别进行调整,将调整后的三个
    类别的客户清单发至集团公司领导及各分子公司手中»): once the half year's re-grading is applied,
    every reporting branch, whether or not one of its clients changed grade, gets its new A/B/C
    list: a notice to each of its managers and staff with its counts by grade, how many of its
    clients were re-graded, a link to its archive list filtered to the branch and sorted by grade,
    and a link to that list's Excel (the 客户信息统计表 layout).

    The links are read through the reader's scope when opened, never a file made now: the list
    holds the branch's own clients only, and a branch whose archive query is suspended (R33)
    sees in it only the clients its people own, as everywhere else.

    Idempotent per (branch, half year): the notice's key is ``regrading-list:<half>:<branch>``, so
    a second run tells nobody twice (and reaches only people who joined the branch since).
    Returns the number of notices made."""
    if not summary.regraded_at:
        raise ValidationError(_("本期重新分级尚未执行。"))
    branches = list(reporting_branches())
    grades: dict[int, dict[str, int]] = {}
    for row in (
        Client.objects.filter(branch__in=branches)
        .order_by()
        .values("branch_id", "grade")
        .annotate(n=Count("pk"))
    ):
        grades.setdefault(row["branch_id"], {})[row["grade"]] = row["n"]
    changed = dict(
        summary.regradings.filter(applied_at__isnull=False)
        .order_by()
        .values_list("client__branch_id")
        .annotate(n=Count("pk"))
    )
    people: dict[int, list[User]] = {}
    for user in User.objects.filter(
        branch__in=branches, role__in=(Role.MANAGER, Role.STAFF), is_active=True
    ).order_by("pk"):
        people.setdefault(user.branch_id, []).append(user)
    made = 0
    for branch in branches:
        counts = grades.get(branch.pk, {})
        url, download = _grade_list_links(branch)
        body = _(
            "本单位A类客户 %(a)d 家、B类 %(b)d 家、C类 %(c)d 家;本次重新分级调整本单位客户 %(n)d 家。"
            "客户清单(仅含本单位客户)可在客户档案中查看,Excel下载:%(download)s"
        ) % {
            "a": counts.get("A", 0),
            "b": counts.get("B", 0),
            "c": counts.get("C", 0),
            "n": changed.get(branch.pk, 0),
            "download": f"{settings.CRM_SITE_URL}{download}",
        }
        made += len(
            notify(
                recipients=people.get(branch.pk, []),
                verb="regrading_list",
                title=lambda: (
                    _("%(half)s 重新分级后的A、B、C类客户清单(%(branch)s)")
                    % {"half": summary.half_year, "branch": branch}  # noqa: B023 (rendered at once, in each language)
                ),
                body=body,
                url=url,
                key=f"regrading-list:{summary.half_year}:{branch.pk}",
            )
        )
    return made


def regrading_lists_sent(summary) -> list[dict]:
    """R75: for the summary page, each reporting branch's notice of its list: to how many people,
    read by how many (one query)."""
    branches = list(reporting_branches())
    keys = {branch.pk: f"regrading-list:{summary.half_year}:{branch.pk}" for branch in branches}
    sent: dict[str, dict] = {}
    for row in (
        Notification.objects.filter(key__in=list(keys.values()))
        .order_by()
        .values("key")
        .annotate(total=Count("pk"), read=Count("pk", filter=Q(read_at__isnull=False)))
    ):
        sent[row["key"]] = row
    out = []
    for branch in branches:
        row = sent.get(keys[branch.pk], {})
        out.append({"branch": branch, "total": row.get("total", 0), "read": row.get("read", 0)})
    return out


def analysis_reminders(now: dt.datetime | None = None, *, days=(14, 3)) -> int:
    """R31: remind branch managers before their analysis report is due."""
    now = now or timezone.now()
    half = HalfYear.containing(now)
    if half < HalfYear.parse(settings.CRM_REVIEW_START):
        return 0
    left = (half.analysis_due - now).days
    if left not in days:
        return 0
    sent = 0
    for branch in reporting_branches():
        report = AnalysisReport.objects.filter(branch=branch, half_year=half.label).first()
        if report and report.status == AnalysisReport.Status.SUBMITTED:
            continue
        sent += len(
            notify(
                recipients=managers_of(branch),
                verb="analysis_reminder",
                title=lambda: (
                    _("请在 %(due)s 前提交 %(half)s 客户分析报告")
                    % {
                        "due": timezone.localtime(half.analysis_due - dt.timedelta(seconds=1)).strftime(
                            "%m-%d"
                        ),
                        "half": half.label,
                    }
                ),
                url=reverse("assessments:analysis-current") + f"?half_year={half.label}",
                key=f"analysis-reminder:{half.label}:{left}:{branch.pk}",
            )
        )
    return sent


@transaction.atomic
def client_analysis_save(*, report: AnalysisReport, by, client: Client, text: str):
    """R30: a project department's single-client analysis, listed in the branch's report."""
    from ..models import ClientAnalysis

    if not in_scope(by, "change", report) or by.branch_id != report.branch_id and not by.is_superuser:
        raise PermissionDenied(_("只能为本单位的客户填写分析。"))
    if report.status == AnalysisReport.Status.SUBMITTED:
        raise ValidationError(_("客户分析报告已提交。"))
    if client.branch_id != report.branch_id:
        raise ValidationError({"client": _("只能分析本单位的客户。")})
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("请填写分析内容。")})
    analysis, _created = ClientAnalysis.objects.update_or_create(
        report=report,
        client=client,
        defaults={"text": text, "written_by": by, "department": by.department},
    )
    return analysis
