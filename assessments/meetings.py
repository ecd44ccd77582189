"""What the group's meetings have in common (R68, R87): a decision recorded at a meeting, with what
is to be done, by whom and by when, tracked to done. The need analysis meeting (assessments.
needreports) and the half-year review meeting (assessments.circulars) both keep their decisions
as subclasses of ``MeetingDecision`` and check them with ``clean_decision`` and ``decision_mark_done``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.fields import LimitedTextField
from crm.models import BusinessModel, User, Versioned
from crm.validators import EARLIEST_DATE, LATEST_DATE


class MeetingDecision(Versioned, BusinessModel):
    """A decision of a meeting (会议决定事项): what, its owner, its due date; marked done once,
    with what was done. Open past its due date it is overdue. Subclasses add the meeting."""

    text = LimitedTextField(gettext_lazy("决定事项"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=gettext_lazy("负责人"),
    )
    due_on = models.DateField(gettext_lazy("完成期限"))
    done_at = models.DateTimeField(gettext_lazy("完成时间"), null=True, blank=True, editable=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("确认完成人"),
        editable=False,
    )
    done_note = LimitedTextField(gettext_lazy("完成情况"), blank=True, editable=False)

    class Meta:
        abstract = True

    def __str__(self):
        return self.text[:40]

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_on < timezone.localdate()


def parse_date(value, field: str, errors: dict) -> dt.date | None:
    """A date from a form or the API, within the product's range; a message in ``errors``."""
    if value in (None, ""):
        errors[field] = [_("请填写日期。")]
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            errors[field] = [_("日期格式应为 年-月-日。")]
            return None
    if not isinstance(value, dt.date) or not EARLIEST_DATE <= value <= LATEST_DATE:
        errors[field] = [_("日期超出有效范围。")]
        return None
    return value


def pk_of(value) -> int | None:
    """A positive id (or a user's) from a form or the API, None when it is not one."""
    if isinstance(value, User):
        return value.pk
    try:
        pk = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk < 2**63 else None


def clean_decision(
    owners, held_on: dt.date | None, data: dict, errors: dict, *, owner_error: str
) -> dict | None:
    """A decision's text, owner (one of ``owners``, a queryset) and due date (not before the
    meeting), or None with the messages in ``errors``."""
    text = (data.get("text") or "").strip()
    due_on = parse_date(data.get("due_on"), "due_on", errors)
    owner_pk = pk_of(data.get("owner"))
    owner = owners.filter(pk=owner_pk).first() if owner_pk else None
    if not text:
        errors["text"] = [_("请填写决定事项。")]
    if owner is None:
        errors["owner"] = [owner_error]
    if due_on is not None and held_on is not None and due_on < held_on:
        errors["due_on"] = [_("完成期限不能早于会议日期。")]
    if errors:
        return None
    return {"text": text, "owner": owner, "due_on": due_on}


def decision_mark_done(decision: MeetingDecision, *, by, note: str, at: dt.datetime | None = None) -> None:
    """Set a (locked) decision done with what was done, once; the caller saves it."""
    if decision.done_at is not None:
        raise ValidationError(_("该决定事项已确认完成。"))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("请填写完成情况。")]})
    decision.done_at = at or timezone.now()
    decision.done_by = by
    decision.done_note = note
