"""Pages of the outbox: the administrator's deliveries (R114) and each person's own settings
(R112, R113)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.exports import streamed_xlsx_response
from crm.forms import apply_errors

from . import services
from .access import is_administrator
from .filters import DeliveryFilter

PAGE_SIZE = 50
SORTS = {"-created": "-created_at", "created": "created_at", "state": "state", "channel": "channel"}


def _deliveries(user):
    from crm.models import Delivery

    if not is_administrator(user):
        raise PermissionDenied(_("只有系统管理员可以查看通知投递。"))
    return Delivery.objects.restrict(user, "view").select_related("notice", "recipient")


@login_required
def delivery_list(request):
    """R114: every delivery, filtered (failed, by channel, by person, by date), exported as
    shown, and the failed ones re-sent, one or the selected."""
    rows = _deliveries(request.user)
    flt = DeliveryFilter(request.GET or None, queryset=rows, request=request)
    rows = flt.qs if flt.is_bound and flt.is_valid() else rows
    sort = request.GET.get("sort", "-created")
    rows = rows.order_by(SORTS.get(sort, "-created_at"), "-pk")
    if request.GET.get("export") == "xlsx":
        headers = [_("时间"), _("渠道"), _("发送对象"), _("接收人"), _("通知"), _("状态"), _("尝试次数"),
                   _("最近错误"), _("发送时间")]  # fmt: skip
        data = (
            [d.created_at, d.channel_label, d.target, d.recipient.display_name if d.recipient else "", d.notice.title,
             d.get_state_display(), d.attempts, d.last_error, d.sent_at or ""]
            for d in rows.iterator(chunk_size=1000)
        )  # fmt: skip
        return streamed_xlsx_response(_("通知投递"), _("通知投递"), headers, data)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "crm/delivery_list.html", {"page": page, "filter": flt, "sort": sort})


@login_required
@require_POST
def delivery_resend(request, pk):
    """R114: re-send one failed delivery."""
    delivery = get_object_or_404(_deliveries(request.user), pk=pk)
    try:
        services.delivery_resend(delivery=delivery, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已重新发送。"))
    return (
        redirect(request.POST.get("next") or "delivery-list") if _safe(request) else redirect("delivery-list")
    )


@login_required
@require_POST
def deliveries_resend(request):
    """R114: re-send the selected failed deliveries (the others are left as they are)."""
    ids = [int(x) for x in request.POST.getlist("ids") if str(x).isdigit() and len(str(x)) < 18]
    rows = _deliveries(request.user).filter(pk__in=ids)
    count = services.deliveries_resend(deliveries=list(rows), by=request.user)
    messages.success(request, _("已重新发送 %(n)d 条投递。") % {"n": count})
    return (
        redirect(request.POST.get("next") or "delivery-list") if _safe(request) else redirect("delivery-list")
    )


def _safe(request) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    return not target or url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})


@login_required
def preferences(request):
    """R112, R113: the person's own language and how each kind of notice reaches them."""
    from .forms import PreferencesForm
    from .kinds import MANDATORY_VERBS

    user = request.user
    initial = {
        "language": user.language,
        **{f"kind_{k}": m for k, m in services.preferences_of(user).items()},
    }
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.preferences_set(user=user, language=form.cleaned_data["language"], modes=form.modes())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if user.language:
                translation.activate(user.language)
            messages.success(request, _("个人设置已保存。"))
            response = redirect("preferences")
            if user.language:
                from django.conf import settings

                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language)
            return response
    return render(request, "crm/preferences.html", {"form": form, "mandatory": sorted(MANDATORY_VERBS)})
