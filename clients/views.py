"""Pages of the client archive (domain.md section 2). Thin: every read goes through
``restrict`` (out of scope 404, missing role 403), every write through services.py."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, ExpressionWrapper, prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from crm import prepared
from crm.access import can, in_scope, scope_fingerprint
from crm.attachments.pages import attachment_panel
from crm.concurrency import lock_values
from crm.exports import streamed_xlsx_response, xlsx_response
from crm.forms import add_integrity_error, apply_errors

from . import grading, panels, selectors, services
from .access.log import log_queryset_reads, log_reads, log_tab_read
from .access.selectors import grant_of, granted_only
from .facts import fact_annotations, remember_facts
from .filters import ClientFilter, NeedFilter
from .forms import (
    ClientForm,
    ContactForm,
    GradeForm,
    NeedForm,
    NeedRespondForm,
    ProjectForm,
    VisitForm,
    VisitPlanForm,
)
from .giveups.views import client_give_up
from .imports.spreadsheet import COLUMNS, EXPORT_ONLY_COLUMNS, EXPORT_WIDTHS, export_rows
from .models import (
    AccessLog,
    Client,
    Contact,
    CultivationPlan,
    Grade,
    Need,
    Project,
    Visit,
    VisitAttachment,
    VisitPlan,
)
from .panels import tabs as registered_tabs

PAGE_SIZE = 25
CLIENT_SORTS = {
    "name": "name",
    "-name": "-name",
    "grade": "grade",
    "-grade": "-grade",
    "stage": "stage",
    "-stage": "-stage",
    "branch": "branch__sort_order",
    "-branch": "-branch__sort_order",
    "updated": "updated_at",
    "-updated": "-updated_at",
}
NEED_SORTS = {
    "due": "response_due_at",
    "-due": "-response_due_at",
    "received": "received_at",
    "-received": "-received_at",
}


def _require(user, action, model):
    if not can(user, action, model):
        raise PermissionDenied(_("您的角色无权执行此操作。"))


def _get(request, model, pk, action="view", **select):
    """The object if in the user's scope for ``action`` (else 404); 403 without the role."""
    _require(request.user, action, model)
    qs = model.objects.restrict(request.user, action)
    if select:
        qs = qs.select_related(*select["related"])
    return get_object_or_404(qs, pk=pk)


def _sorted(qs, request, sorts, default):
    key = request.GET.get("sort", default)
    return qs.order_by(sorts.get(key, sorts[default]), "pk"), key if key in sorts else default


# ----------------------------------------------------------------------------- client list


def _client_filter(request):
    _require(request.user, "view", Client)
    filterset = ClientFilter(
        request.GET or None, queryset=selectors.client_list(request.user), request=request
    )
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    return filterset, qs


# What a row of the archive list shows or decides by (R12's flag from the row itself): only
# these columns are read (a client row holds 40, with the search text).
LIST_COLUMNS = (
    "name", "credit_code", "org_type", "stage", "grade", "tracking", "needs_collected_on",
    "created_at", "updated_at", "branch_id", "owner_id",
    "branch__name", "branch__short_name",
    "owner__full_name", "owner__first_name", "owner__last_name", "owner__username",
)  # fmt: skip


@login_required
def client_list(request):
    filterset, qs = _client_filter(request)
    qs, sort = _sorted(qs, request, CLIENT_SORTS, "name")
    qs = qs.select_related(None).select_related("branch", "owner").only(*LIST_COLUMNS)
    page = Paginator(qs.prefetch_related("tags"), PAGE_SIZE).get_page(request.GET.get("page"))
    # R5: clients seen only through an access grant carry it (the list's 授权查阅 badge).
    page.object_list = list(page.object_list)
    selectors.list_facts(page.object_list)
    granted = granted_only(request.user)
    for c in page.object_list:
        c.access_grant = granted.get(c.pk)
    # R4: the page's rows of another branch (read under a grant) are logged, as the API's list
    # logs them: one row per client and request, with the grant.
    log_reads(request, page.object_list, via=AccessLog.Via.PAGE)
    return render(
        request,
        "clients/client_list.html",
        {
            "page": page,
            "has_grants": bool(granted),
            "filter": filterset,
            "sort": sort,
            "today": timezone.localdate(),
        },
    )


@login_required
def client_export(request):
    """R36: exactly the filtered (and sorted) list, in the 客户信息统计表 layout."""
    _filterset, qs = _client_filter(request)
    qs, _sort = _sorted(qs, request, CLIENT_SORTS, "name")
    log_queryset_reads(request, qs, via=AccessLog.Via.EXPORT)
    return streamed_xlsx_response(
        _("客户信息统计表"),
        _("客户信息统计表"),
        [*COLUMNS, *EXPORT_ONLY_COLUMNS],
        export_rows(qs, with_export_columns=True),
        widths=EXPORT_WIDTHS,
    )


# ----------------------------------------------------------------------------- client page


def _page_client(request, pk, *, overview: bool) -> Client:
    """The client of the page (404 out of scope, 403 without the role). For the page itself
    (``overview``) the one query also counts every tab's rows (the badges) and reads what the
    overview shows: the facts of the grading (R7), the projects' totals (R13), whether the
    needs collection is overdue (R12); the tags come in one more. That query is compiled once
    per reader's scope and day (crm.prepared: building it took longer than running it)."""
    _require(request.user, "view", Client)
    if not overview:
        qs = Client.objects.restrict(request.user, "view").select_related("branch", "owner", "department")
        return get_object_or_404(qs, pk=pk)
    key = ("client-page", scope_fingerprint(request.user), timezone.localdate())
    client = prepared.get(lambda pk: page_client_query(request.user).filter(pk=pk), key, pk)
    if client is None:
        raise Http404
    prefetch_related_objects([client], "tags")
    return client


def page_client_query(user):
    """The client page's query without its primary key (``_page_client``)."""
    return (
        Client.objects.restrict(user, "view")
        .select_related("branch", "owner", "department")
        .annotate(
            **panels.count_annotations(user),
            **fact_annotations(),
            **selectors.project_totals_annotations(),
            needs_overdue=ExpressionWrapper(
                selectors.needs_collection_overdue_q(), output_field=BooleanField()
            ),
        )
    )


def _overview_context(request, client) -> dict:
    remember_facts(client)  # the quadrant and the surveys tab read the same satisfaction
    suggested, criteria = grading.suggest_grade(client)
    return {
        "suggested": suggested,
        "criteria": criteria,
        "quadrant": grading.quadrant(client),
        "scale_profit": grading.scale_profit_of(
            client.project_count, client.project_value, client.project_profit
        ),
        "needs_overdue": client.needs_overdue,
    }


def _tab_url(client, key) -> str:
    if key == panels.OVERVIEW:
        return reverse("clients:client-detail", kwargs={"pk": client.pk})
    return reverse("clients:client-tab", kwargs={"pk": client.pk, "tab": key})


def _pane(request, client, key) -> dict:
    """One tab's content: its template and the context it reads (through restrict)."""
    if key == panels.OVERVIEW:
        return {
            "key": key,
            "label": _("概况"),
            "template": "clients/_tab_overview.html",
            "ctx": _overview_context(request, client),
            "flat": True,
        }
    tab = panels.tab(key)
    return {
        "key": key,
        "label": tab.label,
        "template": tab.template,
        "ctx": tab.context(request, client) or {},
        "flat": tab.flat,
    }


def _pane_context(request, client, panes) -> dict:
    context = {
        "client": client,
        "panes": panes,
        # R5: read under a grant: a banner with the grant and its end; write buttons hidden.
        "access_grant": grant_of(request.user, client),
        "now": timezone.now(),
        "today": timezone.localdate(),
    }
    for pane in panes:
        if pane["flat"]:
            context.update(pane["ctx"])
    return context


def _client_page(request, pk, key):
    """The client page with the tab ``key`` open; its tab alone for htmx (the tab opened on
    the page); every tab for ``?print=1`` (the whole file, printed)."""
    if key != panels.OVERVIEW and panels.tab(key) is None:
        raise Http404
    printing = key == panels.OVERVIEW and request.GET.get("print") == "1"
    fragment = bool(request.htmx) and not request.htmx.history_restore_request and not printing
    client = _page_client(request, pk, overview=not fragment or key == panels.OVERVIEW)
    if fragment:
        # R4: the tab opened on a page whose view logged the read is that same read; a tab
        # opened by itself is logged (log_tab_read).
        log_tab_read(request, client)
        keys = [key]
    else:
        log_reads(request, [client], via=AccessLog.Via.PAGE)
        keys = [panels.OVERVIEW, *(t.key for t in registered_tabs())] if printing else [key]
    panes = [_pane(request, client, k) for k in keys]
    context = _pane_context(request, client, panes)
    if fragment:
        response = render(request, "clients/_client_panes.html", context)
    else:
        context.update(client_give_up(request.user, client))  # R37-R39: the banner and the button
        context.update(
            {
                "active": key,
                "printing": printing,
                "may_set_grade": services.may_set_grade(
                    request.user, client, in_scope=in_scope(request.user, "change", client)
                ),
                "tab_links": [
                    {
                        "key": panels.OVERVIEW,
                        "label": _("概况"),
                        "url": _tab_url(client, panels.OVERVIEW),
                        "count": None,
                    }
                ]
                + [
                    {
                        "key": t.key,
                        "label": t.label,
                        "url": _tab_url(client, t.key),
                        "count": getattr(client, f"tab_count_{t.key}", None),
                    }
                    for t in registered_tabs()
                ],
            }
        )
        response = render(request, "clients/client_detail.html", context)
    # The same address answers a page or (htmx) a tab: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
def client_detail(request, pk):
    return _client_page(request, pk, panels.OVERVIEW)


@login_required
def client_tab(request, pk, tab):
    if tab == panels.OVERVIEW:  # its address is the page's own
        raise Http404
    return _client_page(request, pk, tab)


def _client_form_page(request, form, client=None, similar=None):
    return render(
        request,
        "clients/client_form.html",
        {"form": form, "client": client, "similar": similar or []},
    )


@login_required
@require_http_methods(["GET", "POST"])
def client_create(request):
    _require(request.user, "add", Client)
    form = ClientForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(
                by=request.user,
                data=form.model_data(),
                tags=form.cleaned_data.get("tags") or (),
                similar_token=form.confirmation(),
            )
        except services.SimilarNameWarning as warning:
            form.show_similar_warning(warning.token)
            return _client_form_page(request, form, similar=warning.duplicates)
        except services.DuplicateCreditCode as error:
            form.add_error("credit_code", error.error_dict["credit_code"])
            return render(
                request,
                "clients/client_form.html",
                {"form": form, "duplicate": error.duplicate},
            )
        except IntegrityError as error:  # a parallel create won the race (R10)
            add_integrity_error(form, error)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("客户“%(name)s”已建档。") % {"name": client.name})
            return redirect("clients:client-detail", pk=client.pk)
    return _client_form_page(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def client_edit(request, pk):
    client = _get(request, Client, pk, "change")
    form = ClientForm(request.POST or None, instance=client, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(
                client=client,
                by=request.user,
                data=form.model_data(),
                tags=form.cleaned_data.get("tags"),
                similar_token=form.confirmation(),
            )
        except services.SimilarNameWarning as warning:
            form.show_similar_warning(warning.token)
            return _client_form_page(request, form, client, similar=warning.duplicates)
        except services.DuplicateCreditCode as error:
            form.add_error("credit_code", error.error_dict["credit_code"])
            return render(
                request,
                "clients/client_form.html",
                {"form": form, "client": client, "duplicate": error.duplicate},
            )
        except IntegrityError as error:
            add_integrity_error(form, error)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("客户档案已更新。"))
            return redirect("clients:client-detail", pk=client.pk)
    return _client_form_page(request, form, client)


@login_required
@require_http_methods(["GET", "POST"])
def client_set_grade(request, pk):
    client = _get(request, Client, pk, "view", related=("branch",))
    if not services.may_set_grade(request.user, client):
        raise PermissionDenied(_("只有集团市场营销部或本单位经营部负责人可以调整客户分级。"))
    suggested, criteria = grading.suggest_grade(client)
    form = GradeForm(request.POST or None, initial={"grade": client.grade or suggested})
    if request.method == "POST" and form.is_valid():
        try:
            services.client_set_grade(
                client=client,
                grade=form.cleaned_data["grade"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("客户分级已调整。"))
            return redirect(_tab_url(client, "history"))
    return render(
        request,
        "clients/client_set_grade.html",
        {
            "client": client,
            "form": form,
            "suggested": suggested,
            "criteria": criteria,
            # R45, R46: a B client's open plan, which a promotion or a demotion ends.
            "cultivation_plan": CultivationPlan.objects.restrict(request.user, "view")
            .filter(client=client, status=CultivationPlan.Status.OPEN)
            .first()
            if client.grade == Grade.B
            else None,
        },
    )


# ----------------------------------------------------------------------------- inline adds (htmx)


ADD_TITLES = {
    "contacts": gettext_lazy("添加联系人"),
    "visits": gettext_lazy("记录拜访"),
    "needs": gettext_lazy("登记客户需求(响应期限按紧急程度自动计算)"),
}


# How long a create form's one-time token is remembered after its save: longer than anyone
# keeps a form open and then submits it again.
ONCE_SECONDS = 24 * 3600


def _save_once(request, form, kind: str, save) -> bool:
    """Save ``form`` once per one-time token (forms.OnceTokenMixin): True when ``save(form)``
    ran, False when this token was saved already (a repeated submit: nothing is written).

    The token's key is taken under a transaction-level lock on it (crm.concurrency.lock_values;
    SQLite's IMMEDIATE transactions serialize on their own), checked, and written to the shared
    cache before the transaction commits: a parallel submit of the same token waits for the lock
    and then finds the key. A save that fails (a refusal of the service, a failed commit) leaves
    the token unused, so that the corrected form can be submitted with it. Forms without a
    token save as before."""
    token = form.once_token() if hasattr(form, "once_token") else ""
    if not token:
        save(form)
        return True
    key = f"clients:once:{kind}:{request.user.pk}:{token}"
    claimed = False
    try:
        with transaction.atomic():
            lock_values(key)
            if cache.get(key) is not None:
                return False
            save(form)
            cache.set(key, form.instance.pk or 1, ONCE_SECONDS)
            claimed = True
    except BaseException:
        if claimed:
            cache.delete(key)
        raise
    return True


def _on_page(request, path: str) -> bool:
    """Whether an htmx request comes from the page at ``path`` (its HX-Current-URL); a
    request that does not say is taken to come from it, as before."""
    current = request.htmx.current_url_abs_path
    return current is None or urlsplit(current).path == path


def _inline(request, client, *, tab, form, save, success, blank=None):
    """An htmx inline add/edit: on success the refreshed tab (or a redirect without htmx); on
    error the form again with its field errors and everything typed. The client page shows
    only an add button per tab and loads the form on demand (a GET here); after an add
    (``blank`` given) the refreshed tab holds a fresh form, so that the next entry is one
    step away. The same URL opened by itself (a bookmark, a new tab, no htmx) is an ordinary
    page: its form posts without htmx and redirects to the client's page.

    An add form carries a one-time token: a submit repeated with the same token (a second
    click, a reload) saves nothing more and answers as the first did."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save_once(request, form, tab, save)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            done = success if saved else _("此表单已提交过,未重复保存。")
            page = _tab_url(client, tab)
            if request.htmx and not (
                _on_page(request, page) or _on_page(request, _tab_url(client, "overview"))
            ):
                # Posted through htmx from somewhere without the tab to refresh (a page of
                # the form's own, rendered before it posted without htmx): go to the client.
                (messages.success if saved else messages.info)(request, done)
                return HttpResponseClientRedirect(page)
            if request.htmx:
                ctx = _pane_context(request, client, [_pane(request, client, tab)])
                ctx["flash"] = done
                if blank is not None:
                    ctx["open_form"], ctx["title"] = blank(), ADD_TITLES[tab]
                response = render(request, f"clients/_tab_{tab}.html", ctx)
                response["HX-Retarget"] = f"#tab-body-{tab}"
                response["HX-Reswap"] = "outerHTML"
                return response
            (messages.success if saved else messages.info)(request, done)
            return redirect(page)
    template = "clients/_inline_form.html" if request.htmx else "clients/inline_form_page.html"
    return render(
        request,
        template,
        {
            "client": client,
            "form": form,
            "tab": tab,
            "action": request.path,
            "title": ADD_TITLES[tab] if blank is not None else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_add(request, pk):
    client = _get(request, Client, pk, "change")
    form = ContactForm(request.POST or None, instance=Contact(client=client))
    return _inline(
        request,
        client,
        tab="contacts",
        form=form,
        save=lambda f: services.contact_save(contact=f.instance, by=request.user),
        success=_("联系人已添加。"),
        blank=ContactForm,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request, pk):
    contact = _get(request, Contact, pk, "change", related=("client",))
    form = ContactForm(request.POST or None, instance=contact)
    return _inline(
        request,
        contact.client,
        tab="contacts",
        form=form,
        save=lambda f: services.contact_save(contact=f.instance, by=request.user),
        success=_("联系人已更新。"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def visit_add(request, pk):
    client = _get(request, Client, pk, "change")
    initial = {"visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
    visit = Visit(client=client, recorded_by=request.user)
    form = VisitForm(request.POST or None, instance=visit, initial=initial)
    return _inline(
        request,
        client,
        tab="visits",
        form=form,
        save=lambda f: services.visit_record(visit=f.instance, by=request.user),
        success=_("拜访记录已保存。"),
        blank=lambda: VisitForm(initial=initial),
    )


@login_required
@require_http_methods(["GET", "POST"])
def visit_edit(request, pk):
    visit = _get(request, Visit, pk, "change", related=("client",))
    form = VisitForm(request.POST or None, instance=visit)
    return _inline(
        request,
        visit.client,
        tab="visits",
        form=form,
        save=lambda f: services.visit_update(visit=f.instance, by=request.user),
        success=_("拜访记录已更新。"),
    )


@login_required
def visit_detail(request, pk):
    """A visit's own page (拜访记录): who met whom, how, what was agreed and what comes next, with
    its attachments (R61-R64: the minutes, recordings, videos and photos of the meeting)."""
    visit = _get(request, Visit, pk, related=("client", "client__branch", "recorded_by", "plan"))
    return visit_page(request, visit)


def visit_page(request, visit, *, attachment_form=None):
    """The visit's page; ``attachment_form``: an upload refused, shown with its errors (R61)."""
    log_reads(request, [visit], via=AccessLog.Via.PAGE)  # R4
    timeline = visit.history.select_related("history_user").order_by("history_date", "history_id")
    return render(
        request,
        "clients/visit_detail.html",
        {
            "visit": visit,
            "client": visit.client,
            "may_change": in_scope(request.user, "change", visit),
            "timeline": timeline,
            "attachments": attachment_panel(request.user, VisitAttachment, visit, form=attachment_form),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def need_add(request, pk):
    client = _get(request, Client, pk, "change")
    form = NeedForm(request.POST or None, instance=Need(client=client, owner=request.user), client=client)
    return _inline(
        request,
        client,
        tab="needs",
        form=form,
        save=lambda f: services.need_create(need=f.instance, by=request.user),
        success=_("客户需求已登记。"),
        blank=lambda: NeedForm(client=client),
    )


@login_required
@require_http_methods(["GET", "POST"])
def need_edit(request, pk):
    need = _get(request, Need, pk, "change", related=("client",))
    form = NeedForm(request.POST or None, instance=need, client=need.client)
    return _inline(
        request,
        need.client,
        tab="needs",
        form=form,
        save=lambda f: services.need_update(need=f.instance, by=request.user),
        success=_("客户需求已更新。"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def need_respond(request, pk):
    need = _get(request, Need, pk, "change", related=("client",))
    form = NeedRespondForm(request.POST or None)

    def save(f):
        action, note = f.cleaned_data["action"], f.cleaned_data["note"]
        if action in ("done", "reject"):
            services.need_close(need=need, by=request.user, done=action == "done", note=note)
        else:
            status = Need.Status.IN_PROGRESS if action == "progress" else Need.Status.ASSESSED
            services.need_respond(need=need, by=request.user, note=note, status=status)

    return _inline(request, need.client, tab="needs", form=form, save=save, success=_("需求处理已记录。"))


# ----------------------------------------------------------------------------- projects, plans


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request, pk):
    client = _get(request, Client, pk, "change")
    project = Project(client=client, branch=client.branch)
    form = ProjectForm(request.POST or None, instance=project, user=request.user)
    return _project_form(request, client, form)


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request, pk):
    project = _get(request, Project, pk, "change", related=("client",))
    form = ProjectForm(request.POST or None, instance=project, user=request.user)
    return _project_form(request, project.client, form)


def _project_form(request, client, form):
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save_once(
                request,
                form,
                "projects",
                lambda f: services.project_save(project=f.instance, by=request.user),
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            if saved:
                messages.success(request, _("工程项目已保存。"))
            else:
                messages.info(request, _("此表单已提交过,未重复保存。"))
            return redirect(_tab_url(client, "projects"))
    return render(request, "clients/project_form.html", {"client": client, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def visit_plan_edit(request, pk):
    client = _get(request, Client, pk, "change")
    plan = VisitPlan.objects.restrict(request.user, "change").filter(client=client).first() or VisitPlan(
        client=client
    )
    form = VisitPlanForm(request.POST or None, instance=plan, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_plan_save(plan=form.instance, by=request.user)
        except IntegrityError as error:  # a plan for this client was created meanwhile
            add_integrity_error(form, error)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("拜访计划已保存。"))
            return redirect(_tab_url(client, "visits"))
    required = services.VISITOR_LEVEL_BY_SOCIAL_VALUE.get(client.social_value)
    return render(
        request,
        "clients/visitplan_form.html",
        {
            "client": client,
            "form": form,
            "plan": plan,
            "required_level": VisitPlan.VisitorLevel(required).label,
        },
    )


# ----------------------------------------------------------------------------- needs and visits lists


def _need_filter(request):
    _require(request.user, "view", Need)
    base = Need.objects.restrict(request.user, "view").select_related(
        "client", "client__branch", "owner", "merged_into"
    )
    filterset = NeedFilter(request.GET or None, queryset=base, request=request)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    return filterset, qs


@login_required
def need_list(request):
    filterset, qs = _need_filter(request)
    qs, sort = _sorted(qs, request, NEED_SORTS, "-received")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    # R4: needs of a granted client of another branch are a read of its archive: logged once
    # per client and request, with the grant (as the API's list of needs is).
    log_reads(request, page.object_list, via=AccessLog.Via.PAGE)
    return render(
        request,
        "clients/need_list.html",
        {
            "page": page,
            "filter": filterset,
            "sort": sort,
            "now": timezone.now(),
            "rates": selectors.need_rates(request.user)[:12],
        },
    )


@login_required
def need_export(request):
    _filterset, qs = _need_filter(request)
    qs, _sort = _sorted(qs, request, NEED_SORTS, "-received")
    log_queryset_reads(request, qs, via=AccessLog.Via.EXPORT)  # R4
    headers = [
        _("客户"),
        _("所属分公司"),
        _("需求内容"),
        _("需求类别"),
        _("紧急程度"),
        _("需求性质"),
        _("可行性"),
        _("价值评估"),
        _("评估说明"),
        _("状态"),
        _("接收时间"),
        _("响应期限"),
        _("响应时间"),
        _("负责人"),
        _("处理结果评价"),
        _("评价意见"),
        _("评价时间"),
        _("合并至"),
    ]
    functional, non_functional = _("功能性需求"), _("非功能性需求")
    rows = (
        [
            n.client.name,
            n.client.branch.name,
            n.description,
            n.get_category_display(),
            n.get_urgency_display(),
            functional if n.is_functional else non_functional,
            n.get_feasibility_display(),
            n.get_value_assessment_display(),
            n.assessment_note,
            n.get_status_display(),
            n.received_at,
            n.response_due_at,
            n.responded_at,
            n.owner.display_name,
            n.get_rating_display(),
            n.rating_comment,
            n.rated_at,
            n.merged_into.description[:40] if n.merged_into_id else "",
        ]
        for n in qs
    )
    return xlsx_response(_("客户需求"), _("客户需求"), headers, rows)


@login_required
def visit_overdue_list(request):
    """R13: overdue visits for the person responsible (staff) and their manager (the branch)."""
    if not selectors.may_list_overdue_visits(request.user):
        raise PermissionDenied(_("您的角色无权执行此操作。"))
    qs = selectors.overdue_visit_plans(request.user)
    if request.GET.get("export") == "xlsx":
        headers = [
            _("客户"),
            _("所属分公司"),
            _("客户分级"),
            _("拜访频次"),
            _("拜访人员层级"),
            _("负责人"),
            _("计划拜访日期"),
            _("逾期天数"),
        ]
        today = timezone.localdate()
        rows = (
            [
                p.client.name,
                p.client.branch.name,
                p.client.grade,
                p.get_frequency_display(),
                p.get_visitor_level_display(),
                p.responsible.display_name,
                p.next_due_on,
                (today - p.next_due_on).days,
            ]
            for p in qs
        )
        return xlsx_response(_("逾期拜访"), _("逾期拜访"), headers, rows)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for p in page.object_list:
        p.days_overdue = (today - p.next_due_on).days
    return render(request, "clients/visit_overdue_list.html", {"page": page, "today": today})
