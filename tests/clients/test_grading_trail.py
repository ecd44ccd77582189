"""R7, grading's audit trail: every path that changes a client's grade goes through the one
grading service (clients.services.client_set_grade), which keeps who, when, from, to, why, the
rules' suggestion and its criteria. The admin shows the grade read-only with a link to the
grading page; the import records the rules' suggestion; the demo and bulk data are graded by
people who may grade (the branch manager or group marketing), never staff."""

from __future__ import annotations

import pytest
from django.db.models import Count
from django.urls import reverse

from clients import grading, services
from clients import seed as demo
from clients.admin import ClientAdmin
from clients.imports import services as importing
from clients.models import Client, GradeChange
from crm.models import Role
from tests.clients.archive_helpers import make_client
from tests.clients.test_import import GOOD, confirm, eager, media, upload, xlsx  # noqa: F401

pytestmark = pytest.mark.django_db


def admin_post_data(response) -> dict:
    """What the admin's change (or history revert) form would post back unchanged."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if isinstance(value, list | tuple):
            data[name] = [getattr(v, "pk", v) for v in value]
        else:
            data[name] = getattr(value, "pk", value)
    return data


# --------------------------------------------------------------------------- the admin


def test_admin_shows_the_grade_read_only_with_a_link_to_the_grading_page(org):
    client = make_client(org)
    services.client_set_grade(client=client, grade="B", reason="已中标二期", by=org["east_manager"])
    web = org.web("admin")
    url = reverse("admin:clients_client_change", args=[client.pk])
    page = web.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="grade"' not in html
    assert "grade" not in page.context["adminform"].form.fields
    assert reverse("clients:client-set-grade", kwargs={"pk": client.pk}) in html

    data = admin_post_data(page) | {"grade": "A", "remarks": "管理后台修改备注"}
    response = web.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    client.refresh_from_db()
    assert client.remarks == "管理后台修改备注"  # the form saved...
    assert client.grade == "B"  # ...but not the grade
    assert list(GradeChange.objects.filter(client=client).values_list("to_grade", flat=True)) == ["B"]


def test_admin_has_no_editable_grade_in_the_list_nor_a_grading_action(org):
    assert "grade" not in (ClientAdmin.list_editable or ())
    assert "grade" in ClientAdmin.readonly_fields
    web = org.web("admin")
    page = web.get(reverse("admin:clients_client_changelist"))
    assert page.status_code == 200
    actions = [name for name, _label in page.context["action_form"].fields["action"].choices if name]
    assert actions == ["delete_selected"]


# --------------------------------------------------------------------------- the import


@pytest.mark.usefixtures("eager")
def test_manager_import_records_the_rules_suggestion_and_criteria(org, django_capture_on_commit_callbacks):
    web = org.web("east_manager")
    job = upload(web, xlsx(GOOD[:1]), django_capture_on_commit_callbacks)
    confirm(web, job, django_capture_on_commit_callbacks)
    client = Client.objects.get()
    assert client.grade == "A"  # the sheet's grade, applied by one who may grade
    change = GradeChange.objects.get(client=client)
    # The rules' suggestion from the imported facts (two projects, nothing else recorded): B,
    # with each criterion, not the sheet's grade copied.
    suggested, criteria = grading.suggest_grade(client)
    assert (change.suggested_grade, suggested) == ("B", "B")
    assert change.criteria == criteria and next(c for c in criteria if c["key"] == "history")["held"]
    assert (change.from_grade, change.to_grade) == ("", "A")
    assert change.changed_by == org["east_manager"] and change.reason == importing.IMPORT_REASON
    # The archive's history row of the grading names the grader and the reason too (R13's
    # plan re-check may add its own note after it).
    row = client.history.filter(grade="A").order_by("history_id").first()
    assert row.history_user == org["east_manager"]
    assert row.history_change_reason.startswith(importing.IMPORT_REASON)


@pytest.mark.usefixtures("eager")
def test_staff_import_applies_no_grade_and_warns(org, django_capture_on_commit_callbacks):
    web = org.web("east_staff")
    job = upload(web, xlsx(GOOD[:1]), django_capture_on_commit_callbacks)
    warnings = importing.ImportJob.objects.get(pk=job).report["rows"][0]["warnings"]
    assert [w["column"] for w in warnings] == ["客户分级"]
    confirm(web, job, django_capture_on_commit_callbacks)
    assert Client.objects.get().grade == "C" and not GradeChange.objects.exists()


# --------------------------------------------------------------------------- the demo data


def test_demo_grade_changes_are_made_by_who_may_grade_with_reason_and_criteria(org):
    demo.seed(org.org)
    changes = GradeChange.objects.select_related("changed_by", "client")
    assert changes.count() >= Client.objects.count() > 0
    assert not changes.filter(changed_by__role=Role.STAFF).exists()
    for change in changes:
        user = change.changed_by
        assert user.role == Role.MARKETING or (
            user.role == Role.MANAGER and user.branch_id == change.client.branch_id
        ), (change, user)
        assert change.criteria and {c["key"] for c in change.criteria} >= {"history", "integrity_bad"}
        assert change.suggested_grade == grading_of(change.criteria)
        if change.from_grade or change.to_grade != change.suggested_grade:
            assert change.reason.strip(), change
    assert changes.exclude(from_grade="").exists()
    # Each client's last change holds the rules' suggestion for the facts it has now.
    last = {}
    for change in GradeChange.objects.order_by("changed_at"):
        last[change.client_id] = change
    for client in Client.objects.annotate(project_count=Count("projects")):
        client.unreasonable_count = 0  # no complaints in this demo run
        assert last[client.pk].suggested_grade == grading.suggest_grade(client)[0], client


def grading_of(criteria: list[dict]) -> str:
    """The grade the R7 rules give for these criteria."""
    if any(c["held"] for c in criteria if c["points_to"] == "C"):
        return "C"
    if all(c["held"] for c in criteria if c["points_to"] == "A"):
        return "A"
    return "B"


def test_bulk_grade_changes_are_made_by_who_may_grade(org):
    from django.core.management import call_command

    call_command("seed_bulk", clients=60, branches=2, users=8, verbosity=0)
    changes = GradeChange.objects.select_related("changed_by", "client")
    assert changes.count() == 60
    assert not changes.filter(changed_by__role=Role.STAFF).exists()
    for change in changes:
        assert change.criteria and change.suggested_grade == grading_of(change.criteria)
        if change.to_grade != change.suggested_grade:
            assert change.reason.strip()
