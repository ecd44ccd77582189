"""The need's own page and its steps (R48-R53), and the client's rating page reached through
the personal link (R48, no login). Thin: reads through ``restrict`` (out of scope 404, a missing
role 403), writes through clients.needcare.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from crm.access import can, in_scope
from crm.attachments.pages import attachment_panel
from crm.forms import BIGINT_MAX
from crm.public_links import LinkError, rate_limited

from ..access.log import log_reads
from ..models import AccessLog, Need, NeedAttachment, NeedConflict
from . import services
from .forms import AssessForm, RatingForm, RatingLinkForm


def _require(user, action: str) -> None:
    if not can(user, action, Need):
        raise PermissionDenied(_("您的角色无权执行此操作。"))


def _need(request, pk, action: str = "view") -> Need:
    _require(request.user, action)
    qs = Need.objects.restrict(request.user, action).select_related(
        "client", "client__branch", "owner", "project", "rated_by", "assessed_by", "merged_into", "merged_by"
    )
    return get_object_or_404(qs, pk=pk)


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _link_key(need) -> str:
    return f"need-rating-link-{need.pk}"


def _conflicts(user, need) -> list:
    """R52: the contradictions marked on the need, each with the other need (in the user's scope)."""
    visible = Need.objects.restrict(user, "view")
    rows = (
        NeedConflict.objects.restrict(user, "view")
        .filter(Q(first=need) | Q(second=need))
        .select_related("first", "second", "marked_by")
    )
    out = []
    for conflict in rows:
        conflict.other = conflict.second if conflict.first_id == need.pk else conflict.first
        if visible.filter(pk=conflict.other.pk).exists():
            out.append(conflict)
    return out


def _detail(request, need, *, assess_form=None, attachment_form=None, status=200):
    """The need's page; ``attachment_form``: an upload refused, shown with its errors (R61)."""
    log_reads(request, [need], via=AccessLog.Via.PAGE)  # R4
    user = request.user
    may_change = in_scope(user, "change", need)
    timeline = need.history.select_related("history_user").order_by("history_date", "history_id")
    siblings = Need.objects.restrict(user, "view").filter(client_id=need.client_id).exclude(pk=need.pk)
    others = (
        list(siblings.exclude(status=Need.Status.MERGED).order_by("-received_at")[:100]) if may_change else []
    )
    return render(
        request,
        "clients/need_detail.html",
        {
            "need": need,
            "client": need.client,
            "may_change": may_change,
            "timeline": timeline,
            "rating_form": RatingForm(),
            "link_form": RatingLinkForm(),
            "assess_form": assess_form or AssessForm(instance=need),
            "similar": services.similar_needs(user, need),
            "conflicts": _conflicts(user, need),
            "merged_needs": list(siblings.filter(merged_into=need).order_by("merged_at")),
            "others": others,
            "open_statuses": list(Need.OPEN),
            "link": request.session.pop(_link_key(need), None),
            "attachments": attachment_panel(user, NeedAttachment, need, form=attachment_form),
        },
        status=status,
    )


@login_required
def need_detail(request, pk):
    """One need: what it is, its classification and assessment, how it was handled, the client's
    evaluation of the handling (or the forms to record it and to issue the link), and its
    history."""
    return _detail(request, _need(request, pk))


@login_required
@require_POST
def need_assess(request, pk):
    """R50: record the classification and assessment, based on the version the page showed; an
    error (or a stale version) shows the page again with what was typed."""
    need = _need(request, pk)
    if not in_scope(request.user, "change", need):
        raise PermissionDenied(_("您无权处理该客户需求。"))
    form = AssessForm(request.POST, instance=Need.objects.get(pk=need.pk))
    if form.is_valid():
        values = {name: form.cleaned_data[name] for name in services.ASSESSED_FIELDS}
        try:
            services.need_assess(
                need=need, by=request.user, expected_version=form.cleaned_data.get("version"), **values
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("需求分类与评估已保存。"))
            return redirect("clients:need-detail", pk=need.pk)
    return _detail(request, _need(request, pk), assess_form=form)


@login_required
@require_POST
def need_rate(request, pk):
    """R48: staff record the client's evaluation of a done need's handling."""
    need = _need(request, pk)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.need_rate(need=need, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("客户评价已记录。"))
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("clients:need-detail", pk=need.pk)


@login_required
@require_POST
def need_rating_link(request, pk):
    """R48: issue the personal rating link; it is shown once (only its hash is kept)."""
    need = _need(request, pk)
    form = RatingLinkForm(request.POST)
    if form.is_valid():
        try:
            need, url = services.need_rating_link(need=need, by=request.user, days=form.cleaned_data["days"])
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            request.session[_link_key(need)] = url
            messages.success(request, _("已生成客户评价链接,请复制发送给客户。"))
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("clients:need-detail", pk=need.pk)


@never_cache
def need_rating_public(request, token):
    """R48: the client rates how the need was handled, through the personal link, without a
    login: the group's name, the need as the client stated it and the three choices; nothing
    else of the archive. Used, expired or tampered links get a polite page; nothing is recorded."""
    english = request.GET.get("lang") == "en" or request.POST.get("lang") == "en"
    with translation.override("en" if english else "zh-hans"):
        if rate_limited(request):
            return render(request, "clients/need_rating_closed.html", {"reason": "rate"}, status=429)
        try:
            need = services.need_for_rating_token(token)
        except LinkError as exc:
            status = 404 if exc.reason == "invalid" else 410
            return render(request, "clients/need_rating_closed.html", {"reason": exc.reason}, status=status)
        form = RatingForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.need_rate_public(token=token, **form.cleaned_data)
            except LinkError as exc:
                return render(request, "clients/need_rating_closed.html", {"reason": exc.reason}, status=410)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return render(request, "clients/need_rating_thanks.html", {"english": english})
        return render(
            request,
            "clients/need_rating_public.html",
            {"form": form, "english": english, "need": need, "expires_at": need.rating_link_expires_at},
        )


def _posted_need(request, field: str, need: Need) -> Need | None:
    """The other need a step names (``into``, ``other``): an id of a need in the user's scope,
    else the form's error (posted_object: never a 500, out of scope 404)."""
    from crm.forms import posted_object

    try:
        return posted_object(
            Need.objects.restrict(request.user, "view"), request.POST.get(field), field=field
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return None


@login_required
@require_POST
def need_merge(request, pk):
    """R51: merge this (duplicate) need into another need of the same client."""
    need = _need(request, pk)
    into = _posted_need(request, "into", need)
    if into is not None:
        try:
            services.need_merge(
                duplicate=need, into=into, by=request.user, note=request.POST.get("note", "")[:2000]
            )
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("已作为重复需求合并,保留的需求记录不变。"))
            return redirect("clients:need-detail", pk=into.pk)
    return redirect("clients:need-detail", pk=need.pk)


@login_required
@require_POST
def need_conflict(request, pk):
    """R52: mark this need and another of the same client as contradicting each other."""
    need = _need(request, pk)
    other = _posted_need(request, "other", need)
    if other is not None:
        try:
            services.need_mark_conflict(
                need=need, other=other, by=request.user, note=request.POST.get("note", "")
            )
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("已标记为矛盾需求。"))
    return redirect("clients:need-detail", pk=need.pk)


@login_required
def need_duplicates(request):
    """R53: the likely duplicate needs, client by client (same client, similar content, one of
    the pair still open), with the filter by branch and client and the Excel export of exactly
    what is shown."""
    user = request.user
    _require(user, "view")
    from ..filters import _branches

    client_id = request.GET.get("client") or None
    branch_id = request.GET.get("branch") or None
    try:
        client_ids = [int(client_id)] if client_id else None
        branch_id = int(branch_id) if branch_id else None
    except ValueError:
        client_ids, branch_id = [0], None  # not an id: no rows (as a row filter does)
    if any(abs(v) > BIGINT_MAX for v in [*(client_ids or []), branch_id or 0]):
        client_ids, branch_id = [0], None
    pairs = services.likely_duplicates(user, client_ids=client_ids, branch_id=branch_id)
    shown = Need.objects.filter(pk__in=[p["keep"]["pk"] for p in pairs]).select_related("client")
    log_reads(
        request, list(shown), via=AccessLog.Via.EXPORT if request.GET.get("export") else AccessLog.Via.PAGE
    )
    if request.GET.get("export") == "xlsx":
        return _duplicates_export(pairs)
    groups: dict[int, dict] = {}
    for pair in pairs:
        groups.setdefault(
            pair["client_id"], {"client": pair["client"], "client_id": pair["client_id"], "pairs": []}
        )
        groups[pair["client_id"]]["pairs"].append(pair)
    return render(
        request,
        "clients/need_duplicates.html",
        {
            "groups": list(groups.values()),
            "count": len(pairs),
            "branches": _branches(request),
            "branch_id": branch_id,
            "client_id": client_id,
            "statuses": dict(Need.Status.choices),
        },
    )


def _duplicates_export(pairs):
    """R36: exactly the pairs the page shows."""
    from crm.exports import xlsx_response

    statuses = dict(Need.Status.choices)
    headers = [_("客户"), _("相似度"), _("保留的需求"), _("状态"), _("可能重复的需求"), _("状态")]
    rows = (
        [
            p["client"],
            f"{round(p['similarity'] * 100)}%",
            p["keep"]["description"],
            str(statuses.get(p["keep"]["status"], "")),
            p["duplicate"]["description"],
            str(statuses.get(p["duplicate"]["status"], "")),
        ]
        for p in pairs
    )
    return xlsx_response(_("可能重复的需求"), _("可能重复的需求"), headers, rows)
