"""Shared helpers of the departments' reports tests (R80-R86): a project department's own
person, named as the demo names them (``east_hongqiao_staff``)."""

from __future__ import annotations

from crm.models import Role, User
from crm.services import user_set_role
from tests.conftest import PASSWORD


def dept_staff(org, code: str, dcode: str) -> User:
    username = f"{code}_{dcode.removeprefix('pd-')}_staff"
    if username in org.users:
        return org.users[username]
    user = User.objects.create_user(username, password=PASSWORD, full_name=f"{dcode}人员")
    user = user_set_role(
        user=user, role=Role.STAFF, branch=org.branches[code], department=org.departments[(code, dcode)]
    )
    org.users[username] = user
    return user
