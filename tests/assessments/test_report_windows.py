"""R26-R28: a report's window runs from the previous report's freeze to its own, so every record
lands in exactly one report; a quiet branch is recorded as 无变化 by the job, on time and owing
nothing; the lists behind a report are read through the reader's scope (a suspended branch sees
only what its people own, R33)."""

from __future__ import annotations

import pytest
import time_machine

from assessments.monthly import services
from assessments.obligations import holds_sync, owed
from clients.models import Client
from crm import figures as fig
from crm.models import Suspension

from .helpers import at, new_client

pytestmark = pytest.mark.django_db

NOV, DEC, JAN = fig.Period(2026, 11), fig.Period(2026, 12), fig.Period(2027, 1)


def _close(period, moment):
    with time_machine.travel(moment, tick=False):
        close, pending = services.monthly_close_start(period=period)
        for branch_id in pending:
            services.monthly_close_part(close_id=close.pk, branch_id=branch_id)


def _report(org, period, code="east"):
    return services.report_open(branch=org.branches[code], period=period)


def _in(org, period, code="east"):
    """The ids of the new clients a report froze (or counts live)."""
    report = _report(org, period, code)
    report.refresh_from_db()
    rows, _count = services.report_rows(report, org["marketing"], "new_clients")
    return {r["id"] for r in rows}


@pytest.mark.parametrize("submit_early", [True, False])
def test_every_client_lands_in_exactly_one_report(org, submit_early):
    """The boundaries: an early submission on the 20th; 19:59 and 20:01 on the 25th (the
    deadline is 20:00), 23:59 on the 25th and 00:00 on the 26th."""
    made = {}
    with time_machine.travel(at("2026-11-26T09:00"), tick=False):
        made["dec-start"] = new_client(org, "east").pk
    if submit_early:
        with time_machine.travel(at("2026-12-20T10:00"), tick=False):
            services.report_submit(report=_report(org, DEC), by=org["east_manager"])
    for label, moment in (
        ("20th-later", "2026-12-20T10:01"),
        ("19:59", "2026-12-25T19:59"),
        ("20:01", "2026-12-25T20:01"),
        ("23:59", "2026-12-25T23:59"),
        ("00:00", "2026-12-26T00:00"),
    ):
        if label == "20:01":
            _close(DEC, at("2026-12-25T20:00"))
        with time_machine.travel(at(moment), tick=False):
            made[label] = new_client(org, "east").pk
    with time_machine.travel(at("2027-01-20T10:00"), tick=False):
        dec, jan = _in(org, DEC), _in(org, JAN)
    assert not dec & jan
    assert dec | jan == set(made.values()) == set(Client.objects.values_list("pk", flat=True))
    in_december = {"dec-start"} | ({"20th-later", "19:59"} if not submit_early else set())
    assert dec == {made[k] for k in in_december}
    # January's report says where it starts: December's freeze.
    december = _report(org, DEC)
    december.refresh_from_db()
    assert services.report_window(_report(org, JAN)).start == december.frozen_at
    assert december.frozen_at == (at("2026-12-20T10:00") if submit_early else DEC.deadline)


def test_the_next_periods_draft_opens_at_once_after_an_early_submission(org):
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        services.report_submit(report=_report(org, DEC), by=org["east_manager"])
    with time_machine.travel(at("2026-12-21T09:00"), tick=False):
        client = new_client(org, "east")
    with time_machine.travel(at("2026-12-21T10:00"), tick=False):
        web = org.web("east_manager")
        response = web.get("/reports/monthly/current/")
        assert response.status_code == 302
        draft = web.get(response["Location"])
    assert draft.context["report"].period == JAN.label
    assert draft.context["values"]["new_clients"] == 1
    assert draft.context["window"].start == at("2026-12-20T10:00")
    assert client.pk in {r["id"] for r in draft.context["result"].lists["new_clients"]}


def test_a_quiet_branch_is_recorded_as_no_change_on_time_and_owes_nothing(org):
    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        new_client(org, "east")  # east has something to report; design has nothing
    _close(DEC, at("2026-12-25T20:00"))
    east, design = _report(org, DEC), _report(org, DEC, "design")
    east.refresh_from_db()
    design.refresh_from_db()
    assert east.status == "missing" and east.timeliness == "missing"
    assert design.status == "no_change" and design.no_change
    assert design.timeliness == "on_time" and design.on_time is True
    assert [e.action for e in design.events.all()] == ["no_change"]
    with time_machine.travel(at("2026-12-26T09:00"), tick=False):
        assert not [o for o in owed(org.branches["design"]) if o["kind"] == "monthly_report"]
        assert [o["overdue"] for o in owed(org.branches["east"]) if o["kind"] == "monthly_report"] == [True]
        # The hold is about what is overdue (the 25th's report is not among design's debts).
        assert holds_sync(org.branches["east"]) is not None
        data = services.rollup(org["marketing"], DEC)
    states = {row["branch"].code: row["timeliness"] for row in data["rows"]}
    assert states["design"] == "on_time" and states["east"] == "missing"


def test_a_suspended_branch_reads_a_reports_lists_through_its_own_scope(org):
    """R33: while the archive is suspended, the lists behind a frozen report are the frozen ids
    read again through restrict(reader): the manager sees the clients he owns, nothing else."""
    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        mine = new_client(org, "east")
        mine.owner = org["east_manager"]
        mine.save()
        theirs = new_client(org, "east")
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        report = services.report_submit(report=_report(org, DEC), by=org["east_manager"])
        Suspension.objects.create(
            branch=org.branches["east"], kind="archive", reason="考核结果为差", ends_at=at("2027-01-20T10:00")
        )
        web = org.web("east_manager")
        page = web.get(f"/reports/monthly/{report.pk}/figures/new_clients/")
        export = web.get(f"/reports/monthly/{report.pk}/figures/new_clients/", {"export": "xlsx"})
        staff = org.web("east_staff").get(f"/reports/monthly/{report.pk}/figures/new_clients/")
        group = org.web("marketing").get(f"/reports/monthly/{report.pk}/figures/new_clients/")
    assert page.status_code == 200
    assert [r["url"] for r in page.context["rows"]] == [f"/clients/{mine.pk}/"]
    assert page.context["hidden"] == 1 and theirs.name not in page.content.decode()
    assert theirs.name.encode() not in export.content or _cells(export) == [mine.name]
    # The staff member is the account owner of the other client: that one, and not the manager's.
    assert [r["url"] for r in staff.context["rows"]] == [f"/clients/{theirs.pk}/"]
    assert staff.context["hidden"] == 1
    assert group.context["count"] == 2 and group.context["hidden"] == 0


def _cells(response):
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(response.content)).active
    return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]]


def test_no_request_path_reaches_the_system_principal():
    """design.md: SYSTEM (the job's principal) never reaches a request path. Views, viewsets,
    API modules, template tags, home panels and selectors may not name it."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.glob("*/**/*.py"):
        parts = path.relative_to(root).parts
        if parts[0] in (".venv", "tests", "bench") or "migrations" in parts:
            continue
        name = path.name
        request_code = (
            name in ("views.py", "selectors.py", "home_panels.py", "panels.py", "exports.py", "urls.py")
            or "api" in parts
            or "templatetags" in parts
            or name.endswith("_views.py")
        )
        if request_code and re.search(r"\bSYSTEM\b", path.read_text(encoding="utf-8")):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_an_assessments_lists_are_read_through_the_readers_scope(org):
    """The indicators freeze ids as a report does; the page reads them through restrict(reader)."""
    from assessments.review.views import visible_indicators

    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        mine = new_client(org, "east")
        mine.owner = org["east_manager"]
        mine.save()
        theirs = new_client(org, "east")
    frozen = {
        "reporting": {"periods": 6},
        "clients": {"new_clients": {"value": 2, "list": [{"id": mine.pk}, {"id": theirs.pk}]}},
    }
    Suspension.objects.create(
        branch=org.branches["east"], kind="archive", reason="考核结果为差", ends_at=at("2099-01-20T10:00")
    )
    manager = visible_indicators(org["east_manager"], frozen)["clients"]["new_clients"]
    assert [r["id"] for r in manager["list"]] == [mine.pk] and manager["hidden"] == 1
    assert manager["value"] == 2  # the frozen figure stands; the page says one row is hidden
    auditor = visible_indicators(org["auditor"], frozen)["clients"]["new_clients"]
    assert len(auditor["list"]) == 2 and auditor["hidden"] == 0
    assert visible_indicators(org["auditor"], frozen)["reporting"] == {"periods": 6}
