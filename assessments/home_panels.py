"""Home-page panels of reporting and the review (crm.dashboard.register), by role: what a branch
owes and by when (its manager and staff), reports waiting for group marketing's review, the
assessments waiting for an auditor. Every list is read through restrict()."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.dashboard import register

from .models import Assessment, AssessmentRound, MonthlyReport


@register(order=3, roles=("manager", "staff"))
def owed_panel(user):
    from .obligations import owed

    if not user.branch_id:
        return None
    items = owed(user.branch, timezone.now())
    return {
        "title": _("本单位待交材料"),
        "url": reverse("assessments:owed"),
        "items": [
            {
                "title": str(o["label"]),
                "subtitle": (_("已逾期") if o["overdue"] else _("截止"))
                + " "
                + timezone.localtime(o["due_at"]).strftime("%Y-%m-%d %H:%M"),
                "url": o["url"],
            }
            for o in items
        ],
        "empty": _("目前没有待交材料。"),
    }


@register(order=4, roles=("marketing",))
def review_panel(user):
    waiting = (
        MonthlyReport.objects.restrict(user, "view")
        .filter(status=MonthlyReport.Status.SUBMITTED)
        .select_related("branch")
        .defer("snapshot")
        .order_by("period", "branch__sort_order")
    )
    url = reverse("assessments:report-list") + "?status=submitted"
    return {
        "title": _("待确认的月度报表"),
        "url": url,
        "figures": [{"label": _("待确认"), "value": waiting.count(), "url": url}],
        "items": [
            {
                "title": f"{r.branch} {r.period}",
                "subtitle": _("已上报"),
                "url": reverse("assessments:report-detail", kwargs={"pk": r.pk}),
            }
            for r in waiting[:8]
        ],
        "empty": _("没有待确认的报表。"),
    }


@register(order=4, roles=("auditor",))
def assessments_panel(user):
    waiting = (
        Assessment.objects.restrict(user, "view")
        .filter(round__state=AssessmentRound.State.OPEN, rated_at__isnull=True)
        .select_related("branch")
        .order_by("-half_year", "branch__sort_order")
    )
    url = reverse("assessments:assessment-list") + "?state=waiting"
    return {
        "title": _("待评定的分子公司考核"),
        "url": url,
        "figures": [{"label": _("待评定"), "value": waiting.count(), "url": url}],
        "items": [
            {
                "title": f"{a.branch} {a.half_year}",
                "subtitle": _("待抽查和评定"),
                "url": reverse("assessments:assessment-detail", kwargs={"pk": a.pk}),
            }
            for a in waiting[:8]
        ],
        "empty": _("没有待评定的考核。"),
    }


@register(order=2, roles=("leader", "marketing", "auditor", "manager"))
def dashboard_panel(user):
    """R35: this period's monthly reports at a glance, leading to the dashboard."""
    from crm.figures import Period

    from .dashboards.selectors import branches_of, has_group_view
    from .models import TIMELINESS

    period = Period.containing()
    branches = list(branches_of(user).values_list("pk", flat=True))
    reports = {
        r.branch_id: r
        for r in MonthlyReport.objects.restrict(user, "view")
        .filter(period=period.label, branch_id__in=branches)
        .defer("snapshot")
    }
    counts: dict[str, int] = {}
    for branch_id in branches:
        report = reports.get(branch_id)
        state = (
            report.timeliness if report else ("missing" if timezone.now() > period.deadline else "pending")
        )
        counts[state] = counts.get(state, 0) + 1
    url = reverse("assessments:dashboard")
    return {
        "title": _("集团客户关系看板") if has_group_view(user) else _("分公司客户关系看板"),
        "url": url,
        "figures": [
            {
                "label": TIMELINESS[state],
                "value": n,
                "url": reverse("assessments:report-list") + f"?period={period.label}&timeliness={state}",
            }
            for state, n in sorted(counts.items())
        ],
    }
