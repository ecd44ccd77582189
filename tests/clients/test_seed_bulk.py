"""``seed_bulk`` (crm's command; each app's rows come from its ``bulk`` module): the benchmark's
volume, in the expected proportions, once per database; its complaints (R14-R18) and surveys
(R20-R25a) as the apps' own services would have made them."""

import datetime as dt
import importlib
import io
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.test import Client as WebClient
from django.utils import timezone

from clients.models import Client, Contact, GradeChange, Need, Project, Visit, VisitPlan, refresh_search_text
from clients.selectors import search_q
from complaints import services as complaint_services
from complaints.models import Complaint, Event, HandOver, ReturnVisit, Status
from crm.management.commands import seed_bulk
from crm.models import Branch, Role, User
from crm.validators import normalize_phone, validate_credit_code
from surveys import services as survey_services
from surveys.models import Answer, Campaign, CampaignBranchReport, FollowUp, Question, Survey

pytestmark = pytest.mark.django_db


def run(**kwargs):
    call_command("seed_bulk", **{"clients": 300, "branches": 3, "users": 12, "verbosity": 0, **kwargs})


def test_seed_bulk_takes_each_apps_contribution_in_layer_order(org, monkeypatch):
    """As ``seed_demo`` does: each app's ``bulk`` module found by name, in layer order; an app
    without one (assessments, today) is skipped."""
    asked = []

    def import_module(name):
        asked.append(name)
        return importlib.import_module(name)

    monkeypatch.setattr(seed_bulk, "importlib", SimpleNamespace(import_module=import_module))
    out = io.StringIO()
    run(verbosity=1, stdout=out)
    assert asked == ["clients.bulk", "complaints.bulk", "surveys.bulk", "assessments.bulk"]
    reports = [line.split(":")[0] for line in out.getvalue().splitlines()]
    assert [app for app in reports if app in seed_bulk.APPS_WITH_BULK] == ["clients", "complaints", "surveys"]
    assert Client.objects.count() == 300
    assert Complaint.objects.exists() and Survey.objects.exists() and Contact.objects.exists()


def test_seed_bulk_skips_only_a_missing_bulk_module(org, monkeypatch):
    def without(missing):
        def import_module(name):
            if name == "surveys.bulk":
                raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)
            return importlib.import_module(name)

        return import_module

    # surveys.bulk itself missing: surveys contribute nothing, the others still do.
    monkeypatch.setattr(seed_bulk, "importlib", SimpleNamespace(import_module=without("surveys.bulk")))
    run()
    assert Client.objects.count() == 300 and Complaint.objects.exists()
    assert not Survey.objects.exists() and not Campaign.objects.exists()
    # A module that surveys.bulk needs is missing: that is an error, not an app without bulk data.
    monkeypatch.setattr(seed_bulk, "importlib", SimpleNamespace(import_module=without("openpyxl")))
    with pytest.raises(ModuleNotFoundError):
        run(force=True)


def test_seed_bulk_proportions(org):
    east_name = org.branches["east"].name
    run()
    codes = sorted(Branch.objects.filter(code__startswith="b").values_list("code", flat=True))
    assert codes == ["b01", "b02", "b03"]
    assert Branch.objects.get(code="east").name == east_name  # demo branches untouched
    assert Client.objects.count() == 300
    assert not Client.objects.exclude(branch__code__in=codes).exists()
    per_client = {m.__name__: m.objects.count() / 300 for m in (Contact, Project, Visit, Need)}
    assert 2.6 <= per_client["Contact"] <= 3.4, per_client
    assert 1.7 <= per_client["Project"] <= 2.3, per_client
    assert 4.5 <= per_client["Visit"] <= 5.5, per_client
    assert 1.7 <= per_client["Need"] <= 2.3, per_client
    assert GradeChange.objects.count() == 300
    assert VisitPlan.objects.count() == Client.objects.filter(grade="A").count() > 0
    grades = dict(Client.objects.values_list("grade").annotate(n=Count("id")))
    assert set(grades) == {"A", "B", "C"}

    users = User.objects.filter(branch__code__in=codes)
    assert users.count() == 12
    assert users.filter(role=Role.MANAGER).count() == 3 and users.filter(role=Role.STAFF).count() == 9
    staff = users.filter(role=Role.STAFF).first()
    assert staff.groups.filter(name=f"{staff.branch.code}:staff").exists()
    assert staff.check_password("demo-pass-2026")
    # Access control holds on bulk rows: a branch user sees exactly their branch's clients.
    visible = Client.objects.restrict(staff, "view")
    assert visible.count() == Client.objects.filter(branch=staff.branch).count() > 0
    assert not visible.exclude(branch=staff.branch).exists()

    for client in Client.objects.all()[:100]:
        validate_credit_code(client.credit_code)
        normalize_phone(client.phone)
    assert len(set(Client.objects.values_list("name_normalized", flat=True))) == 300
    # The search text is derived as Client.save() would (bulk_create skips save()).
    stored = dict(Client.objects.values_list("pk", "search_text"))
    refresh_search_text(stored)
    assert dict(Client.objects.values_list("pk", "search_text")) == stored
    some = Contact.objects.order_by("pk").first()
    assert some.client_id in set(Client.objects.filter(search_q(some.name)).values_list("pk", flat=True))
    # A year of history, not "now" for everything.
    oldest = Visit.objects.order_by("visited_at").first().visited_at
    newest = Client.objects.order_by("-created_at").first().created_at
    assert (newest - Client.objects.order_by("created_at").first().created_at).days > 200
    assert (newest - oldest).days > 200


def test_seed_bulk_refuses_a_second_run_unless_forced(org):
    run()
    with pytest.raises(CommandError):
        run()
    assert Client.objects.count() == 300
    run(force=True)
    assert Client.objects.count() == 600
    assert User.objects.filter(branch__code__startswith="b0").count() == 12  # users not duplicated
    assert Campaign.objects.count() == 4  # the quarters' campaigns are reused
    assert Survey.objects.filter(campaign__isnull=False).values("campaign").distinct().count() <= 4


STEPS = {
    Status.RECEIVED: ["received"],
    Status.ACKNOWLEDGED: ["received", "acknowledged"],
    Status.INVESTIGATING: ["received", "acknowledged", "investigating"],
    Status.RESOLVED: ["received", "acknowledged", "investigating", "resolved"],
    Status.RETURN_VISIT: ["received", "acknowledged", "investigating", "resolved", "return_visit"],
    Status.CLOSED: ["received", "acknowledged", "investigating", "resolved", "return_visit", "closed"],
}


def test_seed_bulk_complaints(org):
    run()
    now = timezone.now()
    complaints = list(Complaint.objects.select_related("client").prefetch_related("events", "return_visits"))
    assert 10 <= len(complaints) <= 50, len(complaints)  # about one client in twelve
    assert not Complaint.objects.exclude(client__branch__code__startswith="b").exists()
    assert not Complaint.history.exists()  # bulk rows skip simple-history, like the clients
    received = [c.received_at for c in complaints]
    assert (max(received) - min(received)).days > 100  # a year of history
    closed = 0
    for c in complaints:
        assert c.client.created_at <= c.received_at <= now
        # R16: the deadlines are the service's, from the moment the complaint was received.
        ack, ack_provisional = complaint_services.acknowledge_deadline(c.received_at, c.severity)
        resolve, resolve_provisional = complaint_services.resolve_deadline(c.received_at, c.severity)
        assert (c.acknowledge_due_at, c.resolve_due_at) == (ack, resolve), c.pk
        assert c.due_provisional == (ack_provisional or resolve_provisional)
        events = list(c.events.all())
        assert [e.at for e in events] == sorted(e.at for e in events)
        assert all(e.at <= now for e in events)
        visits = list(c.return_visits.all())
        steps = [e.kind for e in events if e.kind in ("received", "acknowledged", "investigating", "resolved",
                                                       "return_visit", "closed")]  # fmt: skip
        done_visits = [v for v in visits if v.visited_at]
        expected = STEPS[c.status][:5] + ["return_visit"] * (len(done_visits) - 1) + STEPS[c.status][5:]
        assert steps == (expected if done_visits else STEPS[c.status]), (c.pk, c.status, steps)
        assert events[0].kind == "received" and events[0].by == c.received_by
        if c.status in (Status.RESOLVED, Status.RETURN_VISIT, Status.CLOSED):
            assert c.finding and c.resolution and c.resolved_at and visits  # R17, R18
            assert visits[0].due_at == c.resolved_at + dt.timedelta(hours=24)
        else:
            assert not c.finding and not visits
        if c.status == Status.CLOSED:
            closed += 1
            # R18: a complaint closes only after its return visit(s), each recorded.
            assert visits and all(v.visited_at and v.satisfaction for v in visits)
            assert c.resolved_at < visits[0].visited_at <= visits[-1].visited_at < c.closed_at <= now
            assert c.acknowledged_at < c.investigating_at < c.resolved_at
        handovers = list(HandOver.objects.filter(complaint=c))
        assert c.owner == (handovers[-1].to_user if handovers else c.received_by)  # R15
    assert closed > len(complaints) / 2  # most of a year's complaints are closed
    assert Event.objects.filter(complaint__in=complaints).count() >= 5 * closed
    assert ReturnVisit.objects.filter(visited_at__isnull=False).count() >= closed
    # The breach flags are there already: the overdue job finds nothing new to report (R16, R18).
    counts = complaint_services.complaints_flag_overdue()
    assert (counts["acknowledge"], counts["resolve"], counts["visits_overdue"]) == (0, 0, 0), counts
    for c in Complaint.objects.overdue(now):
        assert c.resolve_breached_at or c.acknowledge_breached_at

    staff = User.objects.filter(branch__code="b01", role=Role.STAFF).first()
    web = WebClient()
    web.force_login(staff)
    page = web.get("/complaints/")
    assert page.status_code == 200
    mine = Complaint.objects.restrict(staff, "view").order_by("-received_at").first()
    if mine:
        assert mine.code in page.content.decode()


def test_seed_bulk_surveys(org):
    run()
    now = timezone.now()
    surveys = list(Survey.objects.select_related("client", "campaign", "template"))
    assert 15 <= len(surveys) <= 75, len(surveys)  # about one client in eight
    assert not Survey.objects.exclude(client__branch__code__startswith="b").exists()
    assert sum(s.client.grade in "AB" for s in surveys) >= 0.8 * len(surveys)
    assert not Survey.history.exists()

    # R25a: the last four quarters' campaigns on the default template, the past ones closed
    # with a report per branch that reads the answered surveys.
    campaigns = list(Campaign.objects.order_by("opens_on"))
    assert len(campaigns) == 4 and all(c.template.is_default for c in campaigns)
    assert [c.status for c in campaigns] == ["closed"] * 3 + ["open"]
    assert campaigns[-1].opens_on <= timezone.localdate() <= campaigns[-1].deadline
    for c in campaigns[:3]:
        answered = Survey.objects.filter(campaign=c, status=Survey.Status.ANSWERED).count()
        assert c.summary["answered"] == answered
        reports = CampaignBranchReport.objects.filter(campaign=c)
        assert sum(r.summary["answered"] for r in reports) == answered
        assert not Survey.objects.filter(campaign=c, status__in=["draft", "sent"]).exists()
    for s in surveys:
        if s.campaign:
            assert s.client.grade in s.campaign.grades and s.client.created_at < s.created_at

    answered = [s for s in surveys if s.status == Survey.Status.ANSWERED]
    # Most surveys of the closed campaigns came back; the open one may have opened today (on
    # 1 January, say), so it is not counted.
    closed = [s for s in surveys if s.campaign is None or s.campaign.status == "closed"]
    assert sum(s.status == Survey.Status.ANSWERED for s in closed) >= 0.6 * len(closed)
    assert (max(s.answered_at for s in answered) - min(s.answered_at for s in answered)).days > 60
    five = list(Answer.objects.filter(question__scale="five").values_list("score", flat=True))
    assert sum(score >= 4 for score in five) >= 0.6 * len(five)  # mostly 4-5
    assert sum(score <= 2 for score in five) <= 0.1 * len(five)  # rarely 1-2
    for s in answered:
        assert s.client.created_at <= s.sent_at < s.answered_at <= now
        scores = dict(Answer.objects.filter(survey=s).values_list("question_id", "score"))
        assert set(scores) == set(
            Question.objects.filter(dimension__template=s.template).values_list("pk", flat=True)
        )
        # The app's own recording of the same scores gives the same rate, count and follow-up.
        twin = survey_services.survey_create(by=s.client.owner, client=s.client, template=s.template)
        twin = survey_services.survey_enter_paper(
            survey=twin, by=s.client.owner, scores=scores, respondent="核对"
        )
        assert (s.satisfaction_rate, s.unsatisfied_count) == (twin.satisfaction_rate, twin.unsatisfied_count)
        theirs = FollowUp.objects.filter(survey=twin).first()
        ours = FollowUp.objects.filter(survey=s).first()
        assert (ours and ours.items) == (theirs and theirs.items)
        if ours:
            assert (ours.owner, ours.branch_id, ours.client) == (s.client.owner, s.branch_id, s.client)
    for s in surveys:
        if s.status != Survey.Status.ANSWERED:
            assert s.answered_at is None and s.satisfaction_rate is None and not s.answers.exists()

    bulk = Survey.objects.filter(pk__in=[s.pk for s in surveys])
    unsatisfied = set(
        Answer.objects.filter(survey__in=bulk, unsatisfied=True).values_list("survey", flat=True)
    )
    assert set(FollowUp.objects.filter(survey__in=bulk).values_list("survey", flat=True)) == unsatisfied
    assert set(bulk.filter(unsatisfied_count__gt=0).values_list("pk", flat=True)) == unsatisfied

    staff = User.objects.filter(branch__code="b01", role=Role.STAFF).first()
    web = WebClient()
    web.force_login(staff)
    assert web.get("/surveys/results/").status_code == 200
    assert web.get("/surveys/").status_code == 200
