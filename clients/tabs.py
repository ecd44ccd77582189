"""The archive's own tabs of the client page (contacts, cooperation history, needs, visits,
change history), registered like the tabs of the apps above (clients.panels). Each reads
only its own rows, through ``restrict(user, "view")``, when the tab is opened."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import grading
from .models import (
    BEvaluation,
    Contact,
    CultivationPlan,
    Grade,
    GradeChange,
    Need,
    Project,
    SiteService,
    StageChange,
    Visit,
    VisitPlan,
)
from .panels import register_tab
from .projects.selectors import fee_annotations

# The visits tab shows the latest visits (the API and the print view list them all the same way).
VISITS_SHOWN = 50
# The projects tab shows the latest on-site service records of the client's projects.
SITE_SERVICES_SHOWN = 20
# The change history shows the latest edits of the record.
HISTORY_SHOWN = 30


def contacts_rows(user):
    return Contact.objects.restrict(user, "view")


def contacts_context(request, client) -> dict:
    return {"contacts": list(contacts_rows(request.user).filter(client=client))}


def projects_rows(user):
    return Project.objects.restrict(user, "view")


def projects_context(request, client) -> dict:
    """The cooperation history with each project's design fee, collected and settled (R56), and
    the latest on-site service records of the client's projects (R60)."""
    projects = list(
        projects_rows(request.user)
        .filter(client=client)
        .select_related("department")
        .annotate(**fee_annotations())
    )
    site_services = list(
        SiteService.objects.restrict(request.user, "view")
        .filter(project__client=client)
        .select_related("project")
        .order_by("-served_on", "-pk")[:SITE_SERVICES_SHOWN]
    )
    return {
        "projects": projects,
        "scale_profit": grading.scale_profit_class(projects),
        "site_services": site_services,
    }


def needs_rows(user):
    return Need.objects.restrict(user, "view")


def needs_context(request, client) -> dict:
    return {
        "needs": list(needs_rows(request.user).filter(client=client).select_related("owner")),
        "now": timezone.now(),
    }


def visits_rows(user):
    return Visit.objects.restrict(user, "view")


def visits_context(request, client) -> dict:
    plan = (
        VisitPlan.objects.restrict(request.user, "view")
        .filter(client=client)
        .select_related("responsible")
        .first()
    )
    visits = visits_rows(request.user).filter(client=client).select_related("recorded_by")
    return {"visits": list(visits[:VISITS_SHOWN]), "plan": plan, "today": timezone.localdate()}


def history_context(request, client) -> dict:
    user = request.user
    return {
        "grade_changes": list(
            GradeChange.objects.restrict(user, "view").filter(client=client).select_related("changed_by")
        ),
        "stage_changes": list(
            StageChange.objects.restrict(user, "view").filter(client=client).select_related("changed_by")
        ),
        # The record's own edits: the client is in the user's scope (the page checked it).
        "history": list(client.history.select_related("history_user")[:HISTORY_SHOWN]),
    }


register_tab("contacts", _("联系人"), "clients/_tab_contacts.html", contacts_context, 10, contacts_rows, True)
register_tab(
    "projects", _("合作历史"), "clients/_tab_projects.html", projects_context, 20, projects_rows, True
)
register_tab("needs", _("客户需求"), "clients/_tab_needs.html", needs_context, 30, needs_rows, True)
register_tab("visits", _("拜访"), "clients/_tab_visits.html", visits_context, 40, visits_rows, True)


def cultivation_rows(user):
    return CultivationPlan.objects.restrict(user, "view")


def cultivation_context(request, client) -> dict:
    """R42-R46: the client's cultivation plans (with their measures) and half-year evaluations,
    and the buttons the user may use (a new plan for a B client without an open one)."""
    from .cultivation import services as cultivation

    user = request.user
    plans = list(
        cultivation_rows(user)
        .filter(client=client)
        .select_related("proposed_by")
        .prefetch_related("measures__owner")
    )
    is_b = client.grade == Grade.B
    return {
        "plans": plans,
        "evaluations": list(
            BEvaluation.objects.restrict(user, "view").filter(client=client).select_related("evaluated_by")
        ),
        "may_propose_plan": is_b
        and not any(p.is_open for p in plans)
        and cultivation.may_work_on(user, client, memory=True),
        "may_evaluate": is_b and cultivation.may_evaluate(user, client),
        "today": timezone.localdate(),
    }


register_tab(
    "cultivation",
    _("培养计划"),
    "clients/_tab_cultivation.html",
    cultivation_context,
    45,
    cultivation_rows,
    True,
)
register_tab("history", _("变更历史"), "clients/_tab_history.html", history_context, 900, None, True)
