"""Pages of the spreadsheet import (R36): upload, preview with row-by-row errors, confirm,
progress. Thin: the reading, checking and saving live in ``clients.importing``; the work runs
in Celery tasks, and the pages poll the job's status with htmx."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.access import can

from ..models import Client
from . import services as importing
from . import tasks as tasks_import
from .spreadsheet import COLUMNS

MAX_UPLOAD = 10 * 1024 * 1024
RUNNING = ("queued", "running")


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("客户信息统计表(.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx", "class": "form-control"}),
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("请上传 .xlsx 格式的文件(可先下载导入模板)。"))
        if f.size > MAX_UPLOAD:
            raise forms.ValidationError(_("文件不能超过 10 MB。"))
        return f


def _require_add(request):
    if not can(request.user, "add", Client):
        raise PermissionDenied(_("您没有录入客户的权限。"))


def _job(request, job) -> dict:
    """The job, if it is this user's; anyone else's job does not exist for them (404)."""
    state = importing.job_read(str(job))
    if state is None or state.get("user_id") != request.user.pk:
        raise Http404
    return state


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    _require_add(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job_id = importing.job_create(user=request.user, upload=form.cleaned_data["file"])
        transaction.on_commit(lambda: tasks_import.import_validate.delay(job_id))
        return redirect("clients:import-preview", job=job_id)
    rules = [(c, importing.COLUMN_RULES[c], c in importing.REQUIRED) for c in COLUMNS]
    return render(request, "clients/import_start.html", {"form": form, "rules": rules})


@login_required
@require_GET
def import_template(request):
    _require_add(request)
    response = HttpResponse(
        importing.template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        "attachment; filename=\"client-import-template.xlsx\"; filename*=UTF-8''%E5%AE%A2%E6%88%B7%E4%BF%A1%E6%81%AF%E7%BB%9F%E8%AE%A1%E8%A1%A8-%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return response


@login_required
@require_GET
def import_preview(request, job):
    _require_add(request)
    state = _job(request, job)
    report = None if state["state"] in RUNNING else importing.load_report(str(job))
    rows = report["rows"] if report else []
    only_errors = request.GET.get("errors") == "1"
    if only_errors:
        rows = [r for r in rows if r["errors"]]
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "clients/import_preview.html",
        {
            "job": state,
            "job_id": str(job),
            "summary": (report or {}).get("summary") or state.get("summary"),
            "page": page,
            "only_errors": only_errors,
            "running": state["state"] in RUNNING,
        },
    )


@login_required
@require_POST
def import_confirm(request, job):
    _require_add(request)
    state = _job(request, job)
    summary = state.get("summary") or {}
    if state["state"] != "validated" or not summary.get("ok"):
        messages.error(request, _("该文件尚未通过校验,不能导入。请修改后重新上传。"))
        return redirect("clients:import-preview", job=job)
    importing.job_write(str(job), state="queued", phase="commit", done=0)
    job_id = str(job)
    transaction.on_commit(lambda: tasks_import.import_commit.delay(job_id))
    return redirect("clients:import-preview", job=job)


@login_required
@require_GET
def import_status(request, job):
    """The job's progress: a fragment for htmx polling (which reloads the page once the job
    has finished), JSON otherwise."""
    _require_add(request)
    state = _job(request, job)
    public = {k: state.get(k) for k in ("state", "phase", "done", "total", "summary", "error")}
    if not request.headers.get("HX-Request"):
        return JsonResponse(public)
    response = render(
        request,
        "clients/import_status.html",
        {"job": state, "job_id": str(job), "running": state["state"] in RUNNING},
    )
    if state["state"] not in RUNNING:
        response["HX-Redirect"] = reverse("clients:import-preview", kwargs={"job": job})
    return response
