"""Writes of the client archive (domain.md section 2): clients with duplicate detection (R10),
stage changes (R6), grading (R7), needs with response deadlines (R11), visits and visit plans
(R13). Keyword-only, typed, ``full_clean()`` before ``save()``, one transaction each; every
write is re-checked against the user's scope inside its transaction (style.md 3)."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Greatest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from crm.access import check_in_scope, has_global
from crm.concurrency import lock_values
from crm.models import Role
from crm.services import managers_of, notify
from crm.validators import normalize_credit_code, normalize_name

from .deadlines import DEFAULT_NEED_DEADLINES, need_deadlines, need_due_at, need_due_rule  # noqa: F401 (re-exported)
from .grading import suggest_grade
from .models import (
    Client,
    Contact,
    Grade,
    GradeChange,
    Need,
    Project,
    SocialValue,
    StageChange,
    Tracking,
    Visit,
    VisitPlan,
)
from .projects import services as project_fees

# --------------------------------------------------------------------------- scope checks


def _ensure_in_scope(user, action: str, obj) -> None:
    """Re-check a saved row inside the transaction: out of scope rolls everything back.
    For a new row ("add") that is a refusal (403); for an existing one, 404 (style.md 4)."""
    if not check_in_scope(user, action, obj):
        if action == "add":
            raise PermissionDenied(_("无权在该分子公司下创建或移入记录。"))
        raise Http404


# --------------------------------------------------------------------------- clients (R6, R10)


@dataclass
class Duplicate:
    """An existing client that looks like the one being saved (R10). ``url`` is set only when
    the user may open it; otherwise only the branch holding it is named."""

    client: Client
    url: str | None
    branch_name: str


class DuplicateCreditCode(ValidationError):
    """The same credit code already exists (R10): refused."""

    def __init__(self, duplicate: Duplicate):
        self.duplicate = duplicate
        if duplicate.url:
            message = _("统一社会信用代码已存在:%(name)s(%(branch)s)。") % {
                "name": duplicate.client.name,
                "branch": duplicate.branch_name,
            }
        else:
            message = _("统一社会信用代码已被%(branch)s的客户使用,如需查阅请提交查阅申请。") % {
                "branch": duplicate.branch_name
            }
        super().__init__({"credit_code": message})


class SimilarNameWarning(Exception):
    """Clients with a very similar name exist (R10): the user must confirm "save anyway".
    ``token`` binds that confirmation to this warning (similar_token)."""

    def __init__(self, duplicates: list[Duplicate], token: str = ""):
        self.duplicates = duplicates
        self.token = token
        super().__init__(_("存在名称相近的客户。"))


def similar_token(*, name: str, similar_ids) -> str:
    """R10: what a "save anyway" must present: an HMAC of the normalized name and the ids of
    the similar clients the warning showed. A confirmation cannot be replayed for another name,
    and a similar client created after the warning (a parallel create of the same name)
    invalidates it, so the user is warned again and sees it."""
    message = normalize_name(name) + "|" + ",".join(str(pk) for pk in sorted(similar_ids))
    return hmac.new(
        settings.SECRET_KEY.encode(), b"similar-name:" + message.encode(), hashlib.sha256
    ).hexdigest()[:32]


def _duplicate(user, client: Client) -> Duplicate:
    visible = Client.objects.restrict(user, "view").filter(pk=client.pk).exists()
    return Duplicate(
        client=client,
        url=reverse("clients:client-detail", kwargs={"pk": client.pk}) if visible else None,
        branch_name=client.branch.name,
    )


def client_duplicates(*, user, name: str, credit_code: str = "", exclude_pk=None):
    """R10: (the client holding the same credit code or None, clients with a similar name).
    Searches the whole archive (duplicates are a group matter, R1) but reveals only a link
    to what the user may open."""
    others = Client.objects.select_related("branch")
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    same_code = None
    code = normalize_credit_code(credit_code)
    if code:
        hit = others.filter(credit_code=code).first()
        if hit:
            same_code = _duplicate(user, hit)
    similar = [_duplicate(user, hit) for hit in similar_name_clients(others, name)]
    return same_code, similar


# R10: how alike two names must be (difflib ratio of their canonical forms) to warn.
SIMILAR_NAME_RATIO = 0.8
SIMILAR_NAME_LIMIT = 5
_REGION_MARKER = re.compile(r"(.{2,3}?)(?:省|市|自治区|特别行政区)")
_NUMERALS = re.compile(r"[0-9零〇一二两三四五六七八九十百千]+")


def name_canonical(name: str) -> str:
    """R10: a name as people mean it, for similarity: the normalized name (suffixes such as
    有限公司 / 有限责任公司 dropped) without the administrative markers of a leading place
    name (广州市地铁 -> 广州地铁, 广东省建筑 -> 广东建筑) and without 集团 / 股份 anywhere."""
    rest = normalize_name(name)
    head = ""
    for _level in range(2):  # province then city: 广东省广州市...
        m = _REGION_MARKER.match(rest)
        if not m or len(rest) == m.end():
            break
        head += m.group(1)
        rest = rest[m.end() :]
    return (head + rest).replace("集团", "").replace("股份", "")


def names_similar(a: str, b: str) -> bool:
    """R10: would people call these the same company? The same canonical form, or canonical
    forms at least SIMILAR_NAME_RATIO alike (one character differing in a name of five or
    more), but never two names whose numbers differ (中建三局 / 中建八局, 第一 / 第二建筑)."""
    ca, cb = name_canonical(a), name_canonical(b)
    if not ca or not cb:
        return False
    if ca == cb:
        return True
    if _NUMERALS.findall(ca) != _NUMERALS.findall(cb):
        return False
    return difflib.SequenceMatcher(None, ca, cb).ratio() >= SIMILAR_NAME_RATIO


def similar_name_clients(queryset, name: str) -> list[Client]:
    """R10: the clients of ``queryset`` whose name is very similar to ``name`` (names_similar),
    most similar first. Candidates come from the database: on PostgreSQL by trigram similarity
    of the normalized name (pg_trgm, GIN index of migration 0010), elsewhere (SQLite) those
    sharing a two-character run with the canonical name; the final judgement is names_similar
    on both, so both databases warn about the same pairs."""
    key, canon = normalize_name(name), name_canonical(name)
    if not key:
        return []
    if connection.vendor == "postgresql":
        candidates = (
            queryset.annotate(
                name_sim=Greatest(
                    TrigramSimilarity("name_normalized", key), TrigramSimilarity("name_normalized", canon)
                )
            )
            # ``%`` (trigram_similar) is what the GIN index serves; its threshold is pg_trgm's
            # similarity_threshold, 0.3 by default.
            .filter(
                Q(name_normalized=key)
                | Q(name_normalized__trigram_similar=key)
                | Q(name_normalized__trigram_similar=canon)
            )
            .order_by("-name_sim", "pk")[:50]
        )
    else:
        bigrams = {canon[i : i + 2] for i in range(len(canon) - 1)} or {canon}
        match = Q(name_normalized=key)
        for bigram in sorted(bigrams)[:20]:
            match |= Q(name_normalized__contains=bigram)
        candidates = queryset.filter(match).order_by("pk")[:2000]
    hits = [c for c in candidates if names_similar(name, c.name)]
    hits.sort(key=lambda c: -difflib.SequenceMatcher(None, canon, name_canonical(c.name)).ratio())
    return hits[:SIMILAR_NAME_LIMIT]


def _check_duplicates(*, user, client: Client, token: str | None) -> None:
    """R10 on the rows committed so far. The caller holds ``_lock_identity``, so a parallel save
    of the same name or code waits for this transaction and then sees its row. ``token`` None:
    similar names are not checked (an update that keeps the name)."""
    same_code, similar = client_duplicates(
        user=user, name=client.name, credit_code=client.credit_code, exclude_pk=client.pk
    )
    if same_code:
        raise DuplicateCreditCode(same_code)
    if similar and token is not None:
        expected = similar_token(name=client.name, similar_ids=[d.client.pk for d in similar])
        if not hmac.compare_digest(token or "", expected):
            raise SimilarNameWarning(similar, expected)


def _lock_identity(client: Client) -> None:
    """Serialize the saves of one normalized name or one credit code (check-then-insert, R10)
    until this transaction ends (crm.concurrency.lock_values)."""
    lock_values(
        "client-name:" + normalize_name(client.name),
        "client-code:" + normalize_credit_code(client.credit_code) if client.credit_code else "",
    )


def _record_stage(*, client: Client, from_stage: str, by, note: str = "") -> None:
    """R6: every stage change is recorded."""
    if from_stage == client.stage:
        return
    change = StageChange(
        client=client, from_stage=from_stage or "", to_stage=client.stage, note=note, changed_by=by
    )
    change.full_clean()
    change.save()


@transaction.atomic
def client_create(*, by, data: dict, tags=(), similar_token: str = "") -> Client:
    """Create a client (R10 duplicates checked, R6 first stage recorded). ``data`` holds model
    field values (FKs as objects). Raises ValidationError, DuplicateCreditCode or
    SimilarNameWarning; nothing is saved then. A similar name is saved only with the
    ``similar_token`` of the warning about exactly the similar clients that exist now."""
    data = dict(data)
    data.setdefault("owner", by)
    # Grades are set only through client_set_grade (R7).
    data.pop("grade", None)
    client = Client(**data)
    client.full_clean()
    _lock_identity(client)
    _check_duplicates(user=by, client=client, token=similar_token)
    client.save()
    if tags:
        client.tags.set(tags)
    _ensure_in_scope(by, "add", client)
    _record_stage(client=client, from_stage="", by=by, note=_("新建客户"))
    return client


@transaction.atomic
def client_update(*, client: Client, by, data: dict, tags=None, similar_token: str = "") -> Client:
    """Update a client's archive form. The stage change is recorded (R6); the grade is not
    changed here (R7: client_set_grade). The save is refused (StaleVersion) when the row is no
    longer at ``client.version`` (optimistic locking, crm.models.Versioned)."""
    _ensure_in_scope(by, "change", client)
    before = Client.objects.get(pk=client.pk)
    data = dict(data)
    data.pop("grade", None)
    for field, value in data.items():
        setattr(client, field, value)
    client.full_clean()
    name_changed = normalize_name(client.name) != before.name_normalized
    code_changed = normalize_credit_code(client.credit_code) != before.credit_code
    if name_changed or code_changed:
        _lock_identity(client)
        _check_duplicates(user=by, client=client, token=similar_token if name_changed else None)
    client.save()
    if tags is not None:
        client.tags.set(tags)
    _ensure_in_scope(by, "change", client)
    _record_stage(client=client, from_stage=before.stage, by=by)
    return client


@transaction.atomic
def client_set_stage(*, client: Client, stage: str, by, note: str = "") -> Client:
    """R6: move a client to another lifecycle stage, recording the change."""
    _ensure_in_scope(by, "change", client)
    before = client.stage
    client.stage = stage
    client.full_clean()
    client.save(update_fields=["stage", "updated_at"])
    _record_stage(client=client, from_stage=before, by=by, note=note)
    return client


def may_set_grade(user, client: Client, *, in_scope: bool | None = None) -> bool:
    """R7: group marketing (model-level change right, R3), or a branch manager for their branch.
    ``in_scope``: whether ``restrict(user, "change")`` holds the client, when the caller has
    asked for many clients at once (the import); otherwise it is asked here."""
    if has_global(user, Client, "change"):
        return True
    return (
        user.is_authenticated
        and user.role == Role.MANAGER
        and user.branch_id is not None
        and user.branch_id == client.branch_id
        and (check_in_scope(user, "change", client) if in_scope is None else in_scope)
    )


@transaction.atomic
def client_set_grade(
    *, client: Client, grade: str, reason: str = "", by, initial: bool = False
) -> GradeChange:
    """R7: set a client's grade. Only group marketing or the branch manager of the client's
    branch; a grade differing from the suggestion needs a reason. The GradeChange keeps who,
    when, from, to, why, the suggestion and the criteria behind it. This is the one path that
    changes a grade (pages, API, import; the admin shows it read-only). ``initial``: the first
    grading of a client created in the same transaction (the import), which had no grade
    before (from is empty, not the model's default)."""
    if not may_set_grade(by, client):
        raise PermissionDenied(_("只有集团市场营销部或本单位经营部负责人可以调整客户分级。"))
    if grade not in Grade.values:
        raise ValidationError({"grade": _("无效的客户分级。")})
    client = Client.objects.select_for_update().get(pk=client.pk)
    suggested, criteria = suggest_grade(client)
    reason = (reason or "").strip()
    if grade != suggested and not reason:
        raise ValidationError(
            {"reason": _("所选分级与系统建议(%(s)s类)不一致,请填写理由。") % {"s": suggested}}
        )
    change = GradeChange(
        client=client,
        from_grade="" if initial else client.grade or "",
        to_grade=grade,
        suggested_grade=suggested,
        criteria=criteria,
        reason=reason,
        changed_by=by,
        changed_at=timezone.now(),
    )
    change.full_clean()
    change.save()
    client.grade = grade
    client.graded_at = change.changed_at
    client._history_user = by  # the history row names the grader and the reason (a worker has no request)
    client._change_reason = (reason or _("调整客户分级"))[:100]
    client.save(update_fields=["grade", "graded_at", "updated_at"])
    visit_plan_recheck(client=client, by=by)
    # R39: a grade of A or B ends an open proposal or give-up (after the plan's recheck, which
    # annotates the grade's own history row).
    from .giveups.services import giveup_end_on_regrade

    giveup_end_on_regrade(client=client, by=by)
    # R45, R46: a grade change from B to A or C is the client's evaluation and ends its plan.
    from .cultivation.services import cultivation_on_regrade

    cultivation_on_regrade(client=client, change=change, by=by)
    return change


# --------------------------------------------------------------------------- contacts, projects


@transaction.atomic
def contact_save(*, contact: Contact, by) -> Contact:
    """Create or update a contact; one primary contact per client."""
    action = "change" if contact.pk else "add"
    if contact.pk:
        _ensure_in_scope(by, "change", Contact.objects.get(pk=contact.pk))
    contact.full_clean()
    contact.save()
    if contact.is_primary:
        # One primary per client; the others lose the mark with a history row each (audit).
        others = list(
            Contact.objects.filter(client=contact.client_id, is_primary=True).exclude(pk=contact.pk)
        )
        for other in others:
            other.is_primary = False
        bulk_update_with_history(others, Contact, ["is_primary"])
    _ensure_in_scope(by, action, contact)
    return contact


@transaction.atomic
def project_save(*, project: Project, by) -> Project:
    """Create or update a project of the cooperation history; profit defaults to value - cost."""
    action = "change" if project.pk else "add"
    if project.pk:
        _ensure_in_scope(by, "change", Project.objects.get(pk=project.pk))
    if not project.profit and project.contract_value and project.cost:
        project.profit = project.contract_value - project.cost
    project_fees.project_fee_check(project)  # R56: not below what was collected
    project.full_clean()
    project.save()
    _ensure_in_scope(by, action, project)
    project_fees.project_fee_follow(project, by=by)  # R56: a changed fee settles or unsettles
    return project


# --------------------------------------------------------------------------- needs (R11, R12)


@transaction.atomic
def need_create(*, need: Need, by) -> Need:
    """Record a client need: deadline from its urgency (R11); the client's needs are now
    collected (R12)."""
    if not need.owner_id:
        need.owner = by
    need.received_at = need.received_at or timezone.now()
    deadline = need_due_at(urgency=need.urgency, received_at=need.received_at)
    need.response_due_at, need.due_provisional = deadline.at, deadline.provisional
    need.full_clean()
    need.save()
    _ensure_in_scope(by, "add", need)
    received_on = timezone.localtime(need.received_at).date()
    client = need.client
    if client.needs_collected_on is None or client.needs_collected_on < received_on:
        client.needs_collected_on = received_on
        # One column, without save()'s signals and search-text refresh, but with history (audit).
        bulk_update_with_history([client], Client, ["needs_collected_on"])
    return need


@transaction.atomic
def need_update(*, need: Need, by) -> Need:
    """Edit a need; a changed urgency or reception time moves the deadline (R11)."""
    before = Need.objects.get(pk=need.pk)
    _ensure_in_scope(by, "change", before)
    if before.urgency != need.urgency or before.received_at != need.received_at:
        deadline = need_due_at(urgency=need.urgency, received_at=need.received_at)
        need.response_due_at, need.due_provisional = deadline.at, deadline.provisional
    need.full_clean()
    need.save()
    _ensure_in_scope(by, "change", need)
    return need


@transaction.atomic
def need_respond(*, need: Need, by, note: str = "", status: str = Need.Status.ASSESSED) -> Need:
    """Answer a need (R12 timeliness counts the first response against the deadline)."""
    _ensure_in_scope(by, "change", need)
    if need.status in (Need.Status.DONE, Need.Status.REJECTED):
        raise ValidationError(_("需求已关闭,不能再响应。"))
    if need.responded_at is None:
        need.responded_at = timezone.now()
    need.status = status
    if note:
        need.response_note = note
    need.full_clean()
    need.save()
    return need


@transaction.atomic
def need_close(*, need: Need, by, done: bool = True, note: str = "") -> Need:
    """Close a need as done or rejected (R12 completion rate)."""
    _ensure_in_scope(by, "change", need)
    if need.status in (Need.Status.DONE, Need.Status.REJECTED):
        raise ValidationError(_("需求已关闭。"))
    now = timezone.now()
    need.responded_at = need.responded_at or now
    need.closed_at = now
    need.status = Need.Status.DONE if done else Need.Status.REJECTED
    if note:
        need.response_note = note
    need.full_clean()
    need.save()
    return need


# --------------------------------------------------------------------------- visits (R13)

# R13: A clients are visited by people whose level follows the client's social value.
VISITOR_LEVEL_BY_SOCIAL_VALUE = {
    SocialValue.HIGH: VisitPlan.VisitorLevel.GROUP_LEADER,
    SocialValue.MEDIUM: VisitPlan.VisitorLevel.BRANCH_LEADER,
    SocialValue.LOW: VisitPlan.VisitorLevel.DEPT_MANAGER,
}
LEVEL_RANK = {
    VisitPlan.VisitorLevel.GROUP_LEADER: 4,
    VisitPlan.VisitorLevel.BRANCH_LEADER: 3,
    VisitPlan.VisitorLevel.DEPT_MANAGER: 2,
    VisitPlan.VisitorLevel.MARKETING_STAFF: 1,
}
A_FREQUENCIES = (
    VisitPlan.Frequency.DEKAD,
    VisitPlan.Frequency.MONTHLY,
    VisitPlan.Frequency.QUARTERLY,
    VisitPlan.Frequency.HALF_YEARLY,
)


def visit_plan_rules(plan: VisitPlan) -> None:
    """R13 by grade: A: one of 每旬/monthly/quarterly/half-yearly, visitor level at least the one
    the client's social value calls for; B: marketing staff at a frequency they set; C: no plan,
    unless under observation and marked for more effort."""
    client = plan.client
    errors = {}
    if client.grade == Grade.A:
        if plan.frequency not in A_FREQUENCIES:
            errors["frequency"] = _("A类客户的拜访频次应为每旬、每月、每季度或每半年。")
        required = VISITOR_LEVEL_BY_SOCIAL_VALUE[client.social_value]
        if not plan.visitor_level:
            plan.visitor_level = required
        elif LEVEL_RANK[plan.visitor_level] < LEVEL_RANK[required]:
            errors["visitor_level"] = _("该客户社会价值为“%(v)s”,拜访人员层级至少应为“%(l)s”。") % {
                "v": client.get_social_value_display(),
                "l": VisitPlan.VisitorLevel(required).label,
            }
    elif client.grade == Grade.B:
        plan.visitor_level = plan.visitor_level or VisitPlan.VisitorLevel.MARKETING_STAFF
    elif client.tracking == Tracking.GIVEN_UP:
        # R38: a given-up client has no visit plan (so no overdue visit) until tracking resumes.
        errors["__all__"] = _("该客户已放弃跟踪,不制定拜访计划;如需恢复,请由经营部负责人恢复跟踪。")
    else:
        plan.visitor_level = plan.visitor_level or VisitPlan.VisitorLevel.MARKETING_STAFF
        if not (client.under_observation and plan.extra_effort):
            errors["__all__"] = _("C类客户不制定拜访计划;观察中的客户可标记“加大开发力度”后制定。")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def visit_plan_save(*, plan: VisitPlan, by) -> VisitPlan:
    """Create or update a client's visit plan (R13). The first due date defaults to one period
    after the last visit (or today)."""
    action = "change" if plan.pk else "add"
    if plan.pk:
        _ensure_in_scope(by, "change", VisitPlan.objects.get(pk=plan.pk))
    if not plan.responsible_id:
        plan.responsible = plan.client.owner
    visit_plan_rules(plan)
    if not plan.next_due_on:
        last = plan.client.visits.order_by("-visited_at").values_list("visited_at", flat=True).first()
        start = timezone.localtime(last).date() if last else timezone.localdate()
        plan.next_due_on = start + dt.timedelta(days=plan.period_days)
    plan.full_clean()
    plan.save()
    _ensure_in_scope(by, action, plan)
    return plan


def _a_frequency_for(days: int) -> str:
    """The A frequency (R13) at least as frequent as a plan of ``days`` between visits."""
    fitting = [f for f in A_FREQUENCIES if VisitPlan.FREQUENCY_DAYS[f] <= days]
    return max(fitting, key=lambda f: VisitPlan.FREQUENCY_DAYS[f]) if fitting else A_FREQUENCIES[0]


@transaction.atomic
def visit_plan_recheck(*, client: Client, by) -> str:
    """R13 after a grade change (client_set_grade): the client's plan must fit its new grade.
    A: the visitor level is raised to the one the social value calls for and a frequency not
    allowed for A becomes the A frequency at least as frequent ("adjusted"); an A client
    without an active plan is flagged (the archive list's 无拜访计划的A类客户, the home panel)
    and its owner and branch managers are told ("flagged"). C, not under observation: the plan
    ends ("ended"). Every change of the plan is a history row of it whose change reason says
    why. Returns what happened: "adjusted", "flagged", "ended" or "" (nothing to do)."""
    outcome, reason = _visit_plan_recheck(client=client, by=by)
    if outcome:
        # The client's own history says it too: its newest row is the grade's save.
        row = client.history.order_by("-history_id").first()
        if row is not None:
            joined = "; ".join(filter(None, [row.history_change_reason, reason]))
            row.history_change_reason = joined[:100]  # simple_history's column
            row.save(update_fields=["history_change_reason"])
    return outcome


def _visit_plan_recheck(*, client: Client, by) -> tuple[str, str]:
    plan = VisitPlan.objects.select_for_update().filter(client=client).first()
    active = plan is not None and plan.is_active
    if plan is not None:
        plan._history_user = by
    if client.grade == Grade.A:
        if not active:
            notify(
                recipients=[client.owner, *managers_of(client.branch)],
                verb="visit_plan_missing",
                title=lambda: _("A类客户无拜访计划:%(client)s") % {"client": client.name},
                body=lambda: _("客户已调整为A类,请按其社会价值制定拜访计划(拜访人员层级、频次)。"),
                url=reverse("clients:client-detail", kwargs={"pk": client.pk}) + "#visits",
                key=f"visit-plan-missing:{client.pk}:{client.graded_at.isoformat()}",
            )
            return "flagged", str(_("A类客户无拜访计划,已提醒客户经理和经营部负责人。"))
        required = VISITOR_LEVEL_BY_SOCIAL_VALUE[client.social_value]
        notes = []
        if LEVEL_RANK[plan.visitor_level] < LEVEL_RANK[required]:
            notes.append(
                _("拜访人员层级由“%(a)s”调整为“%(b)s”")
                % {
                    "a": plan.get_visitor_level_display(),
                    "b": VisitPlan.VisitorLevel(required).label,
                }
            )
            plan.visitor_level = required
        if plan.frequency not in A_FREQUENCIES:
            before = plan.get_frequency_display()
            plan.frequency, plan.interval_days = _a_frequency_for(plan.period_days), None
            notes.append(
                _("拜访频次由“%(a)s”调整为“%(b)s”") % {"a": before, "b": plan.get_frequency_display()}
            )
        if not notes:
            return "", ""
        plan._change_reason = (str(_("客户调整为A类:")) + ";".join(str(n) for n in notes))[:100]
        plan.full_clean()
        plan.save()
        return "adjusted", plan._change_reason
    if client.grade == Grade.C and not client.under_observation and active:
        plan.is_active = False
        plan._change_reason = str(_("客户调整为C类:不再制定拜访计划,计划终止。"))
        plan.save()
        return "ended", plan._change_reason
    return "", ""


@transaction.atomic
def visit_record(*, visit: Visit, by) -> Visit:
    """Record a visit; it advances the client's active visit plan to one period after the
    visit (R13)."""
    if not visit.recorded_by_id:
        visit.recorded_by = by
    plan = VisitPlan.objects.select_for_update().filter(client=visit.client_id, is_active=True).first()
    if plan and not visit.plan_id:
        visit.plan = plan
    visit.full_clean()
    visit.save()
    _ensure_in_scope(by, "add", visit)
    if plan:
        next_due = timezone.localtime(visit.visited_at).date() + dt.timedelta(days=plan.period_days)
        if next_due > plan.next_due_on:
            plan.next_due_on = next_due
            plan.save(update_fields=["next_due_on", "updated_at"])
    return visit


@transaction.atomic
def visit_update(*, visit: Visit, by) -> Visit:
    _ensure_in_scope(by, "change", Visit.objects.get(pk=visit.pk))
    visit.full_clean()
    visit.save()
    _ensure_in_scope(by, "change", visit)
    return visit


def visit_overdue_notify(*, today: dt.date | None = None) -> int:
    """R13: tell the person responsible and their branch's managers of each overdue visit,
    once per visit due date (the notify key), so a second run sends nothing."""
    today = today or timezone.localdate()
    sent = 0
    plans = VisitPlan.objects.filter(is_active=True, next_due_on__lt=today).select_related(
        "client", "client__branch", "responsible"
    )
    for plan in plans.iterator(chunk_size=500):
        recipients = [plan.responsible, *managers_of(plan.client.branch)]
        made = notify(
            recipients=recipients,
            verb="visit_overdue",
            title=lambda: _("拜访逾期:%(client)s") % {"client": plan.client.name},  # noqa: B023 (rendered at once, in each language)
            body=lambda: (
                _("计划拜访日期 %(due)s 已过,请尽快安排拜访(%(freq)s)。")
                % {"due": plan.next_due_on.isoformat(), "freq": plan.get_frequency_display()}  # noqa: B023 (rendered at once, in each language)
            ),
            url=reverse("clients:client-detail", kwargs={"pk": plan.client_id}) + "#visits",
            key=f"visit-overdue:{plan.pk}:{plan.next_due_on.isoformat()}",
        )
        sent += len(made)
    return sent
