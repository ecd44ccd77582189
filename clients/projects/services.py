"""Design fees and on-site service of a project (seed 000; R56-R60).

Seed 000, on the design fee: «项目竣工后,清理余下设计费用的过程中,项目经理如何在维护客户关系的情况下
顺利结清设计费,妥善处理该过程中的矛盾对立避免破坏原有的客户关系»; on on-site service: «加强服务记录
文件管理,特别是设计产品在施工阶段的现场服务记录管理。为客户高效准确的处理工程实际问题,提升客户满意度».

One function per step, ``<entity>_<action>(*, ...)``: keyword-only, transactional, the project
re-read under a lock, ``full_clean()`` before saving, the history kept by django-simple-history
with the step as its change reason. A refused step raises ValidationError (400) and changes
nothing; a person without the role for the step gets PermissionDenied (403); a row out of the
person's scope is a 404.

Rules:
* R56. A project's collected design fee is the sum of its collections (reversals included); the
  outstanding amount is the fee less that sum. A project is settled (结清) when its collections
  reach the fee (收齐结清, dated by the collection that reached it) or when the branch manager
  records that the rest was agreed (协商结清, R58). A settlement by collection follows the
  money: a reversal or a higher fee that leaves the project short unsettles it again; an agreed
  settlement is a decision and stays. The fee cannot be set below what was collected.
* R57. A collection is a positive amount, dated neither in the future nor before the project's
  signing, of a project with a design fee that is not settled, and at most the outstanding
  amount. The project's branch (staff and manager) and group marketing record it. Collections are
  never edited or deleted: the branch manager reverses a wrong one with a reason (冲销, a row of
  the opposite amount naming it), once.
* R58. Settling by agreement (协商结清): the manager of the project's branch, on a completed
  project with an outstanding amount, with a note saying what was agreed with the client.
* R59. (the unsettled list, clients.projects.selectors) A completed project with a design fee
  that is not settled is listed with its outstanding amount and the days since completion.
* R60. An on-site service record (现场服务记录) belongs to a project in construction or later
  (施工, 结算, 竣工, 竣工后服务), is dated neither in the future nor before the project started,
  names our people and the problem; closing it (已解决) needs how it was handled and a closing
  date not before the service; every edit is a history row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import check_in_scope, in_scope
from crm.models import Role, User

from ..models import FeeCollection, FeeSettlement, Phase, Project, SiteService

ZERO = Decimal("0.00")
# R60: the phases in which a project has a site (construction and after).
SITE_PHASES = (Phase.CONSTRUCTION, Phase.SETTLEMENT, Phase.COMPLETED, Phase.AFTER_SERVICE)


# -- who may act ------------------------------------------------------------------------------


def may_record(user, project: Project, *, memory: bool = False) -> bool:
    """R57, R60: whoever may change the project (its branch's staff and manager, group marketing)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return in_scope(user, "change", project) if memory else check_in_scope(user, "change", project)


def may_decide(user, project: Project, *, memory: bool = False) -> bool:
    """R57, R58: the manager (分公司经营部负责人) of the project's branch settles by agreement and
    reverses a collection."""
    if not (
        user.is_authenticated
        and user.is_active
        and user.role == Role.MANAGER
        and user.branch_id is not None
        and user.branch_id == project.branch_id
    ):
        return False
    return in_scope(user, "change", project) if memory else check_in_scope(user, "change", project)


def _require(user, project: Project, allowed, message: str) -> None:
    if not check_in_scope(user, "view", project):
        raise Http404
    if not allowed(user, project):
        raise PermissionDenied(message)


def _require_record(user, project: Project) -> None:
    _require(user, project, may_record, _("只有项目所属单位的人员或集团市场营销部可以登记。"))


def _require_decide(user, project: Project) -> None:
    _require(user, project, may_decide, _("只有项目所属分公司的经营部负责人可以执行此操作。"))


# -- the amounts ------------------------------------------------------------------------------


def collected(project: Project) -> Decimal:
    """R56: the sum of the project's collections (reversals included)."""
    total = FeeCollection.objects.filter(project=project).aggregate(s=Sum("amount"))["s"]
    return total if total is not None else ZERO


def outstanding(project: Project) -> Decimal:
    return max(project.design_fee - collected(project), ZERO)


def _lock(project: Project) -> Project:
    return Project.objects.select_for_update().get(pk=project.pk)


def _save_project(project: Project, by, reason: str) -> None:
    project._history_user = by
    project._change_reason = reason[:100]
    project.full_clean()
    project.save()


def _settle_by_collection(project: Project, by, on: dt.date | None, reason: str) -> bool:
    """R56: settle a project whose collections reach its fee, or unsettle one settled by
    collection that no longer reaches it. Returns whether the project changed."""
    total = collected(project)
    reached = project.design_fee > ZERO and total >= project.design_fee
    if project.fee_settlement == FeeSettlement.AGREED:
        return False  # a decision stays (R58)
    if reached and project.fee_settlement != FeeSettlement.COLLECTED:
        project.fee_settlement = FeeSettlement.COLLECTED
        project.fee_settled_on = on or timezone.localdate()
        project.fee_settled_by = by
        project.fee_settlement_note = ""
        _save_project(project, by, reason)
        return True
    if not reached and project.fee_settlement == FeeSettlement.COLLECTED:
        project.fee_settlement = ""
        project.fee_settled_on = None
        project.fee_settled_by = None
        _save_project(project, by, reason)
        return True
    return False


def project_fee_check(project: Project) -> None:
    """R56, called by ``project_save`` before a project with a changed fee is saved: the fee
    cannot go below what was collected."""
    if project.pk is None:
        return
    total = collected(project)
    if project.design_fee < total:
        raise ValidationError(
            {"design_fee": [_("设计费不能低于已收金额(%(total)s 元)。") % {"total": f"{total:,.2f}"}]}
        )


def project_fee_follow(project: Project, *, by) -> None:
    """R56, called by ``project_save`` after the save: a changed fee settles or unsettles."""
    _settle_by_collection(project, by, None, _("设计费调整"))


# -- collections (R57) ------------------------------------------------------------------------


@transaction.atomic
def fee_collection_record(
    *, project: Project, by: User, amount: Decimal, collected_on: dt.date, note: str = ""
) -> FeeCollection:
    """R57: record a collection of the design fee; R56: it settles the project when it reaches
    the fee (dated by the collection)."""
    _require_record(by, project)
    project = _lock(project)
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if amount is None or amount <= ZERO:
        errors["amount"] = [_("收款金额应大于0。")]
    if collected_on is None:
        errors["collected_on"] = [_("请填写收款日期。")]
    elif collected_on > today:
        errors["collected_on"] = [_("收款日期不能晚于今天。")]
    elif project.signed_on and collected_on < project.signed_on:
        errors["collected_on"] = [_("收款日期不能早于项目签约日期。")]
    if errors:
        raise ValidationError(errors)
    if project.design_fee <= ZERO:
        raise ValidationError(_("该项目未登记设计费,请先在项目中填写设计费。"))
    if project.fee_settlement:
        raise ValidationError(_("该项目设计费已结清,不能再登记收款。"))
    rest = outstanding(project)
    if amount > rest:
        raise ValidationError(
            {"amount": [_("收款金额超过未收金额(%(rest)s 元)。") % {"rest": f"{rest:,.2f}"}]}
        )
    row = FeeCollection(
        project=project, amount=amount, collected_on=collected_on, note=(note or "").strip(), recorded_by=by
    )
    row._history_user = by
    row._change_reason = _("登记收款")
    row.full_clean()
    row.save()
    _settle_by_collection(project, by, collected_on, _("收齐设计费,自动结清"))
    return row


@transaction.atomic
def fee_collection_reverse(*, collection: FeeCollection, by: User, reason: str) -> FeeCollection:
    """R57: the branch manager reverses a wrong collection with a reason (a row of the opposite
    amount); R56: a project settled by collection that is now short is unsettled."""
    project = collection.project
    _require_decide(by, project)
    project = _lock(project)
    collection = FeeCollection.objects.select_for_update().get(pk=collection.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写冲销理由。")]})
    if collection.reverses_id is not None:
        raise ValidationError(_("冲销记录不能再冲销。"))
    if FeeCollection.objects.filter(reverses=collection).exists():
        raise ValidationError(_("该笔收款已冲销。"))
    row = FeeCollection(
        project=project,
        amount=-collection.amount,
        collected_on=timezone.localdate(),
        note=reason,
        reverses=collection,
        recorded_by=by,
    )
    row._history_user = by
    row._change_reason = _("冲销收款")
    row.full_clean()
    row.save()
    _settle_by_collection(project, by, None, _("冲销收款后未收齐,恢复未结清"))
    return row


# -- settling by agreement (R58) ----------------------------------------------------------------


@transaction.atomic
def project_settle(*, project: Project, by: User, note: str) -> Project:
    """R58: the branch manager records that the rest of the design fee was agreed with the
    client (协商结清), with a note; the project leaves the unsettled list (R59)."""
    _require_decide(by, project)
    project = _lock(project)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("请说明与客户协商结清的情况。")]})
    if project.fee_settlement:
        raise ValidationError(_("该项目设计费已结清。"))
    if project.design_fee <= ZERO:
        raise ValidationError(_("该项目未登记设计费。"))
    if project.completed_on is None:
        raise ValidationError(_("项目竣工后才能协商结清设计费。"))
    if outstanding(project) <= ZERO:
        raise ValidationError(_("设计费已收齐,无需协商结清。"))
    project.fee_settlement = FeeSettlement.AGREED
    project.fee_settled_on = timezone.localdate()
    project.fee_settled_by = by
    project.fee_settlement_note = note
    _save_project(project, by, _("协商结清设计费"))
    return project


# -- on-site service (R60) --------------------------------------------------------------------


def _check_site_service(service: SiteService, project: Project) -> None:
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if project.phase not in SITE_PHASES:
        errors["__all__"] = [_("项目进入施工阶段后才能登记现场服务记录。")]
    if service.served_on and service.served_on > today:
        errors["served_on"] = [_("服务日期不能晚于今天。")]
    elif service.served_on and project.started_on and service.served_on < project.started_on:
        errors["served_on"] = [_("服务日期不能早于项目开工日期。")]
    if service.status == SiteService.Status.CLOSED:
        if not (service.handling or "").strip():
            errors["handling"] = [_("填写处理情况后才能标记为已解决。")]
        if service.closed_on is None:
            service.closed_on = today
        if service.closed_on > today:
            errors["closed_on"] = [_("解决日期不能晚于今天。")]
        elif service.served_on and service.closed_on < service.served_on:
            errors["closed_on"] = [_("解决日期不能早于服务日期。")]
    else:
        service.closed_on = None
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def site_service_save(*, service: SiteService, by: User) -> SiteService:
    """R60: record or edit an on-site service record of a project (its branch's people, group
    marketing); the project cannot be changed on an existing record."""
    adding = service.pk is None
    if adding:
        project = service.project
        service.recorded_by = by
    else:
        stored = SiteService.objects.select_related("project").get(pk=service.pk)
        if not check_in_scope(by, "change", stored):
            raise Http404
        if stored.project_id != service.project_id:
            raise ValidationError({"project": [_("现场服务记录不能改到其他项目。")]})
        project = stored.project
    _require_record(by, project)
    project = _lock(project)
    _check_site_service(service, project)
    service._history_user = by
    service._change_reason = (_("登记现场服务") if adding else _("更新现场服务记录"))[:100]
    service.full_clean()
    service.save()
    return service
