"""The page of one fanned-out round (R55) for those who start it (administrators and group
marketing): its parts branch by branch, why a failed part failed, and the retry button. One view
pair serves the closing of a month and the half-year round (assessments.rounds.services)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import services
from .services import ASSESSMENT, CLOSE, FanOut


def _round(request, fan_out: FanOut, label: str):
    """The round through ``restrict`` (404 when there is none), for a role that may retry it
    (403 otherwise). Branch people never reach it: the errors of every branch are on it."""
    if not fan_out.may_retry(request.user):
        raise PermissionDenied(str(fan_out.retry_denied))
    rounds = fan_out.round_model.objects.restrict(request.user, "view")
    return get_object_or_404(rounds, **{fan_out.label_field: label[:10]})


def _parts(fan_out: FanOut, rnd) -> list[dict]:
    rows = []
    for part in fan_out.parts(rnd).select_related("branch").order_by("branch__sort_order", "branch__code"):
        if getattr(part, fan_out.done_field) is not None:
            state, label = "done", _("已完成")
        elif part.compute_failed_at is not None:
            state, label = "failed", _("失败")
        else:
            state, label = "pending", _("处理中")
        rows.append({"part": part, "branch": part.branch, "state": state, "label": label})
    return rows


def _detail(request, fan_out: FanOut, label: str, *, title: str, back: str, back_label: str):
    rnd = _round(request, fan_out, label)
    parts = _parts(fan_out, rnd)
    return render(
        request,
        "assessments/rounds/round_detail.html",
        {
            "title": title % {"label": fan_out.label(rnd)},
            "round": rnd,
            "parts": parts,
            "failed": [p for p in parts if p["state"] == "failed"],
            "retry_url": fan_out.url(rnd, fan_out.retry_route),
            "retry_label": fan_out.retry_label,
            "running": rnd.state == fan_out.round_model.State.RUNNING,
            "back": back,
            "back_label": back_label,
        },
    )


def _retry(request, fan_out: FanOut, label: str):
    rnd = _round(request, fan_out, label)
    try:
        rnd, branches = services.round_retry(fan_out, rnd=rnd, by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("已重新提交 %(n)s 家分子公司的计算,进度见下表。") % {"n": len(branches)},
        )
    return redirect(fan_out.url(rnd))


@login_required
@require_GET
def round_detail(request, half_year):
    return _detail(
        request,
        ASSESSMENT,
        half_year,
        title=_("%(label)s 半年考核指标计算"),
        back=reverse("assessments:assessment-open"),
        back_label=_("开始半年考核"),
    )


@login_required
@require_POST
def round_retry(request, half_year):
    """重新计算: queue the failed branches' indicators again (R55)."""
    return _retry(request, ASSESSMENT, half_year)


@login_required
@require_GET
def close_detail(request, period):
    return _detail(
        request,
        CLOSE,
        period,
        title=_("%(label)s 月度截止"),
        back=reverse("assessments:close-list"),
        back_label=_("月度截止"),
    )


@login_required
@require_POST
def close_retry(request, period):
    """重新执行: close the failed branches' reports again (R55)."""
    return _retry(request, CLOSE, period)
