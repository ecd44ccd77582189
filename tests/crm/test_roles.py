"""Roles as auth groups, branch groups with guardian object permissions, restrict() (R2, R3)."""

import pytest
from django.contrib.auth.models import Group

from crm.access import can
from crm.models import Branch, Role, Suspension
from crm.services import user_set_role

pytestmark = pytest.mark.django_db


def test_branch_roles_get_their_branch_through_guardian(org):
    east = org.branches["east"]
    staff = org["east_staff"]
    assert staff.groups.filter(name="east:staff").exists()
    assert staff.has_perm("crm.view_branch_archive", east)
    assert not staff.has_perm("crm.view_branch_archive", org.branches["south"])
    assert not staff.has_perm("crm.manage_branch_archive", east)
    assert org["east_manager"].has_perm("crm.manage_branch_archive", east)


def test_branch_restrict_by_role(org):
    assert list(Branch.objects.restrict(org["east_staff"], "view")) == [org.branches["east"]]
    assert Branch.objects.restrict(org["leader"], "view").count() == 5
    assert Branch.objects.restrict(org["norole"], "view").count() == 0


def test_group_roles_read_everything_and_only_marketing_writes(org):
    from clients.models import Client

    assert can(org["leader"], "view", Client) and not can(org["leader"], "change", Client)
    assert can(org["auditor"], "view", Client) and not can(org["auditor"], "delete", Client)
    assert can(org["marketing"], "change", Client)
    assert not can(org["norole"], "view", Client)


def test_changing_role_moves_groups(org):
    user = org["east_staff"]
    user_set_role(user=user, role=Role.MANAGER, branch=org.branches["south"])
    names = set(user.groups.values_list("name", flat=True))
    assert names == {"south:manager"}
    user_set_role(user=user, role=Role.LEADER, branch=org.branches["hq"])
    assert set(user.groups.values_list("name", flat=True)) == {"group:leader"}


def test_new_branch_gets_its_groups():
    Branch.objects.create(code="north", name="华北区域分公司")
    assert Group.objects.filter(name__in=["north:staff", "north:manager"]).count() == 2


def test_archive_suspension_narrows_scope_to_own_clients(org):
    """R33: while suspended, a branch's people see only clients they are account owner of."""
    import datetime as dt

    from django.utils import timezone

    from tests.clients.factories import ClientFactory

    staff = org["east_staff"]
    mine = ClientFactory(branch=org.branches["east"], owner=staff)
    colleague = ClientFactory(branch=org.branches["east"], owner=org["east_manager"])
    from clients.models import Client

    assert set(Client.objects.restrict(staff, "view")) == {mine, colleague}
    suspension = Suspension.objects.create(
        branch=org.branches["east"],
        kind=Suspension.Kind.ARCHIVE,
        reason="考核结果为差",
        ends_at=timezone.now() + dt.timedelta(days=30),
    )
    assert set(Client.objects.restrict(staff, "view")) == {mine}
    assert list(Branch.objects.restrict(staff, "add")) == [org.branches["east"]]
    suspension.ends_at = timezone.now()
    suspension.save()
    assert set(Client.objects.restrict(staff, "view")) == {mine, colleague}


def test_in_scope_agrees_with_restrict(org):
    """The template filter's in-memory check and the SQL filter give the same answers."""
    import datetime as dt

    from django.utils import timezone

    from clients.models import Client, Contact
    from crm.access import in_scope
    from tests.clients.factories import ClientFactory, ContactFactory
    from tests.clients.grants import make_grant

    east = ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
    south = ClientFactory(branch=org.branches["south"], owner=org["south_staff"])
    granted = ClientFactory(branch=org.branches["design"], owner=org["design_staff"])
    rows = [east, south, granted] + [ContactFactory(client=c) for c in (east, south, granted)]
    make_grant(org, org["east_staff"], granted, active=True)

    def agree():
        for username in ("east_staff", "east_manager", "south_staff", "leader", "marketing", "norole"):
            user = org[username]
            for action in ("view", "change", "delete"):
                for obj in rows:
                    expected = type(obj).objects.restrict(user, action).filter(pk=obj.pk).exists()
                    assert in_scope(user, action, obj) == expected, (username, action, obj)

    agree()
    Suspension.objects.create(
        branch=org.branches["east"],
        kind=Suspension.Kind.ARCHIVE,
        reason="考核结果为差",
        ends_at=timezone.now() + dt.timedelta(days=30),
    )
    agree()
    assert Client.objects.restrict(org["east_staff"], "view").count() == 1
    assert Contact.objects.restrict(org["east_staff"], "view").count() == 1
