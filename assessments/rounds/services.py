"""Failed fan-outs and their retry (R55), one mechanism for the two jobs that fan out one task per
branch and count the finished parts in the database: the closing of a month (R28; MonthlyClose,
its ClosePart rows) and the half-year round (R34; AssessmentRound, its Assessment rows).

A part's task retries by itself (autoretry); when its retries are used up, the task's
``on_failure`` (assessments.tasks.FanOutPartTask) records here, in one transaction: the part's
reason and time, the round failed, a history row of the round naming the branch, and one notice
to group marketing per failure of the round (keyed by the round and its retry count). Nothing
queues a failed part again by itself, not the daily catch-up either (``pending_branches``): it
stays failed until group marketing presses 重新计算 (``round_retry``), which queues the failed
parts alone (after commit) and returns the round to running.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access import has_global
from crm.services import notify
from crm.tasks import enqueue

from ..models import Assessment, AssessmentRound, ClosePart, MonthlyClose
from ..obligations import group_marketing

ERROR_LENGTH = 500


class RoundNotFailed(ValidationError):
    """Retrying a round that has not failed (running, done or open): nothing to retry. The API
    answers it 409 with the round as it is."""


@dataclass(frozen=True)
class FanOut:
    """How one fanned-out job keeps its round and its parts."""

    kind: str  # in notice keys and history reasons
    round_model: type
    part_model: type
    round_field: str  # the part's foreign key to its round
    label_field: str  # the round's period or half year
    done_field: str  # set on a part once it is done
    task: str  # the part's task, called with (round id, branch id)
    finish: str  # the service that completes the round when every part is done
    detail_route: str  # the page of one round (its failed parts, the retry button)
    retry_route: str  # the button's POST
    failed_title: object  # the notice's title, with %(label)s
    retry_denied: object  # the refusal for a role that cannot retry
    retry_label: object  # the button's name

    def label(self, rnd) -> str:
        return getattr(rnd, self.label_field)

    def parts(self, rnd):
        return self.part_model.objects.filter(**{self.round_field: rnd})

    def url(self, rnd, route: str = "") -> str:
        return reverse(route or self.detail_route, kwargs={self.label_field: self.label(rnd)})

    def may_retry(self, user) -> bool:
        """Who opens a round retries it: administrators and group marketing (model-level add)."""
        return bool(user and user.is_authenticated) and (
            user.is_superuser or has_global(user, self.round_model, "add")
        )


CLOSE = FanOut(
    kind="monthly_close",
    round_model=MonthlyClose,
    part_model=ClosePart,
    round_field="close",
    label_field="period",
    done_field="done_at",
    task="assessments.tasks.monthly_close_part",
    finish="assessments.monthly.services.monthly_close_finish",
    detail_route="assessments:close-detail",
    retry_route="assessments:close-retry",
    failed_title=gettext_lazy("%(label)s 月度截止执行失败"),
    retry_denied=gettext_lazy("只有系统管理员和集团市场营销部可以重新执行月度截止。"),
    retry_label=gettext_lazy("重新执行"),
)
ASSESSMENT = FanOut(
    kind="assessment",
    round_model=AssessmentRound,
    part_model=Assessment,
    round_field="round",
    label_field="half_year",
    done_field="computed_at",
    task="assessments.tasks.assessment_compute",
    finish="assessments.review.services.assessment_round_finish",
    detail_route="assessments:round-detail",
    retry_route="assessments:round-retry",
    failed_title=gettext_lazy("%(label)s 半年考核指标计算失败"),
    retry_denied=gettext_lazy("只有系统管理员和集团市场营销部可以重新计算考核指标。"),
    retry_label=gettext_lazy("重新计算"),
)
FAN_OUTS = {f.kind: f for f in (CLOSE, ASSESSMENT)}


def error_text(exc: BaseException) -> str:
    """The reason kept on a failed part and shown to group marketing: the exception's class and
    the first line of its message, cut to 500 characters. A database error's further lines
    (PostgreSQL's DETAIL) can quote the row's values, so they are left out."""
    message = str(exc).strip().splitlines()[0].strip() if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text[:ERROR_LENGTH]


def pending_branches(fan_out: FanOut, rnd) -> list[int]:
    """The branches whose part is neither done nor failed: what a dispatch (the schedule, the
    daily catch-up, a person's 开始) may queue. A failed part waits for ``round_retry``."""
    return list(
        fan_out.parts(rnd)
        .filter(**{f"{fan_out.done_field}__isnull": True}, compute_failed_at__isnull=True)
        .values_list("branch_id", flat=True)
    )


def part_failed(fan_out: FanOut, *, round_id: int, branch_id: int, exc: BaseException) -> bool:
    """A part's task failed for good: record it on the part and fail the round, in one
    transaction. Idempotent: a part already done or already failed is left as it is (a message
    delivered twice, or a late success). Returns whether this call recorded the failure."""
    now = timezone.now()
    with transaction.atomic():
        rnd = fan_out.round_model.objects.select_for_update().filter(pk=round_id).first()
        if rnd is None:
            return False
        part = (
            fan_out.parts(rnd)
            .select_for_update()
            .select_related("branch")
            .filter(branch_id=branch_id)
            .first()
        )
        if part is None or getattr(part, fan_out.done_field) is not None or part.compute_failed_at:
            return False
        part.compute_error = error_text(exc)
        part.compute_failed_at = now
        part.save()
        if rnd.state == fan_out.round_model.State.RUNNING:
            rnd.state = fan_out.round_model.State.FAILED
            rnd.failed_at = now
        # The round's history keeps every failed part (the part of a closing has no history).
        rnd._change_reason = f"{part.branch}: {part.compute_error}"[:100]
        rnd.save()
        label, key = fan_out.label(rnd), f"round-failed:{fan_out.kind}:{fan_out.label(rnd)}:{rnd.retries}"
        url = fan_out.url(rnd)
        transaction.on_commit(
            lambda: notify(
                recipients=group_marketing(),
                verb="round_failed",
                title=str(fan_out.failed_title) % {"label": label},
                body=lambda: (
                    _("有分子公司的计算在多次重试后仍然失败,请查看原因,处理后点击“%(button)s”。")
                    % {"button": fan_out.retry_label}
                ),
                url=url,
                key=key,
            )
        )
    return True


def part_succeeded(part) -> None:
    """A part done after all (a late delivery, or the retry): its failure is forgotten."""
    part.compute_error = ""
    part.compute_failed_at = None


def round_retry(fan_out: FanOut, *, rnd, by) -> tuple[object, list[int]]:
    """重新计算 (R55): group marketing (or an administrator) queues the failed parts of a failed
    round again, after commit, and the round is running again. Refused (``RoundNotFailed``)
    unless the round has failed; two presses at once queue the parts once."""
    if not fan_out.may_retry(by):
        raise PermissionDenied(str(fan_out.retry_denied))
    with transaction.atomic():
        rnd = fan_out.round_model.objects.select_for_update().get(pk=rnd.pk)
        if rnd.state != fan_out.round_model.State.FAILED:
            raise RoundNotFailed(
                _("%(label)s 当前为“%(state)s”,只有计算失败的才能重新计算。")
                % {"label": fan_out.label(rnd), "state": rnd.get_state_display()},
                code="not_failed",
            )
        parts = list(fan_out.parts(rnd).select_for_update().filter(compute_failed_at__isnull=False))
        for part in parts:
            part_succeeded(part)
            part.save()
        rnd.state = fan_out.round_model.State.RUNNING
        rnd.failed_at = None
        rnd.retries += 1
        rnd._history_user = by
        rnd._change_reason = "重新计算"
        rnd.save()
        branches = [part.branch_id for part in parts]
        round_id = rnd.pk
        if branches:
            task = import_string(fan_out.task)
            transaction.on_commit(lambda: [enqueue(task, round_id, branch_id) for branch_id in branches])
        else:  # nothing failed any more (a late success): the round completes if it can
            finish = import_string(fan_out.finish)
            transaction.on_commit(lambda: finish(**{f"{fan_out.round_field}_id": round_id}))
    return rnd, branches
