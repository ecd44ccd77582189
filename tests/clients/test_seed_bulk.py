"""``seed_bulk``: the benchmark's volume, in the expected proportions, once per database."""

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from clients.models import Client, Contact, GradeChange, Need, Project, Visit, VisitPlan
from crm.models import Branch, Role, User
from crm.validators import normalize_phone, validate_credit_code

pytestmark = pytest.mark.django_db


def run(**kwargs):
    call_command("seed_bulk", clients=300, branches=3, users=12, verbosity=0, **kwargs)


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
