"""Writes of the organisation: role groups and their permissions, notifications."""

from __future__ import annotations

import logging

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from .models import BRANCH_ROLES, Branch, BusinessModel, Notification, Role, User

logger = logging.getLogger(__name__)

GROUP_ROLE_GROUPS = {
    Role.MARKETING: "group:marketing",
    Role.LEADER: "group:leader",
    Role.AUDITOR: "group:auditor",
}


def branch_group_name(branch: Branch, role: str) -> str:
    return f"{branch.code}:{role}"


def business_models():
    return [m for m in apps.get_models() if issubclass(m, BusinessModel)]


def roles_sync() -> None:
    """Create the group-wide role groups and give them their model-level rights (R3):
    group marketing may do everything everywhere; leaders and auditors read everything."""
    view_only = []
    everything = []
    for model in business_models() + [Branch, apps.get_model("crm", "ProjectDepartment")]:
        for action in ("view", "add", "change", "delete"):
            perm = Permission.objects.filter(
                content_type__app_label=model._meta.app_label, codename=f"{action}_{model._meta.model_name}"
            ).first()
            if perm is None:
                continue
            if action == "view":
                view_only.append(perm)
            # Branch rights matter as "branches one may record under" (restrict on Branch);
            # the admin itself stays closed to marketing (not is_staff).
            everything.append(perm)
    marketing, _ = Group.objects.get_or_create(name=GROUP_ROLE_GROUPS[Role.MARKETING])
    marketing.permissions.add(*everything)
    for role in (Role.LEADER, Role.AUDITOR):
        group, _ = Group.objects.get_or_create(name=GROUP_ROLE_GROUPS[role])
        group.permissions.add(*view_only)
    # Models only some group roles may read (the access log, R4).
    for model in apps.get_models():
        roles = getattr(model, "view_roles", None)
        if not roles:
            continue
        perm = Permission.objects.get(
            content_type__app_label=model._meta.app_label, codename=f"view_{model._meta.model_name}"
        )
        for role in GROUP_ROLE_GROUPS:
            group = Group.objects.get(name=GROUP_ROLE_GROUPS[role])
            (group.permissions.add if role in roles else group.permissions.remove)(perm)
    for branch in Branch.objects.all():
        branch_ensure_groups(branch)


def branch_ensure_groups(branch: Branch) -> None:
    """Each branch has a staff and a manager group holding object permissions on the branch row."""
    staff, _ = Group.objects.get_or_create(name=branch_group_name(branch, Role.STAFF))
    manager, _ = Group.objects.get_or_create(name=branch_group_name(branch, Role.MANAGER))
    for group in (staff, manager):
        assign_perm("crm.view_branch_archive", group, branch)
        assign_perm("crm.change_branch_archive", group, branch)
    assign_perm("crm.manage_branch_archive", manager, branch)


@transaction.atomic
def user_set_role(*, user: User, role: str, branch: Branch | None = None, department=None) -> User:
    """Give a user a role (and branch); keeps their auth groups in step with it."""
    if role in BRANCH_ROLES and branch is None:
        raise ValueError("a branch role needs a branch")
    user.role = role
    user.branch = branch
    user.department = department
    user.is_staff = role == Role.ADMIN or user.is_superuser
    user.full_clean(exclude=["password"])
    user.save()
    managed = Group.objects.filter(name__contains=":")
    user.groups.remove(*managed)
    if role in GROUP_ROLE_GROUPS:
        user.groups.add(Group.objects.get_or_create(name=GROUP_ROLE_GROUPS[role])[0])
    elif role in BRANCH_ROLES:
        branch_ensure_groups(branch)
        user.groups.add(Group.objects.get(name=branch_group_name(branch, role)))
    for cache in (
        "_perm_cache",
        "_user_perm_cache",
        "_group_perm_cache",
        "_crm_branch_codenames",
        "_crm_scope",
    ):
        if hasattr(user, cache):
            delattr(user, cache)
    return user


def managers_of(branch: Branch):
    return User.objects.filter(branch=branch, role=Role.MANAGER, is_active=True)


def notify(*, recipients, verb: str, title, body="", url: str = "", key: str = "", email: bool = True):
    """Notify users in the app and through the outbox's channels (e-mail, and any registered):
    one notice, an in-app row per recipient, a delivery per channel target, all written in the
    caller's transaction and sent by the worker after commit, never inside the request
    (R109, R110). With a ``key``, a user is notified once only: a job that runs twice (R28) sends
    nothing the second time. ``title`` and ``body`` may be callables, rendered in each
    recipient's language (R113). ``email=False``: no e-mail. Returns the notifications made."""
    from .outbox.services import notice_publish

    return notice_publish(
        recipients=recipients, verb=verb, title=title, body=body, url=url, key=key, email=email
    )


def notification_read(*, notification: Notification, user: User) -> Notification:
    """The reader marks one of their own notifications read (the page's opening of it, and the
    API's ``read``). Reading it again keeps the first time it was read."""
    if notification.recipient_id != user.pk:
        raise Notification.DoesNotExist  # someone else's: callers look it up among the reader's own
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_read_all(*, user: User) -> int:
    """The reader marks every unread notification of their own read; returns how many were."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
