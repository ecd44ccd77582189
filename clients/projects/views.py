"""Pages of design fees and on-site service (seed 000; R56-R60). Thin: reads through
``restrict`` (out of scope 404, a missing role 403), writes through clients.projects.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.access import can, has_global
from crm.forms import apply_errors

from ..models import FeeCollection, Project, SiteService
from . import selectors, services
from .forms import FeeCollectionForm, ReverseForm, SettleForm, SiteServiceForm, UnsettledFilter

PAGE_SIZE = 25
SORTS = {
    "completed": "completed_on",
    "-completed": "-completed_on",
    "outstanding": "fee_outstanding",
    "-outstanding": "-fee_outstanding",
    "client": "client__name",
    "-client": "-client__name",
    "branch": "branch__sort_order",
    "-branch": "-branch__sort_order",
}
# The site service records a project page shows (the API lists them all).
SERVICES_SHOWN = 100


def _require(user, action, model) -> None:
    if not can(user, action, model):
        raise PermissionDenied(_("您的角色无权执行此操作。"))


def _project(request, pk, action="view") -> Project:
    _require(request.user, action, Project)
    qs = Project.objects.restrict(request.user, action).annotate(**selectors.fee_annotations())
    return get_object_or_404(qs.select_related("client", "branch", "department", "fee_settled_by"), pk=pk)


def _detail_url(project) -> str:
    return reverse("clients:project-detail", kwargs={"pk": project.pk})


@login_required
def project_detail(request, pk):
    """The project's page: its design fee (collected, outstanding, settled; R56-R58), the
    collections, and the on-site service records (R60), with the steps the user may take."""
    user = request.user
    project = _project(request, pk)
    collections = list(
        FeeCollection.objects.restrict(user, "view")
        .filter(project=project)
        .select_related("recorded_by", "reverses")
        .order_by("-collected_on", "-pk")
    )
    reversed_ids = {c.reverses_id for c in collections if c.reverses_id}
    site_services = list(
        SiteService.objects.restrict(user, "view")
        .filter(project=project)
        .select_related("recorded_by")
        .order_by("-served_on", "-pk")[:SERVICES_SHOWN]
    )
    may_record = services.may_record(user, project, memory=True)
    may_decide = services.may_decide(user, project, memory=True)
    history = list(project.history.select_related("history_user").order_by("-history_date")[:20])
    return render(
        request,
        "clients/project_detail.html",
        {
            "project": project,
            "client": project.client,
            "collections": collections,
            "reversed_ids": reversed_ids,
            "site_services": site_services,
            "may_record": may_record,
            "may_collect": may_record and project.design_fee > 0 and not project.fee_settlement,
            "may_settle": may_decide
            and not project.fee_settlement
            and project.completed_on is not None
            and project.fee_outstanding > 0,
            "may_reverse": may_decide,
            "may_add_service": may_record and project.phase in services.SITE_PHASES,
            "collection_form": FeeCollectionForm(initial={"collected_on": timezone.localdate()}),
            "settle_form": SettleForm(),
            "reverse_form": ReverseForm(),
            "history": history,
            "on_site": project.phase in services.SITE_PHASES,
            "days_since": (timezone.localdate() - project.completed_on).days
            if project.completed_on
            else None,
        },
    )


def _step_page(request, project, form, title, template="clients/project_step_form.html", **extra):
    return render(
        request,
        template,
        {"project": project, "client": project.client, "form": form, "title": title, **extra},
    )


@login_required
@require_http_methods(["GET", "POST"])
def fee_collection_add(request, pk):
    """R57: record a collection of the design fee (R56: it may settle the project)."""
    project = _project(request, pk, "change")
    if not services.may_record(request.user, project):
        raise PermissionDenied(_("只有项目所属单位的人员或集团市场营销部可以登记。"))
    form = FeeCollectionForm(request.POST or None, initial={"collected_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            from ..views import _save_once

            saved = _save_once(
                request,
                form,
                "fee-collection",
                lambda f: setattr(
                    f,
                    "instance",
                    services.fee_collection_record(
                        project=project,
                        by=request.user,
                        amount=data["amount"],
                        collected_on=data["collected_on"],
                        note=data.get("note", ""),
                    ),
                ),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if saved:
                project.refresh_from_db()
                if project.fee_settlement:
                    messages.success(request, _("收款已登记,设计费已收齐结清。"))
                else:
                    messages.success(request, _("收款已登记。"))
            else:
                messages.info(request, _("此表单已提交过,未重复保存。"))
            return redirect(_detail_url(project))
    return _step_page(request, project, form, _("登记设计费收款"))


@login_required
@require_POST
def fee_collection_reverse(request, pk):
    """R57: the branch manager reverses a wrong collection with a reason."""
    _require(request.user, "change", FeeCollection)
    collection = get_object_or_404(
        FeeCollection.objects.restrict(request.user, "change").select_related("project"), pk=pk
    )
    if not services.may_decide(request.user, collection.project):
        raise PermissionDenied(_("只有项目所属分公司的经营部负责人可以执行此操作。"))
    form = ReverseForm(request.POST)
    if form.is_valid():
        try:
            services.fee_collection_reverse(collection=collection, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("该笔收款已冲销。"))
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect(_detail_url(collection.project))


@login_required
@require_http_methods(["GET", "POST"])
def project_settle(request, pk):
    """R58: the branch manager settles the rest of the design fee by agreement, with a note."""
    project = _project(request, pk, "change")
    if not services.may_decide(request.user, project):
        raise PermissionDenied(_("只有项目所属分公司的经营部负责人可以执行此操作。"))
    form = SettleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.project_settle(project=project, by=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("设计费已协商结清。"))
            return redirect(_detail_url(project))
    return _step_page(request, project, form, _("协商结清设计费"))


@login_required
@require_http_methods(["GET", "POST"])
def site_service_add(request, pk):
    """R60: record an on-site service of the project."""
    project = _project(request, pk, "change")
    if not services.may_record(request.user, project):
        raise PermissionDenied(_("只有项目所属单位的人员或集团市场营销部可以登记。"))
    service = SiteService(project=project, served_on=timezone.localdate())
    form = SiteServiceForm(request.POST or None, instance=service)
    return _site_service_form(request, project, form, _("登记现场服务记录"))


@login_required
@require_http_methods(["GET", "POST"])
def site_service_edit(request, pk):
    """R60: edit (or close) an on-site service record."""
    _require(request.user, "change", SiteService)
    service = get_object_or_404(
        SiteService.objects.restrict(request.user, "change").select_related("project__client"), pk=pk
    )
    project = _project(request, service.project_id)
    form = SiteServiceForm(request.POST or None, instance=service)
    return _site_service_form(request, project, form, _("编辑现场服务记录"), service=service)


def _site_service_form(request, project, form, title, service=None):
    if request.method == "POST" and form.is_valid():
        try:
            from ..views import _save_once

            saved = _save_once(
                request,
                form,
                "site-service",
                lambda f: services.site_service_save(service=f.instance, by=request.user),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if saved:
                messages.success(request, _("现场服务记录已保存。"))
            else:
                messages.info(request, _("此表单已提交过,未重复保存。"))
            return redirect(_detail_url(project) + "#site-services")
    timeline = (
        list(service.history.select_related("history_user").order_by("-history_date")[:20]) if service else []
    )
    return _step_page(
        request, project, form, title, template="clients/site_service_form.html", timeline=timeline
    )


@login_required
def unsettled_list(request):
    """R59: completed projects whose design fee is not settled, with the outstanding amount and
    the days since completion; a branch's people their branch's, the group roles every branch's."""
    user = request.user
    _require(user, "view", Project)
    qs = selectors.unsettled(user)
    flt = UnsettledFilter(request.GET or None, queryset=qs, request=request)
    qs = flt.qs if flt.is_bound and flt.is_valid() else qs
    sort = request.GET.get("sort", "completed")
    if sort not in SORTS:
        sort = "completed"
    qs = qs.order_by(SORTS[sort], "pk")
    today = timezone.localdate()
    if request.GET.get("export") == "xlsx":
        return _export(qs, today)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for p in page.object_list:
        p.days_since = (today - p.completed_on).days
    return render(
        request,
        "clients/project_unsettled_list.html",
        {"page": page, "filter": flt, "sort": sort, "all_branches": has_global(user, Project, "view")},
    )


def _export(qs, today):
    """R36: exactly the rows the list shows, in its order; amounts in yuan."""
    from crm.exports import xlsx_response

    headers = [_("项目名称"), _("项目编号"), _("客户"), _("承接单位"), _("项目经理"), _("竣工日期"),
               _("竣工天数"), _("设计费(元)"), _("已收(元)"), _("未收(元)")]  # fmt: skip

    def out():
        for p in qs:
            yield [
                p.name, p.code, p.client.name, p.branch.name, p.manager_name, p.completed_on,
                (today - p.completed_on).days, p.design_fee, p.fee_collected, p.fee_outstanding,
            ]  # fmt: skip

    return xlsx_response(_("竣工未结清项目"), _("竣工未结清项目"), headers, out())
