"""Pages of the spreadsheet import (R36): upload, preview with row-by-row errors, confirm,
progress. Thin: the reading, checking and saving live in ``clients.imports.services``; the work
runs in Celery tasks, and the pages poll the job row (``ImportJob``) with htmx."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.access import can

from ..models import Client, ImportJob
from . import services as importing
from . import tasks as tasks_import
from .spreadsheet import COLUMNS

MAX_UPLOAD = 10 * 1024 * 1024


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


def _job(request, job, *, report: bool = True) -> ImportJob:
    """The job, if it is in the user's scope (their own); anyone else's does not exist (404).
    ``report=False`` leaves out the row report (megabytes for 10,000 rows), which the polled
    status does not show."""
    jobs = ImportJob.objects.restrict(request.user, "view")
    return get_object_or_404(jobs if report else jobs.defer("report"), pk=job)


def job_status(job: ImportJob) -> dict:
    """What the status endpoint and the API tell of a job."""
    return {
        "id": str(job.pk),
        "state": job.state,
        "phase": job.phase,
        "done": job.done,
        "total": job.total,
        "summary": job.summary or None,
        "error": job.error,
        "created": job.created,
        "stalled": job.stalled,
    }


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    _require_add(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = importing.import_job_create(user=request.user, upload=form.cleaned_data["file"])
        enqueue(job)
        return redirect("clients:import-preview", job=job.pk)
    rules = [(c, importing.COLUMN_RULES[c], c in importing.REQUIRED) for c in COLUMNS]
    jobs = ImportJob.objects.restrict(request.user, "view").defer("report")[:10]
    return render(request, "clients/import_start.html", {"form": form, "rules": rules, "jobs": jobs})


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
    job = _job(request, job)
    rows = [] if job.running else (job.report or {}).get("rows", [])
    only_errors = request.GET.get("errors") == "1"
    if only_errors:
        rows = [r for r in rows if r["errors"]]
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "clients/import_preview.html",
        {
            "job": job,
            "job_id": str(job.pk),
            "summary": job.summary,
            "page": page,
            "only_errors": only_errors,
            "running": job.running,
        },
    )


@login_required
@require_POST
def import_confirm(request, job):
    _require_add(request)
    job = _job(request, job)
    try:
        job = importing.import_confirm(job=job)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("clients:import-preview", job=job.pk)
    enqueue(job)
    return redirect("clients:import-preview", job=job.pk)


def enqueue(job: ImportJob) -> None:
    from crm.tasks import enqueue as enqueue_task

    """Queue the task of the job's phase once the transaction commits."""
    job_id = str(job.pk)
    task = tasks_import.import_commit if job.phase == ImportJob.Phase.COMMIT else tasks_import.import_validate
    # The broker away: the job stays queued, is shown as stopped after STALE_AFTER and its
    # user runs it again (import_retry); the page says the queue is unavailable.
    transaction.on_commit(lambda: enqueue_task(task, job_id))


@login_required
@require_POST
def import_retry(request, job):
    """Run a stopped job's step again (its worker was lost)."""
    _require_add(request)
    job = _job(request, job)
    try:
        job = importing.import_retry(job=job)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("clients:import-preview", job=job.pk)
    enqueue(job)
    messages.info(request, _("已重新执行该导入任务。"))
    return redirect("clients:import-preview", job=job.pk)


@login_required
@require_GET
def import_status(request, job):
    """The job's progress: a fragment for htmx polling (which reloads the page once the job
    has finished), JSON otherwise."""
    _require_add(request)
    job = _job(request, job, report=False)
    if not request.headers.get("HX-Request"):
        return JsonResponse(job_status(job))
    response = render(
        request,
        "clients/import_status.html",
        {"job": job, "job_id": str(job.pk), "running": job.running},
    )
    if not job.running:
        response["HX-Redirect"] = reverse("clients:import-preview", kwargs={"job": job.pk})
    return response
