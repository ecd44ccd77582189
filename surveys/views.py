"""Pages of the surveys. Thin: read through ``restrict`` (404 out of scope, 403 without the
role), write through ``services``. The public answer page needs no login (R22)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from clients.access.log import log_reads
from crm.access import can, has_global
from crm.exports import xlsx_response
from crm.forms import posted_object
from crm.models import Branch
from crm.public_links import rate_limited

from . import selectors, services
from .forms import (
    AnswerForm,
    CampaignForm,
    DimensionFormSet,
    FollowUpCloseForm,
    SendForm,
    SurveyCreateForm,
    SurveyFilterForm,
    TemplateForm,
    question_formset,
)
from .improvements import services as improvements
from .improvements.models import ImprovementPlan
from .models import (
    Campaign,
    CampaignBranchReport,
    FollowUp,
    Survey,
    SurveyTemplate,
    Target,
    config_can,
    may_browse_templates,
)


def _require(user, action, model):
    check = config_can if model.scope.branch is None else can
    if not check(user, action, model):
        raise PermissionDenied


def _require_marketing(user):
    """Templates, targets and campaigns are group marketing's to change (R3, R25a)."""
    if not has_global(user, SurveyTemplate, "change"):
        raise PermissionDenied


def _add_errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# -- surveys ------------------------------------------------------------------------------------

SORTS = {
    "created": "-created_at",
    "client": "client__name",
    "status": "status",
    "answered": "-answered_at",
    "unsatisfied": "-unsatisfied_count",
}


@login_required
def survey_list(request):
    _require(request.user, "view", Survey)
    form = SurveyFilterForm(request.GET or None, user=request.user)
    qs = Survey.objects.restrict(request.user, "view").select_related(
        "client", "project", "template", "branch", "department", "campaign"
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            qs = qs.filter(
                Q(client__name__icontains=data["q"])
                | Q(project__name__icontains=data["q"])
                | Q(respondent__icontains=data["q"])
            )
        if data["status"]:
            qs = qs.filter(status=data["status"])
        if data["branch"]:
            qs = qs.filter(branch=data["branch"])
        if data["template"]:
            qs = qs.filter(template=data["template"])
        if data["unsatisfied"]:
            qs = qs.filter(unsatisfied_count__gt=0)
    campaign_id = request.GET.get("campaign", "")
    if campaign_id.isdigit():
        qs = qs.filter(campaign_id=campaign_id)
    sort = request.GET.get("sort", "created")
    qs = qs.order_by(SORTS.get(sort, "-created_at"), "-pk")
    if request.GET.get("export") == "xlsx":
        headers = [_("客户"), _("项目"), _("模板"), _("责任单位"), _("项目经理部"), _("状态"), _("方式")]
        headers += [_("回收时间"), _("填写人"), _("满意率"), _("不满意项")]
        rows = (
            [
                s.client.name,
                s.project.name if s.project else "",
                s.template.name,
                str(s.branch),
                s.department.name if s.department else "",
                s.get_status_display(),
                s.get_channel_display(),
                s.answered_at,
                s.respondent,
                selectors.pct(s.satisfaction_rate),
                s.unsatisfied_count,
            ]
            for s in qs
        )
        return xlsx_response(_("满意度调查"), _("满意度调查"), headers, rows)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "surveys/survey_list.html", {"page": page, "form": form, "sort": sort})


@login_required
def survey_detail(request, pk):
    _require(request.user, "view", Survey)
    survey = get_object_or_404(
        Survey.objects.restrict(request.user, "view").select_related(
            "client", "project", "template", "branch", "department", "campaign", "sent_by", "entered_by"
        ),
        pk=pk,
    )
    log_reads(request, [survey], via="page")  # R4
    answers = survey.answers.select_related("question", "dimension").order_by(
        "dimension__order", "question__order"
    )
    follow_up = (
        FollowUp.objects.restrict(request.user, "view")
        .filter(survey=survey)
        .select_related("owner", "done_by")
        .first()
    )
    link = request.session.pop(f"survey-link-{survey.pk}", None)
    return render(
        request,
        "surveys/survey_detail.html",
        {
            "survey": survey,
            "answers": answers,
            "follow_up": follow_up,
            "complaint_url": services.complaint_prefill_url(follow_up) if follow_up else "",
            "link": link,
            "send_form": SendForm(initial={"email": survey.recipient_email, "days": services.LINK_DAYS}),
            "close_form": FollowUpCloseForm(),
        },
    )


@login_required
def survey_create(request):
    _require(request.user, "add", Survey)
    initial = {}
    client_id = request.GET.get("client", "")
    if client_id.isdigit():
        initial["client"] = client_id
    form = SurveyCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            survey = services.survey_create(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已创建满意度调查,请发送链接或录入纸质问卷。"))
            return redirect("surveys:survey-detail", pk=survey.pk)
    return render(request, "surveys/survey_form.html", {"form": form})


@login_required
@require_POST
def survey_send(request, pk):
    _require(request.user, "change", Survey)
    survey = get_object_or_404(Survey.objects.restrict(request.user, "change"), pk=pk)
    form = SendForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("surveys:survey-detail", pk=pk)
    try:
        survey, url = services.survey_send(
            survey=survey, by=request.user, email=form.cleaned_data["email"], days=form.cleaned_data["days"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        # The link is shown once (only its hash is kept); sending again makes a new one.
        request.session[f"survey-link-{survey.pk}"] = url
        if survey.channel == Survey.Channel.EMAIL:
            messages.success(request, _("问卷链接已发送至 %(e)s。") % {"e": survey.recipient_email})
        else:
            messages.success(request, _("已生成问卷链接,请复制发送给客户。"))
    return redirect("surveys:survey-detail", pk=pk)


@login_required
def survey_paper(request, pk):
    _require(request.user, "change", Survey)
    survey = get_object_or_404(
        Survey.objects.restrict(request.user, "change").select_related("template", "client"), pk=pk
    )
    if survey.status == Survey.Status.ANSWERED:
        messages.info(request, _("该问卷已回收。"))
        return redirect("surveys:survey-detail", pk=pk)
    form = AnswerForm(request.POST or None, template=survey.template, paper=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_enter_paper(
                survey=survey,
                by=request.user,
                scores=form.scores(),
                respondent=form.cleaned_data["respondent"],
                comment=form.cleaned_data["comment"],
                answered_on=form.cleaned_data["answered_on"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("纸质问卷已录入。"))
            return redirect("surveys:survey-detail", pk=pk)
    return render(request, "surveys/survey_paper.html", {"survey": survey, "form": form})


# -- the public answer page (R22; the link's mechanism and rate limit are crm.public_links) --------


@never_cache
def answer(request, token):
    """The client's questionnaire: the group's name and the questions, nothing of the archive.
    Used, expired or tampered links get a polite page; nothing is recorded."""
    english = request.GET.get("lang") == "en" or request.POST.get("lang") == "en"
    lang = "en" if english else "zh-hans"
    with translation.override(lang):
        if rate_limited(request):
            return render(request, "surveys/public_closed.html", {"reason": "rate"}, status=429)
        try:
            survey = services.survey_for_token(token)
        except services.LinkError as exc:
            return render(
                request,
                "surveys/public_closed.html",
                {"reason": exc.reason},
                status=410 if exc.reason != "invalid" else 404,
            )
        form = AnswerForm(request.POST or None, template=survey.template, english=english)
        if request.method == "POST" and form.is_valid():
            try:
                services.survey_answer_public(
                    token=token,
                    scores=form.scores(),
                    respondent=form.cleaned_data["respondent"],
                    comment=form.cleaned_data["comment"],
                )
            except services.LinkError as exc:
                return render(request, "surveys/public_closed.html", {"reason": exc.reason}, status=410)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return render(request, "surveys/public_thanks.html", {"english": english})
        template = survey.template
        return render(
            request,
            "surveys/public_answer.html",
            {
                "form": form,
                "english": english,
                "title": (template.name_en or template.name) if english else template.name,
                "intro": (template.intro_en or template.intro) if english else template.intro,
                "expires_at": survey.expires_at,
            },
        )


# -- follow-ups of unsatisfied items (R21) ----------------------------------------------------------


@login_required
def followup_list(request):
    _require(request.user, "view", FollowUp)
    qs = FollowUp.objects.restrict(request.user, "view").select_related(
        "client", "branch", "owner", "survey", "survey__project"
    )
    status = request.GET.get("status", "open")
    if status in FollowUp.Status.values:
        qs = qs.filter(status=status)
    if request.GET.get("mine"):
        qs = qs.filter(owner=request.user)
    search = request.GET.get("q", "").strip()
    if search:
        qs = qs.filter(Q(client__name__icontains=search) | Q(items__icontains=search))
    qs = qs.order_by("-created_at" if request.GET.get("sort") != "client" else "client__name", "-pk")
    if request.GET.get("export") == "xlsx":
        headers = [
            _("客户"),
            _("责任单位"),
            _("负责人"),
            _("不满意项"),
            _("状态"),
            _("跟进情况"),
            _("创建时间"),
        ]
        rows = (
            [
                f.client.name,
                str(f.branch),
                str(f.owner),
                f.items,
                f.get_status_display(),
                f.note,
                f.created_at,
            ]
            for f in qs
        )
        return xlsx_response(_("不满意项跟进"), _("不满意项跟进"), headers, rows)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    for f in page.object_list:
        f.complaint_url = services.complaint_prefill_url(f)
    return render(request, "surveys/followup_list.html", {"page": page, "status": status})


@login_required
@require_POST
def followup_close(request, pk):
    _require(request.user, "change", FollowUp)
    follow_up = get_object_or_404(FollowUp.objects.restrict(request.user, "change"), pk=pk)
    form = FollowUpCloseForm(request.POST)
    if form.is_valid():
        try:
            services.followup_close(follow_up=follow_up, by=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("已记录跟进情况。"))
    else:
        messages.error(request, _("请填写跟进情况。"))
    return redirect("surveys:survey-detail", pk=follow_up.survey_id)


# -- results and priority matrix (R23, R24) ------------------------------------------------------------


def _analysis_params(request):
    templates = list(SurveyTemplate.objects.restrict(request.user, "view"))
    if not templates:
        raise PermissionDenied
    chosen = request.GET.get("template", "")
    template = next((t for t in templates if str(t.pk) == chosen), None)
    if template is None:
        template = next((t for t in templates if t.is_default), templates[0])
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = timezone.localdate().year
    year = min(max(year, 2000), 2100)
    branches = list(Branch.objects.restrict(request.user, "view").exclude(kind=Branch.Kind.HQ))
    branch = None
    chosen_branch = request.GET.get("branch", "")
    if chosen_branch:
        branch = next((b for b in branches if str(b.pk) == chosen_branch), None)
        if branch is None:
            from django.http import Http404

            raise Http404
    return templates, template, year, branches, branch


@login_required
def results(request):
    """Actual satisfaction against base and target, for the group and each branch (R23)."""
    _require(request.user, "view", Survey)
    templates, template, year, branches, branch = _analysis_params(request)
    shown = [branch] if branch else branches
    data = selectors.results(request.user, template=template, year=year, branches=shown)
    matrix = selectors.priority_matrix(request.user, template=template, year=year, branch=branch)
    unsatisfied = selectors.unsatisfied_by(request.user, year=year, template=template)
    if request.GET.get("export") == "xlsx":
        headers = [_("维度"), _("基本值"), _("目标值"), _("实际满意率"), _("样本数"), _("不满意项")]
        headers += [f"{b}" for b in shown]
        rows = (
            [
                r["dimension"].name,
                selectors.pct(r["base"]),
                selectors.pct(r["target"]),
                selectors.pct(r["actual"]),
                r["answers"],
                r["unsatisfied"],
                *[selectors.pct(b["rate"]) for b in r["branches"]],
            ]
            for r in data["rows"]
        )
        return xlsx_response(_("满意度目标完成情况"), _("满意度"), headers, rows)
    chart = {
        "labels": [r["dimension"].name for r in data["rows"]],
        "actual": [None if r["actual"] is None else round(r["actual"] * 100, 1) for r in data["rows"]],
        "base": [None if r["base"] is None else round(r["base"] * 100, 1) for r in data["rows"]],
        "target": [None if r["target"] is None else round(r["target"] * 100, 1) for r in data["rows"]],
        "branches": [
            {
                "label": str(b),
                "data": [
                    None if r["branches"][i]["rate"] is None else round(r["branches"][i]["rate"] * 100, 1)
                    for r in data["rows"]
                ],
            }
            for i, b in enumerate(shown)
        ],
    }
    return render(
        request,
        "surveys/results.html",
        {
            "templates": templates,
            "template": template,
            "year": year,
            "branches": branches,
            "branch": branch,
            "shown": shown,
            "data": data,
            "matrix": matrix,
            "matrix_json": _matrix_json(matrix),
            "chart_json": json.dumps(chart, ensure_ascii=False),
            "unsatisfied": unsatisfied,
            "can_manage": has_global(request.user, Target, "change"),
        },
    )


def _matrix_json(matrix) -> str:
    return json.dumps(
        {
            "points": [
                {
                    "label": p["dimension"].name,
                    "x": p["importance"],
                    "y": round(p["rate"] * 100, 1),
                    "quadrant": p["quadrant"],
                }
                for p in matrix["points"]
            ],
            "x_mid": matrix["x_mid"],
            "y_mid": None if matrix["y_mid"] is None else round(matrix["y_mid"] * 100, 1),
            "labels": {k: str(v) for k, v in selectors.QUADRANTS.items()},
            "axes": {"x": _("重要性系数"), "y": _("满意率(%)")},
        },
        ensure_ascii=False,
    )


@login_required
def matrix(request):
    """The priority matrix (行动重点, R24) for the group or one branch."""
    _require(request.user, "view", Survey)
    templates, template, year, branches, branch = _analysis_params(request)
    data = selectors.priority_matrix(request.user, template=template, year=year, branch=branch)
    # R102, R108: each dimension's improvement plan, and whether the user may make one here (a
    # branch's manager plans for their branch, group marketing for the group or any branch).
    plan_branch_id = branch.pk if branch else None
    if branch is None and not has_global(request.user, ImprovementPlan, "add"):
        plan_branch_id = request.user.branch_id
    plans = improvements.plan_links(request.user, template=template, branch_id=plan_branch_id)
    for p in data["points"]:
        p["plan"] = plans.get(p["dimension"].pk)
    return render(
        request,
        "surveys/matrix.html",
        {
            "templates": templates,
            "template": template,
            "year": year,
            "branches": branches,
            "branch": branch,
            "matrix": data,
            "matrix_json": _matrix_json(data),
            "plan_column": True,
            "plan_branch_id": plan_branch_id,
            "may_plan": improvements.may_plan(request.user, plan_branch_id)
            and (plan_branch_id is not None or branch is None),
        },
    )


# -- templates and targets (R20, R23) -------------------------------------------------------------


@login_required
def template_list(request):
    if not may_browse_templates(request.user):
        raise PermissionDenied
    qs = SurveyTemplate.objects.restrict(request.user, "view").prefetch_related("dimensions")
    search = request.GET.get("q", "").strip()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(name_en__icontains=search))
    page = Paginator(qs.order_by("-is_default", "name"), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "surveys/template_list.html",
        {"page": page, "can_manage": has_global(request.user, SurveyTemplate, "change")},
    )


@login_required
def template_detail(request, pk):
    if not may_browse_templates(request.user):
        raise PermissionDenied
    template = get_object_or_404(SurveyTemplate.objects.restrict(request.user, "view"), pk=pk)
    dimensions = template.dimensions.prefetch_related("questions", "targets").order_by("order")
    return render(
        request,
        "surveys/template_detail.html",
        {
            "template": template,
            "dimensions": dimensions,
            "year": timezone.localdate().year,
            "can_manage": has_global(request.user, SurveyTemplate, "change"),
        },
    )


@login_required
def template_edit(request, pk=None):
    """Group marketing edit a template, its dimensions (importance weights) and questions."""
    _require_marketing(request.user)
    template = None
    if pk is not None:
        template = get_object_or_404(SurveyTemplate.objects.restrict(request.user, "change"), pk=pk)
    form = TemplateForm(request.POST or None, instance=template, prefix="t")
    dims = DimensionFormSet(request.POST or None, instance=template or SurveyTemplate(), prefix="d")
    questions = question_formset(template, request.POST or None) if template else None
    if request.method == "POST":
        valid = form.is_valid() and dims.is_valid() and (questions is None or questions.is_valid())
        if valid:
            with transaction.atomic():
                obj = form.save(commit=False)
                if not obj.code:
                    obj.code = f"tpl-{timezone.now():%Y%m%d%H%M%S}"
                obj.full_clean()
                obj.save()
                if obj.is_default:
                    SurveyTemplate.objects.exclude(pk=obj.pk).update(is_default=False)
                dims.instance = obj
                dims.save()
                if questions is not None:
                    questions.save()
            messages.success(request, _("调查模板已保存。"))
            return redirect("surveys:template-detail", pk=obj.pk)
    return render(
        request,
        "surveys/template_form.html",
        {"template": template, "form": form, "dims": dims, "questions": questions},
    )


@login_required
def targets(request):
    """Base and target values per dimension and year (R23); group marketing edit them."""
    _require(request.user, "view", Target)
    templates, template, year, _branches, _branch = _analysis_params(request)
    can_manage = has_global(request.user, Target, "change")
    dims = list(template.dimensions.order_by("order"))
    existing = {t.dimension_id: t for t in Target.objects.filter(dimension__template=template, year=year)}
    errors = {}
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        parsed = {}
        for d in dims:
            base, target = (
                request.POST.get(f"base-{d.pk}", "").strip(),
                request.POST.get(f"target-{d.pk}", "").strip(),
            )
            if not base and not target:
                continue
            try:
                parsed[d] = (services.Decimal(base) / 100, services.Decimal(target) / 100)
            except (ArithmeticError, ValueError):
                errors[d.pk] = _("请输入 0-100 之间的数字。")
        if not errors:
            try:
                with transaction.atomic():
                    for d, (base, target) in parsed.items():
                        try:
                            services.target_set(
                                dimension=d, year=year, base=base, target=target, by=request.user
                            )
                        except ValidationError as exc:
                            errors[d.pk] = " ".join(exc.messages)
                    if errors:
                        raise ValidationError("rollback")
            except ValidationError:
                pass
            else:
                messages.success(request, _("满意度目标已保存。"))
                return redirect(f"{request.path}?template={template.pk}&year={year}")
    rows = [
        {
            "dimension": d,
            "base": request.POST.get(f"base-{d.pk}")
            if errors
            else (existing[d.pk].base * 100 if d.pk in existing else ""),
            "target": request.POST.get(f"target-{d.pk}")
            if errors
            else (existing[d.pk].target * 100 if d.pk in existing else ""),
            "error": errors.get(d.pk),
        }
        for d in dims
    ]
    return render(
        request,
        "surveys/targets.html",
        {"templates": templates, "template": template, "year": year, "rows": rows, "can_manage": can_manage},
    )


# -- campaigns (R25a) -----------------------------------------------------------------------------


@login_required
def campaign_list(request):
    _require(request.user, "view", Campaign)
    qs = Campaign.objects.restrict(request.user, "view").select_related("template")
    status = request.GET.get("status", "")
    if status in Campaign.Status.values:
        qs = qs.filter(status=status)
    search = request.GET.get("q", "").strip()
    if search:
        qs = qs.filter(name__icontains=search)
    page = Paginator(qs.order_by("-opens_on", "-pk"), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "surveys/campaign_list.html",
        {"page": page, "can_manage": has_global(request.user, Campaign, "add"), "status": status},
    )


@login_required
def campaign_create(request):
    _require_marketing(request.user)
    form = CampaignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = services.campaign_open(
                by=request.user,
                template=data["template"],
                name=data["name"],
                deadline=data["deadline"],
                grades=data["grades"],
                project_within_days=data["project_within_days"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("调查活动已发起,共 %(n)d 家客户。") % {"n": campaign.surveys.count()})
            return redirect("surveys:campaign-detail", pk=campaign.pk)
    return render(request, "surveys/campaign_form.html", {"form": form})


@login_required
def campaign_detail(request, pk):
    """A campaign's progress by branch (sent / answered / expired) in the user's scope (R25a)."""
    _require(request.user, "view", Campaign)
    campaign = get_object_or_404(
        Campaign.objects.restrict(request.user, "view").select_related("template"), pk=pk
    )
    surveys = Survey.objects.restrict(request.user, "view").filter(campaign=campaign)
    progress = []
    for branch in Branch.objects.restrict(request.user, "view").filter(pk__in=surveys.values("branch_id")):
        stats = services._stats(surveys.filter(branch=branch))
        stats["branch"] = branch
        stats["can_send"] = (
            can(request.user, "change", Survey)
            and Survey.objects.restrict(request.user, "change")
            .filter(campaign=campaign, branch=branch, status=Survey.Status.DRAFT)
            .exists()
        )
        progress.append(stats)
    reports = list(
        CampaignBranchReport.objects.restrict(request.user, "view")
        .filter(campaign=campaign)
        .select_related("branch")
    )
    # The branches' reports side by side: one row per dimension, one column per branch.
    names = {}
    for r in reports:
        for d in r.summary.get("dimensions", []):
            names.setdefault(d["dimension"], d["name"])
    report_rows = [
        {
            "name": name,
            "cells": [
                next((d for d in r.summary.get("dimensions", []) if d["dimension"] == dim), None)
                for r in reports
            ],
        }
        for dim, name in names.items()
    ]
    return render(
        request,
        "surveys/campaign_detail.html",
        {
            "campaign": campaign,
            "progress": progress,
            "reports": reports,
            "report_rows": report_rows,
            "can_manage": has_global(request.user, Campaign, "change"),
            "group_summary": campaign.summary if has_global(request.user, Campaign, "view") else None,
            # R106: the planned dimensions this campaign measures, before and after.
            "effects": improvements.campaign_effects(request.user, campaign)
            if can(request.user, "view", ImprovementPlan)
            else [],
        },
    )


@login_required
@require_POST
def campaign_send(request, pk):
    _require(request.user, "change", Survey)
    campaign = get_object_or_404(Campaign.objects.restrict(request.user, "view"), pk=pk)
    try:
        branch = posted_object(
            Branch.objects.restrict(request.user, "change"), request.POST.get("branch"), field="branch"
        )
        n = services.campaign_send_branch(campaign=campaign, branch=branch, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已向 %(n)d 家客户发送问卷链接。") % {"n": n})
    return redirect("surveys:campaign-detail", pk=pk)


@login_required
@require_POST
def campaign_close(request, pk):
    _require_marketing(request.user)
    campaign = get_object_or_404(Campaign.objects.restrict(request.user, "change"), pk=pk)
    services.campaign_close(campaign=campaign)
    messages.success(request, _("调查活动已截止,各分子公司调查报告已汇总。"))
    return redirect("surveys:campaign-detail", pk=pk)
