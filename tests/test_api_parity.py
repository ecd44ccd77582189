"""Every action a page can do, the API can do too (design.md, "The browser UI").

The test walks the URL resolver and lists every page route (outside /api/ and the admin) that
accepts POST, then requires each to be mapped to the API operation(s) that do the same thing,
by their operation ids in the OpenAPI document /api/schema/ serves; each named operation must
exist there and be a write.

How a route is known to accept POST, without a list kept by hand:

- a class-based view defines ``post``;
- a decorator fixes the allowed methods (``require_POST``, ``require_http_methods([...])``):
  the list is read from the decorator's closure, and decides alone;
- otherwise the view function reads ``request.POST``, ``request.FILES`` or ``request.method``
  (a view that handles a form must read one of them);
- a route with a ``step`` in its path (the complaint's and the access request's workflow steps)
  is one action per step: the steps are the keys of the view module's ``STEPS``, so a new step
  needs its API operation too.

Routes that need no API counterpart are in ``EXEMPT`` with the reason; every other page action
is in ``PARITY``, so a new page POST without its API operation fails the test.
"""

from __future__ import annotations

import inspect
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

EXEMPT = {
    "login": "signing in is the API's token endpoint (POST /api/auth/token/), not a resource",
    "logout": "ends the browser session; the API's counterpart is revoking the token",
    "set_language": "Django's language switch for the pages; the API follows Accept-Language",
}

# page route (with [step] for workflow steps) -> the API operations doing what it does
PARITY = {
    # the archive
    "clients:client-create": ["clients_create"],
    "clients:client-edit": ["clients_update", "clients_partial_update"],
    "clients:client-set-grade": ["clients_set_grade_create"],
    "clients:contact-add": ["contacts_create"],
    "clients:contact-edit": ["contacts_update", "contacts_partial_update"],
    "clients:visit-add": ["visits_create"],
    "clients:visit-edit": ["visits_update", "visits_partial_update"],
    "clients:need-add": ["needs_create"],
    "clients:need-edit": ["needs_update", "needs_partial_update"],
    "clients:need-respond": ["needs_respond_create", "needs_close_create"],
    "clients:need-assess": ["needs_assess_create", "needs_partial_update"],
    "clients:need-merge": ["needs_merge_create"],
    "clients:need-conflict": ["needs_mark_conflict_create"],
    "clients:need-rate": ["needs_rate_create"],
    "clients:need-rating-link": ["needs_rating_link_create"],
    "clients:need-rating": ["public_need_ratings_create"],  # the public link: no login on either side
    "clients:project-create": ["projects_create"],
    "clients:project-edit": ["projects_update", "projects_partial_update"],
    "clients:visit-plan-edit": ["visit_plans_create", "visit_plans_partial_update"],
    "clients:import-start": ["import_jobs_create"],
    "clients:import-confirm": ["import_jobs_confirm_create"],
    "clients:import-retry": ["import_jobs_retry_create"],
    "clients:access-request-create": ["access_requests_create"],
    "clients:access-request-step[forward]": ["access_requests_forward_create"],
    "clients:access-request-step[approve]": ["access_requests_approve_create"],
    "clients:access-request-step[reject]": ["access_requests_reject_create"],
    "clients:access-request-step[withdraw]": ["access_requests_withdraw_create"],
    "clients:client-transfer": ["client_transfers_create"],
    "clients:give-up-create": ["give_ups_create"],
    "clients:give-up-step[confirm]": ["give_ups_confirm_create"],
    "clients:give-up-step[reject]": ["give_ups_reject_create"],
    "clients:give-up-step[resume]": ["give_ups_resume_create"],
    "clients:cultivation-create": ["cultivation_plans_create"],
    "clients:cultivation-step[review]": ["cultivation_plans_review_create"],
    "clients:cultivation-step[measure]": ["cultivation_plans_measures_create"],
    "clients:cultivation-step[edit]": ["cultivation_plans_update", "cultivation_plans_partial_update"],
    "clients:cultivation-step[close]": ["cultivation_plans_close_create"],
    # improvement plans per priority dimension (R102-R108)
    "surveys:improvement-create": ["improvement_plans_create"],
    "surveys:improvement-step[measure]": ["improvement_plans_measures_create"],
    "surveys:improvement-step[complete]": ["improvement_plans_complete_create"],
    "surveys:improvement-step[close]": ["improvement_plans_close_create"],
    "clients:b-evaluation-create": ["b_evaluations_create"],
    "clients:fee-collection-add": ["fee_collections_create"],
    "clients:fee-collection-reverse": ["fee_collections_reverse_create"],
    "clients:project-settle": ["projects_settle_create"],
    "clients:site-service-add": ["site_services_create"],
    "clients:site-service-edit": ["site_services_update", "site_services_partial_update"],
    "clients:need-check-remark": ["need_check_findings_remark_create"],
    "clients:need-attachment-add": ["need_attachments_create"],
    "clients:need-attachment-delete": ["need_attachments_destroy"],
    "clients:visit-attachment-add": ["visit_attachments_create"],
    "clients:visit-attachment-delete": ["visit_attachments_destroy"],
    # complaints
    "complaints:complaint-create": ["complaints_create"],
    "complaints:complaint-edit": ["complaints_partial_update"],
    "complaints:complaint-step[acknowledge]": ["complaints_acknowledge_create"],
    "complaints:complaint-step[investigate]": ["complaints_investigate_create"],
    "complaints:complaint-step[hand_over]": ["complaints_hand_over_create"],
    "complaints:complaint-step[resolve]": ["complaints_resolve_create"],
    "complaints:complaint-step[return_visit]": ["complaints_return_visit_create"],
    "complaints:complaint-step[close]": ["complaints_close_create"],
    "complaints:complaint-step[reopen]": ["complaints_reopen_create"],
    "complaints:complaint-attachment-add": ["complaint_attachments_create"],
    "complaints:complaint-attachment-delete": ["complaint_attachments_destroy"],
    # warranty repairs
    "complaints:repair-create": ["repairs_create"],
    "complaints:repair-edit": ["repairs_partial_update"],
    "complaints:repair-step[register]": ["repairs_register_create"],
    "complaints:repair-step[dispatch]": ["repairs_dispatch_create"],
    "complaints:repair-step[complete]": ["repairs_complete_create"],
    "complaints:repair-step[close]": ["repairs_close_create"],
    "complaints:repair-step[return_visit]": ["repairs_return_visit_create"],
    "complaints:repair-step[reopen]": ["repairs_reopen_create"],
    "complaints:repair-step[complaint]": ["repairs_complaint_create"],
    # surveys
    "surveys:survey-create": ["surveys_create"],
    "surveys:survey-send": ["surveys_send_create"],
    "surveys:survey-paper": ["surveys_paper_create"],
    "surveys:answer": ["public_surveys_create"],  # the public link: no login on either side
    "surveys:followup-close": ["survey_follow_ups_close_create"],
    "surveys:template-create": ["survey_templates_create"],
    "surveys:template-edit": ["survey_templates_update", "survey_templates_partial_update"],
    "surveys:targets": ["survey_targets_set_create"],
    "surveys:campaign-create": ["survey_campaigns_create"],
    "surveys:campaign-send": ["survey_campaigns_send_create"],
    "surveys:campaign-close": ["survey_campaigns_close_create"],
    # the shell
    "notification-read-all": ["notifications_read_all_create"],
    # the outbox (R112-R114)
    "delivery-resend": ["deliveries_resend_create"],
    "deliveries-resend": ["deliveries_resend_selected_create"],
    "preferences": ["me_preferences_partial_update"],
    # monthly reporting and rankings
    "assessments:report-remarks": ["monthly_reports_partial_update"],
    "assessments:report-submit": ["monthly_reports_submit_create"],
    "assessments:report-accept": ["monthly_reports_accept_create"],
    "assessments:report-return": ["monthly_reports_return_create"],
    "assessments:close-list": ["monthly_reports_close_create"],
    "assessments:close-retry": ["monthly_reports_close_retry_create"],
    "assessments:ranking-detail": ["rankings_remarks_create"],
    # the half-year review
    "assessments:analysis-detail": ["analysis_reports_partial_update", "analysis_reports_submit_create"],
    "assessments:analysis-judge": ["analysis_reports_judge_create"],
    "assessments:analysis-current": ["analysis_reports_current_create"],
    "assessments:client-analysis-add": ["analysis_reports_client_analyses_create"],
    "assessments:summary-group": [
        "group_summaries_save_create",
        "group_summaries_submit_create",
        "group_summaries_regradings_create",
        "group_summaries_apply_create",
    ],
    "assessments:assessment-open": ["assessments_open_create"],
    "assessments:round-retry": ["assessments_retry_create"],
    "assessments:assessment-check": ["spot_checks_record_create"],
    "assessments:assessment-rate": ["assessments_rate_create"],
    "assessments:summary-detail": ["work_summaries_submit_create"],
    # the quarterly need analysis report and its meeting (R65-R69)
    "assessments:need-report-open": ["need_analysis_reports_create"],
    "assessments:need-report-save": ["need_analysis_reports_partial_update"],
    "assessments:need-report-submit": ["need_analysis_reports_submit_create"],
    "assessments:need-report-review": ["need_analysis_reports_review_create"],
    "assessments:department-report-submit": ["department_reports_submit_create"],
    "assessments:department-report-return": ["department_reports_return_create"],
    "assessments:department-deadline": ["department_reports_deadline_create"],
    "assessments:department-survey-open": ["department_survey_reports_create"],
    "assessments:department-survey-detail": ["department_survey_reports_partial_update"],
    "assessments:department-survey-submit": ["department_survey_reports_submit_create"],
    "assessments:need-meeting-add": ["need_analysis_reports_meetings_create"],
    "assessments:need-decision-add": ["need_analysis_reports_decisions_create"],
    "assessments:need-decision-done": ["need_meeting_decisions_done_create"],
    # group chat robots (R116)
    "robots:robot-create": ["chat_robots_create"],
    "robots:robot-edit": ["chat_robots_partial_update"],
    "robots:robot-active": ["chat_robots_partial_update"],
    "robots:robot-test": ["chat_robots_test_create"],
    # the half-year review meeting, its circular and the reports to the leaders (R87-R93)
    "assessments:review-meeting-add": ["review_meetings_create"],
    "assessments:review-decision-add": ["review_meetings_decisions_create"],
    "assessments:review-decision-done": ["review_decisions_done_create"],
    "assessments:circular-generate": ["review_meetings_circular_create"],
    "assessments:circular-save": ["circulars_partial_update"],
    "assessments:circular-issue": ["circulars_issue_create"],
    "assessments:commendation-draft": ["leader_reports_create"],
    "assessments:summary-forward": ["leader_reports_create"],
    "assessments:leader-report-save": ["leader_reports_partial_update"],
    "assessments:leader-report-send": ["leader_reports_send_create"],
}

WRITES = {"post", "put", "patch", "delete"}
READS_POST = re.compile(r"request\.(POST|FILES|method)\b")


def _patterns(resolver, path="", ns=""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p, path + str(p.pattern), f"{ns}{p.namespace}:" if p.namespace else ns)
        elif isinstance(p, URLPattern) and p.name:
            yield path + str(p.pattern), ns + p.name, p


def _declared_methods(view) -> list[str] | None:
    """The methods a ``require_http_methods`` decorator (``require_POST`` is one) allows."""
    fn = view
    while fn is not None:
        for cell in fn.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if (
                isinstance(value, list | tuple)
                and value
                and all(isinstance(v, str) and v.isupper() for v in value)
            ):
                return list(value)
        fn = getattr(fn, "__wrapped__", None)
    return None


def accepts_post(view) -> bool:
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return hasattr(view_class, "post")
    declared = _declared_methods(view)
    if declared is not None:
        return "POST" in declared
    return bool(READS_POST.search(inspect.getsource(inspect.unwrap(view))))


def page_post_actions() -> set[str]:
    """Every page action taken by POST: the route name, or ``name[step]`` per workflow step."""
    found = set()
    for path, name, pattern in _patterns(get_resolver()):
        if path.startswith(("api/", "admin/")) or name.startswith("admin:"):
            continue
        if not accepts_post(pattern.callback):
            continue
        if "<slug:step>" in path:
            steps = inspect.unwrap(pattern.callback).__globals__["STEPS"]
            found |= {f"{name}[{step}]" for step in steps}
        else:
            found.add(name)
    return found


@pytest.fixture
def operations(db):
    """operation id -> HTTP method, from the document /api/schema/ serves to a signed-in user."""
    from rest_framework.test import APIClient

    from crm.models import User

    client = APIClient()
    client.force_authenticate(User.objects.create_user("parity-reader", password="x"))
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, response.content[:300]
    return {
        op["operationId"]: method
        for item in response.json()["paths"].values()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


def test_the_detector_finds_what_the_pages_post():
    """The detector itself: a known form page, a require_POST step, a workflow step per
    ``STEPS`` key; and read-only pages are not listed."""
    found = page_post_actions()
    assert {
        "clients:client-create",
        "assessments:assessment-check",
        "complaints:complaint-step[resolve]",
    } <= found
    assert "login" in found and "surveys:answer" in found
    assert not {"clients:client-list", "assessments:report-detail", "assessments:dashboard"} & found


def _dummy_kwargs(pattern) -> dict:
    import uuid

    values = {"int": 1, "uuid": uuid.uuid4(), "slug": "x", "str": "x", "path": "x"}
    converters = getattr(pattern.pattern, "converters", {})
    return {
        name: values.get(type(c).__name__.replace("Converter", "").lower(), "x")
        for name, c in converters.items()
    }


def test_the_declared_methods_are_the_ones_the_views_answer(db):
    """The detector reads the allowed methods from the decorators' closures: check it against
    the views themselves. A route declared POST-only answers GET with 405, even to a superuser."""
    from django.test import Client as WebClient
    from django.urls import reverse

    from crm.models import User

    web = WebClient()
    web.force_login(User.objects.create_superuser("parity-admin", password="x"))
    checked = 0
    for path, name, pattern in _patterns(get_resolver()):
        if path.startswith(("api/", "admin/")) or _declared_methods(pattern.callback) != ["POST"]:
            continue
        url = reverse(name, kwargs=_dummy_kwargs(pattern))
        assert web.get(url).status_code == 405, name
        checked += 1
    assert checked >= 10


def test_every_page_post_has_an_api_counterpart():
    missing = sorted(page_post_actions() - PARITY.keys() - EXEMPT.keys())
    assert not missing, f"page actions without an API operation (map them in PARITY): {missing}"


def test_the_lists_name_only_page_actions_that_exist():
    """No stale entry: a route renamed or made read-only leaves the lists too."""
    found = page_post_actions()
    for table in (PARITY, EXEMPT):
        stale = sorted(set(table) - found)
        assert not stale, f"not a page action taken by POST: {stale}"
    assert not PARITY.keys() & EXEMPT.keys()


def test_every_mapped_operation_is_a_write_of_the_schema(operations):
    absent = sorted({op for ops in PARITY.values() for op in ops if op not in operations})
    assert not absent, f"operations not in /api/schema/: {absent}"
    reads = sorted({op for ops in PARITY.values() for op in ops if operations[op] not in WRITES})
    assert not reads, f"mapped to an operation that writes nothing: {reads}"
