"""The access-request workflow of R5, grants, their expiry and revocation, the R33 pause of
grants and requests, and client transfers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from clients.access import services as svc
from clients.models import AccessGrant, AccessRequest, Client, ClientUserObjectPermission, Project
from crm.access import check_in_scope
from crm.models import Notification, Suspension
from tests.clients.factories import ClientFactory, ContactFactory, ProjectFactory
from tests.clients.grants import make_grant

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def east_client(org, **kw):
    return ClientFactory(branch=org.branches["east"], owner=org["east_staff"], **kw)


def file(org, client, user="south_staff", days=30):
    return svc.access_request_create(
        requester=org[user],
        clients=[client],
        reason="参与该客户二期项目投标",
        ends_on=TODAY() + dt.timedelta(days=days),
    )


def visible(user, client):
    return Client.objects.restrict(user, "view").filter(pk=client.pk).exists()


def notes(user):
    return list(Notification.objects.filter(recipient=user).values_list("title", flat=True))


# -- the happy path --------------------------------------------------------------------------


def test_full_workflow_grants_view_only_and_notifies_each_step(org):
    client = east_client(org)
    south = org["south_staff"]
    assert not visible(south, client)

    req = file(org, client)
    assert req.status == AccessRequest.Status.SUBMITTED and req.branch == org.branches["south"]
    assert any("待审核" in t for t in notes(org["marketing"]))
    assert any("已提交" in t for t in notes(south))

    svc.access_request_forward(access_request=req, by=org["marketing"], note="理由充分")
    assert any("待审批" in t for t in notes(org["leader"]))

    grant = svc.access_request_approve(access_request=req, by=org["leader"])
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.APPROVED and req.decided_by == org["leader"]
    assert any("已批准" in t for t in notes(south))
    assert set(grant.clients.all()) == {client}
    # The grant ends at the end of ends_on in Asia/Shanghai.
    assert timezone.localtime(grant.ends_at).time() == dt.time(0, 0)
    assert timezone.localtime(grant.ends_at).date() == req.ends_on + dt.timedelta(days=1)
    # guardian per-client permission in the direct-FK table (R5)
    assert ClientUserObjectPermission.objects.filter(user=south, content_object=client).count() == 1
    # View only, never change (R5)
    assert visible(south, client)
    assert not check_in_scope(south, "change", client)
    assert not Client.objects.restrict(south, "delete").filter(pk=client.pk).exists()
    # Related records of the client come along for viewing (contacts are part of the archive).
    contact = ContactFactory(client=client)
    assert contact.__class__.objects.restrict(south, "view").filter(pk=contact.pk).exists()
    # Only the requester gains access, not their colleagues.
    assert not visible(org["south_manager"], client)
    # History keeps every step (the request's timeline).
    reasons = [h.history_change_reason for h in req.history.order_by("history_date")]
    assert reasons == ["提交查阅申请", "市场营销部审核通过,提交集团领导审批", "集团领导批准"]


def test_expired_grant_ignored_before_revoke_job_then_job_is_idempotent(org):
    client = east_client(org)
    south = org["south_staff"]
    grant = make_grant(org, south, client, active=True)
    assert visible(south, client)
    grant.ends_at = timezone.now() - dt.timedelta(minutes=1)
    grant.save(update_fields=["ends_at"])
    # The permission row still exists, but restrict ignores the ended grant.
    assert ClientUserObjectPermission.objects.filter(user=south, content_object=client).exists()
    assert not visible(south, client)

    assert svc.grant_revoke_expired() == 1
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert not ClientUserObjectPermission.objects.filter(user=south, content_object=client).exists()
    sent = Notification.objects.filter(recipient=south, verb="access_grant").count()
    assert svc.grant_revoke_expired() == 0  # idempotent
    assert Notification.objects.filter(recipient=south, verb="access_grant").count() == sent


def test_revoke_keeps_permission_covered_by_another_active_grant(org):
    client = east_client(org)
    south = org["south_staff"]
    old = make_grant(org, south, client, active=False)
    make_grant(org, south, client, active=True)
    assert svc.grant_revoke_expired() == 1
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert visible(south, client)


def test_permission_without_grant_gives_nothing(org):
    """A stray guardian row alone (no active AccessGrant) opens nothing (R4)."""
    from guardian.shortcuts import assign_perm

    client = east_client(org)
    assign_perm("clients.view_client", org["south_staff"], client)
    assert not visible(org["south_staff"], client)


def test_archive_suspension_pauses_grants_and_refuses_requests(org):
    client = east_client(org)
    south = org["south_staff"]
    make_grant(org, south, client, active=True)
    assert visible(south, client)
    suspension = Suspension.objects.create(
        branch=org.branches["south"],
        kind=Suspension.Kind.ARCHIVE,
        reason="半年度考核结果为差",
        ends_at=timezone.now() + dt.timedelta(days=30),
    )
    assert not visible(south, client)  # R33: grants are paused
    with pytest.raises(ValidationError, match="暂停"):
        file(org, east_client(org))
    suspension.lifted_at = timezone.now()
    suspension.save()
    assert visible(south, client)  # the grant resumes by itself


def test_submissions_hold_delays_approval(org):
    req = file(org, east_client(org))
    svc.access_request_forward(access_request=req, by=org["marketing"])
    Suspension.objects.create(
        branch=org.branches["south"],
        kind=Suspension.Kind.SUBMISSIONS,
        reason="未按时上报月度报表",
        ends_at=timezone.now() + dt.timedelta(days=300),
    )
    with pytest.raises(ValidationError, match="在补交之前暂停审批该单位待批的查阅申请"):
        svc.access_request_approve(access_request=req, by=org["leader"])
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.FORWARDED and not AccessGrant.objects.exists()


# -- refusals --------------------------------------------------------------------------------


def test_create_refusals(org):
    client = east_client(org)
    south_client = ClientFactory(branch=org.branches["south"], owner=org["south_staff"])
    for requester, message in (("marketing", "集团职能部门"), ("norole", "分子公司人员")):
        with pytest.raises(PermissionDenied, match=message):  # a missing role: 403
            svc.access_request_create(
                requester=org[requester],
                clients=[client],
                reason="了解",
                ends_on=TODAY() + dt.timedelta(days=10),
            )
    cases = [
        (dict(requester=org["south_staff"], clients=[]), "至少选择"),
        (dict(requester=org["south_staff"], clients=[south_client]), "本单位的客户无需申请"),
        (dict(requester=org["south_staff"], clients=[client], reason="  "), "申请理由"),
        (dict(requester=org["south_staff"], clients=[client], ends_on=TODAY() + dt.timedelta(days=90)), "90"),
        (
            dict(requester=org["south_staff"], clients=[client], ends_on=TODAY() - dt.timedelta(days=1)),
            "早于",
        ),
        (
            dict(requester=org["south_staff"], clients=[client], starts_on=TODAY() - dt.timedelta(days=1)),
            "早于今天",
        ),
    ]
    for kwargs, message in cases:
        params = {"reason": "了解合作历史", "ends_on": TODAY() + dt.timedelta(days=10), **kwargs}
        with pytest.raises(ValidationError) as exc:
            svc.access_request_create(**params)
        assert message in str(exc.value), (kwargs, exc.value)
    assert not AccessRequest.objects.exists()
    # 90 days inclusive is the limit that is accepted.
    ok = svc.access_request_create(
        requester=org["south_staff"], clients=[client], reason="了解", ends_on=TODAY() + dt.timedelta(days=89)
    )
    assert ok.pk


def test_review_and_approval_refusals(org):
    req = file(org, east_client(org))
    for user in ("south_staff", "east_manager", "leader", "auditor"):
        with pytest.raises(PermissionDenied, match="市场营销部"):  # a missing role: 403
            svc.access_request_forward(access_request=req, by=org[user])
    with pytest.raises(ValidationError, match="已通过市场营销部审核"):
        svc.access_request_approve(access_request=req, by=org["leader"])
    with pytest.raises(PermissionDenied, match="市场营销部驳回"):
        svc.access_request_reject(access_request=req, by=org["leader"], reason="不同意")
    with pytest.raises(ValidationError, match="驳回理由"):
        svc.access_request_reject(access_request=req, by=org["marketing"], reason=" ")
    svc.access_request_forward(access_request=req, by=org["marketing"])
    with pytest.raises(ValidationError, match="待审核"):
        svc.access_request_forward(access_request=req, by=org["marketing"])
    for user in ("marketing", "auditor", "south_manager"):
        with pytest.raises(PermissionDenied, match="集团领导"):
            svc.access_request_approve(access_request=req, by=org[user])
    with pytest.raises(PermissionDenied, match="集团领导驳回"):
        svc.access_request_reject(access_request=req, by=org["marketing"], reason="不同意")
    svc.access_request_reject(access_request=req, by=org["leader"], reason="与投标无关,不予批准")
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.REJECTED and req.decision_note.startswith("与投标无关")
    assert any("驳回" in t for t in notes(org["south_staff"]))
    for step in (
        lambda: svc.access_request_approve(access_request=req, by=org["leader"]),
        lambda: svc.access_request_reject(access_request=req, by=org["leader"], reason="x"),
        lambda: svc.access_request_withdraw(access_request=req, by=org["south_staff"]),
    ):
        with pytest.raises(ValidationError):
            step()
    assert not AccessGrant.objects.exists()


def test_marketing_rejects_at_review(org):
    req = file(org, east_client(org))
    svc.access_request_reject(access_request=req, by=org["marketing"], reason="申请理由不充分")
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.REJECTED and req.reviewed_by == org["marketing"]


def test_withdraw(org):
    req = file(org, east_client(org))
    with pytest.raises(PermissionDenied, match="申请人本人"):
        svc.access_request_withdraw(access_request=req, by=org["south_manager"])
    svc.access_request_forward(access_request=req, by=org["marketing"])
    svc.access_request_withdraw(access_request=req, by=org["south_staff"])
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.WITHDRAWN
    assert any("撤回" in t for t in notes(org["leader"]))
    with pytest.raises(ValidationError, match="撤回"):
        svc.access_request_withdraw(access_request=req, by=org["south_staff"])


def test_allowed_steps(org):
    req = file(org, east_client(org))
    assert svc.allowed_steps(org["marketing"], req) == ["forward", "reject"]
    assert svc.allowed_steps(org["leader"], req) == []
    assert svc.allowed_steps(org["south_staff"], req) == ["withdraw"]
    req = svc.access_request_forward(access_request=req, by=org["marketing"])
    assert svc.allowed_steps(org["leader"], req) == ["approve", "reject"]


def test_request_targets_are_other_branches_only(org):
    mine = ClientFactory(branch=org.branches["south"], owner=org["south_staff"])
    theirs = east_client(org)
    ids = set(svc.request_target_clients(org["south_staff"]).values_list("pk", flat=True))
    assert theirs.pk in ids and mine.pk not in ids
    assert not svc.request_target_clients(org["norole"]).exists()


# -- transfers -------------------------------------------------------------------------------


def test_transfer_moves_access_without_rewriting_permissions(org):
    client = east_client(org)
    project = ProjectFactory(client=client)
    before = ClientUserObjectPermission.objects.count()
    assert visible(org["east_staff"], client) and not visible(org["south_staff"], client)
    svc.client_transfer(
        client=client, to_branch=org.branches["south"], by=org["marketing"], reason="项目属地调整",
        owner=org["south_staff"],
    )  # fmt: skip
    client.refresh_from_db()
    assert client.branch == org.branches["south"] and client.owner == org["south_staff"]
    assert not visible(org["east_staff"], client)  # the old branch loses the client
    assert visible(org["south_staff"], client) and check_in_scope(org["south_staff"], "change", client)
    assert ClientUserObjectPermission.objects.count() == before  # nothing rewritten
    assert Project.objects.get(pk=project.pk).branch == org.branches["east"]  # projects stay
    latest = client.history.order_by("-history_date").first()
    assert "转移" in latest.history_change_reason
    assert any("转移" in t for t in notes(org["east_manager"]))


def test_transfer_refusals(org):
    client = east_client(org)
    for by in ("east_manager", "leader", "auditor"):
        with pytest.raises(PermissionDenied, match="市场营销部"):
            svc.client_transfer(client=client, to_branch=org.branches["south"], by=org[by], reason="调整")
    with pytest.raises(ValidationError) as exc:
        svc.client_transfer(client=client, to_branch=org.branches["east"], by=org["marketing"], reason="")
    assert set(exc.value.message_dict) == {"to_branch", "reason"}
    with pytest.raises(ValidationError, match="转入单位"):
        svc.client_transfer(
            client=client,
            to_branch=org.branches["south"],
            by=org["marketing"],
            reason="调整",
            owner=org["east_staff"],
        )
    client.refresh_from_db()
    assert client.branch == org.branches["east"]


def test_revoke_schedule_declared_hourly_at_minute_5(org):
    from django_celery_beat.models import PeriodicTask

    import clients.access.tasks  # noqa: F401  (declares the schedule)
    from crm.schedules import ensure_declared

    ensure_declared()
    task = PeriodicTask.objects.get(task="clients.access.tasks.revoke_expired_grants")
    assert (task.crontab.minute, task.crontab.hour) == ("5", "*")
    assert str(task.crontab.timezone) == "Asia/Shanghai"
