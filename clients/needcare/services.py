"""Caring for client needs after they are recorded (seed 003, 精准客户需求管理办法): the client's
evaluation of how a need was handled (R48, R49), the classification and assessment of a need
(R50), and the integration of a client's needs: merging duplicates, marking contradictions and
listing likely duplicates (R51-R53).

Seed 003, 需求反馈: «需求处理完成后,及时向客户反馈处理结果,确保客户对处理结果满意。收集客户对需求
处理结果的评价和意见,作为后续改进工作的参考。» Its third monitoring indicator: «客户满意度:通过客户
调查等方式获取客户对需求处理结果的满意度评价。»

One function per step, ``need_<step>(*, ...)``: keyword-only, transactional, the need re-read
under a row lock, ``full_clean()`` before saving, the step kept in the need's history as its
change reason. A refused step raises ValidationError (400) and changes nothing; a need out of
the person's scope is a 404, one they may read but not change a 403.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.access import check_in_scope
from crm.public_links import LinkError, hash_of, new_token
from crm.services import managers_of, notify

from ..models import Need

Rating = Need.Rating
Status = Need.Status

RATING_SALT = "clients.need-rating-link"
LINK_DAYS = 30  # R48: how long a rating link stays valid by default (as the survey link, R22)
LINK_DAYS_MAX = 90


# -- helpers ----------------------------------------------------------------------------------


def _require_change(user, need: Need) -> None:
    if not check_in_scope(user, "view", need):
        raise Http404
    if not check_in_scope(user, "change", need):
        raise PermissionDenied(_("您无权处理该客户需求。"))


def _lock(need: Need) -> Need:
    """Reload under a row lock: two people cannot take a step on one need at once; the second
    finds the first one's state and is refused (the API answers it 409)."""
    return (
        Need.objects.select_for_update().select_related("client", "client__branch", "owner").get(pk=need.pk)
    )


def _save(need: Need, by, reason: str) -> Need:
    need._history_user = by
    need._change_reason = reason[:100]
    need.full_clean()
    need.save()
    return need


def need_url(need: Need) -> str:
    try:
        return reverse("clients:need-detail", kwargs={"pk": need.pk})
    except NoReverseMatch:  # pages not mounted (an API-only deployment)
        return ""


# -- R48, R49: the client's evaluation of how a need was handled --------------------------------


def rating_url(token: str) -> str:
    return f"{settings.CRM_SITE_URL}{reverse('clients:need-rating', kwargs={'token': token})}"


def _require_rateable(need: Need) -> None:
    """R48: only a done need is rated, and once."""
    if need.rating:
        raise ValidationError(_("客户已评价该需求的处理结果,不能重复评价。"))
    if need.status != Status.DONE:
        raise ValidationError(
            _("需求处理完成后才能由客户评价处理结果(当前状态:%(status)s)。")
            % {"status": need.get_status_display()}
        )


def _clean_rating(rating: str, comment: str, respondent: str) -> tuple[str, str, str]:
    if rating not in Rating.values:
        raise ValidationError({"rating": [_("请选择评价:满意、基本满意或不满意。")]})
    return rating, (comment or "").strip(), (respondent or "").strip()


def _record_rating(need: Need, *, rating, comment, respondent, channel, by, at) -> Need:
    need.rating = rating
    need.rating_comment = comment
    need.rating_respondent = respondent
    need.rating_channel = channel
    need.rated_at = at
    need.rated_by = by
    # A rated need's link is spent (R48: once); the hash goes, so the link is 'used'.
    need.rating_token_hash = ""
    with translation.override("zh-hans"):  # the history keeps the group's own words
        label = str(need.get_rating_display())
    _save(need, by, f"客户评价处理结果:{label}")
    if rating == Rating.UNSATISFIED:
        # Seed 003, 问题处理: «对因工作失误导致需求处理延误或客户不满意的情况 ...» — the owner and the
        # branch's managers hear of it at once.
        notify(
            recipients=[need.owner, *managers_of(need.client.branch)],
            verb="need_unsatisfied",
            title=lambda: _("客户对需求处理结果不满意:%(client)s") % {"client": need.client.name},
            body=comment,
            url=need_url(need),
            key=f"need-rating:{need.pk}",
        )
    return need


@transaction.atomic
def need_rate(*, need: Need, by, rating: str, comment: str = "", respondent: str = "") -> Need:
    """R48: staff record the client's evaluation of a done need's handling (满意 / 基本满意 /
    不满意, with the client's comment), once; a link issued before stops working."""
    _require_change(by, need)
    rating, comment, respondent = _clean_rating(rating, comment, respondent)
    need = _lock(need)
    _require_rateable(need)
    return _record_rating(
        need,
        rating=rating,
        comment=comment,
        respondent=respondent,
        channel=Need.RatingChannel.STAFF,
        by=by,
        at=timezone.now(),
    )


@transaction.atomic
def need_rating_link(
    *, need: Need, by, days: int = LINK_DAYS, now: dt.datetime | None = None
) -> tuple[Need, str]:
    """R48: a personal link through which the client rates a done need's handling without a
    login: valid ``days`` (30 by default, at most 90), usable once; issuing another replaces it
    (the old one stops working). Returns the need and the link."""
    _require_change(by, need)
    now = now or timezone.now()
    if not isinstance(days, int) or not 1 <= days <= LINK_DAYS_MAX:
        raise ValidationError({"days": [_("有效期应为 1-%(max)d 天。") % {"max": LINK_DAYS_MAX}]})
    need = _lock(need)
    _require_rateable(need)
    token, hashed = new_token(RATING_SALT)
    need.rating_token_hash = hashed
    need.rating_link_expires_at = now + dt.timedelta(days=days)
    _save(need, by, "生成客户评价链接")
    return need, rating_url(token)


def need_for_rating_token(token: str) -> Need:
    """The need a rating link opens, or LinkError(invalid | used | expired). Reads nothing else."""
    hashed = hash_of(token, RATING_SALT)
    need = Need.objects.filter(rating_token_hash=hashed).order_by("-pk").first()
    if need is None:
        # A rated need drops its hash: say 'used' when the token was a need's (kept in its
        # history) and that need is rated now; a link replaced by a newer one is invalid.
        was = Need.history.filter(rating_token_hash=hashed).values_list("id", flat=True).first()
        if was is not None and Need.objects.filter(pk=was).exclude(rating="").exists():
            raise LinkError("used")
        raise LinkError("invalid")
    if need.rating:
        raise LinkError("used")
    if not need.rating_link_usable or need.status != Status.DONE:
        raise LinkError("expired")
    return need


@transaction.atomic
def need_rate_public(
    *, token: str, rating: str, comment: str = "", respondent: str = "", now: dt.datetime | None = None
) -> Need:
    """R48: the client rates through the personal link: once, before it expires. A used, expired
    or tampered link raises LinkError and records nothing."""
    now = now or timezone.now()
    rating, comment, respondent = _clean_rating(rating, comment, respondent)
    need = _lock(need_for_rating_token(token))
    if need.rating:
        raise LinkError("used")
    if (
        need.rating_link_expires_at is None
        or need.rating_link_expires_at <= now
        or need.status != Status.DONE
    ):
        raise LinkError("expired")
    return _record_rating(
        need,
        rating=rating,
        comment=comment,
        respondent=respondent,
        channel=Need.RatingChannel.LINK,
        by=None,
        at=now,
    )


# -- R50: classification and assessment ---------------------------------------------------------

ASSESSED_FIELDS = ("urgency", "is_functional", "feasibility", "value_assessment", "assessment_note")


@transaction.atomic
def need_assess(*, need: Need, by, expected_version: int | None = None, **values) -> Need:
    """R50 (seed 003, 需求分析: 需求分类 by urgency 紧急/重要/一般 and nature 功能性/非功能性; 需求评估:
    可行性评估 and 价值评估): record a need's classification and assessment, with who and when.
    An assessment states both the feasibility and the value. A changed urgency moves the response
    deadline (R11). A need merged into another is assessed no more (R51). Based on a version that
    is no longer the stored one (``expected_version``, the page's or the API's If-Match), nothing
    is written (StaleVersion, 409). A received need becomes 已评估."""
    from crm.models import StaleVersion

    from ..deadlines import need_due_at

    _require_change(by, need)
    unknown = set(values) - set(ASSESSED_FIELDS)
    if unknown:
        raise ValidationError({name: [_("不能在评估中修改该字段。")] for name in sorted(unknown)})
    locked = _lock(need)
    if expected_version is not None and expected_version != locked.version:
        raise StaleVersion(locked, expected_version)
    if locked.status == Status.MERGED:
        raise ValidationError(_("该需求已合并至另一条需求,请评估保留的那条。"))
    errors: dict[str, list[str]] = {}
    for name in ("feasibility", "value_assessment"):
        value = values.get(name, getattr(locked, name))
        if not value:
            errors[name] = [_("请填写可行性评估和价值评估。")]
    if errors:
        raise ValidationError(errors)
    before_urgency = locked.urgency
    for name, value in values.items():
        setattr(
            locked, name, value.strip() if isinstance(value, str) and name == "assessment_note" else value
        )
    if locked.urgency != before_urgency:
        deadline = need_due_at(urgency=locked.urgency, received_at=locked.received_at)
        locked.response_due_at, locked.due_provisional = deadline.at, deadline.provisional
    locked.assessed_by = by
    locked.assessed_at = timezone.now()
    if locked.status == Status.RECEIVED:
        locked.status = Status.ASSESSED
    with translation.override("zh-hans"):  # the history keeps the group's own words
        nature = "功能性" if locked.is_functional else "非功能性"
        reason = (
            f"需求评估:{locked.get_urgency_display()},{nature},"
            f"可行性{locked.get_feasibility_display()},价值{locked.get_value_assessment_display()}"
        )
    _save(locked, by, reason)
    return locked


# -- R51-R53: integration («去除重复和矛盾的需求») -------------------------------------------------


def _lock_pair(a: Need, b: Need) -> tuple[Need, Need]:
    """Both needs under a row lock, taken in id order (two merges of the same pair, in opposite
    directions, cannot deadlock: the second waits, then finds the first one's result)."""
    rows = {
        n.pk: n
        for n in Need.objects.select_for_update()
        .select_related("client", "client__branch", "owner")
        .filter(pk__in=sorted({a.pk, b.pk}))
        .order_by("pk")
    }
    return rows[a.pk], rows[b.pk]


@transaction.atomic
def need_merge(*, duplicate: Need, into: Need, by, note: str = "") -> Need:
    """R51: merge a duplicate need into another need of the same client. The survivor keeps its
    own record and deadline; the duplicate is closed as 已合并 and points to it; both histories
    keep the step. Needs merged into the duplicate earlier now point to the survivor (no chains).
    The duplicate must still be open (a done, rejected or rated need is part of the record and
    is not merged); the survivor must not be merged or rejected itself. A merged need counts in
    no need figure any more (R12, R49), nor in the open-need lists. Returns the duplicate."""
    _require_change(by, duplicate)
    _require_change(by, into)
    if duplicate.pk == into.pk:
        raise ValidationError({"into": [_("不能将需求合并到其自身。")]})
    duplicate, into = _lock_pair(duplicate, into)
    if duplicate.client_id != into.client_id:
        raise ValidationError({"into": [_("只能合并同一客户的需求。")]})
    if duplicate.status not in Need.OPEN or duplicate.rating:
        raise ValidationError(
            _("只有未关闭的需求可以作为重复需求合并(当前状态:%(status)s)。")
            % {"status": duplicate.get_status_display()}
        )
    if into.status in (Status.MERGED, Status.REJECTED):
        raise ValidationError(
            {"into": [_("不能合并到%(status)s的需求。") % {"status": into.get_status_display()}]}
        )
    note = (note or "").strip()
    now = timezone.now()
    duplicate.status = Status.MERGED
    duplicate.merged_into = into
    duplicate.merged_at = now
    duplicate.merged_by = by
    duplicate.closed_at = now
    duplicate.rating_token_hash = ""
    suffix = f":{note}" if note else ""
    _save(duplicate, by, f"作为重复需求合并至需求#{into.pk}{suffix}")
    for earlier in Need.objects.select_for_update().filter(merged_into=duplicate).order_by("pk"):
        earlier.merged_into = into
        _save(earlier, by, f"随需求#{duplicate.pk}改为合并至需求#{into.pk}")
    _save(into, by, f"合并重复需求#{duplicate.pk}{suffix}")
    return duplicate


@transaction.atomic
def need_mark_conflict(*, need: Need, other: Need, by, note: str):
    """R52: mark two needs of one client as contradicting each other, with a note saying how;
    both pages show the link. A pair is marked once; a merged need is marked no more (mark the
    need it was merged into)."""
    from ..models import NeedConflict

    _require_change(by, need)
    _require_change(by, other)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("请说明两条需求的矛盾之处。")]})
    if need.pk == other.pk:
        raise ValidationError({"other": [_("不能将需求与其自身标记为矛盾。")]})
    need, other = _lock_pair(need, other)
    if need.client_id != other.client_id:
        raise ValidationError({"other": [_("只能标记同一客户的需求之间的矛盾。")]})
    if Status.MERGED in (need.status, other.status):
        raise ValidationError(_("已合并的需求不再标记矛盾,请标记保留的那条需求。"))
    first, second = sorted((need, other), key=lambda n: n.pk)
    if NeedConflict.objects.filter(first=first, second=second).exists():
        raise ValidationError({"other": [_("这两条需求已标记为矛盾。")]})
    conflict = NeedConflict(first=first, second=second, note=note, marked_by=by, marked_at=timezone.now())
    conflict._history_user = by
    conflict._change_reason = "标记矛盾需求"
    conflict.full_clean()
    conflict.save()
    _save(need, by, f"标记与需求#{other.pk}矛盾:{note}")
    _save(other, by, f"标记与需求#{need.pk}矛盾:{note}")
    return conflict


# R53: how alike two needs' content must be (difflib ratio of their normalized text) to be listed
# as likely duplicates. Computed in Python, so it is the same on PostgreSQL and SQLite.
SIMILAR_RATIO = 0.6
SIMILAR_CANDIDATES = 200  # the most recent needs of a client compared


def _normalized(text: str) -> str:
    import re
    import unicodedata

    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"[\W_]+", "", text)


def similarity(a: str, b: str) -> float:
    import difflib

    a, b = _normalized(a), _normalized(b)
    if not a or not b:
        return 0.0
    return round(difflib.SequenceMatcher(None, a, b, autojunk=False).ratio(), 3)


def _candidates(user, client_ids=None):
    qs = Need.objects.restrict(user, "view").exclude(status__in=(Status.MERGED, Status.REJECTED))
    if client_ids is not None:
        qs = qs.filter(client_id__in=list(client_ids))
    return qs


def likely_duplicates(user, *, client_ids=None, branch_id=None) -> list[dict]:
    """R53: per client, the pairs of its needs with similar content (ratio >= SIMILAR_RATIO), at
    least one of them still open (a merge closes the open one), and not marked as contradicting
    each other; most similar first. Read through ``restrict(user, "view")``."""
    from ..models import NeedConflict

    qs = _candidates(user, client_ids)
    if branch_id:
        qs = qs.filter(client__branch_id=branch_id)
    with_open = qs.filter(status__in=Need.OPEN).values("client_id")
    rows = list(
        qs.filter(client_id__in=with_open)
        .order_by("client_id", "-received_at", "-pk")
        .values("pk", "client_id", "client__name", "description", "status", "received_at")
    )
    by_client: dict[int, list[dict]] = {}
    for row in rows:
        bucket = by_client.setdefault(row["client_id"], [])
        if len(bucket) < SIMILAR_CANDIDATES:
            bucket.append(row)
    ids = [row["pk"] for row in rows]
    conflicts = set(NeedConflict.objects.filter(first_id__in=ids).values_list("first_id", "second_id"))
    pairs = []
    for needs in by_client.values():
        for i, a in enumerate(needs):
            for b in needs[i + 1 :]:
                if a["status"] not in Need.OPEN and b["status"] not in Need.OPEN:
                    continue
                if (min(a["pk"], b["pk"]), max(a["pk"], b["pk"])) in conflicts:
                    continue
                ratio = similarity(a["description"], b["description"])
                if ratio >= SIMILAR_RATIO:
                    # The older one survives by default (it was recorded first), unless only
                    # the older one is still open: a closed need is not merged away (R51).
                    older, newer = sorted((a, b), key=lambda n: (n["received_at"], n["pk"]))
                    if newer["status"] not in Need.OPEN:
                        older, newer = newer, older
                    pairs.append(
                        {
                            "client_id": a["client_id"],
                            "client": a["client__name"],
                            "keep": older,
                            "duplicate": newer,
                            "similarity": ratio,
                        }
                    )
    pairs.sort(key=lambda p: (p["client"], -p["similarity"], p["duplicate"]["pk"]))
    return pairs


def similar_needs(user, need: Need) -> list[tuple[Need, float]]:
    """R53 on the need's page: the other needs of its client that look like it."""
    from ..models import NeedConflict

    if need.status == Status.MERGED:
        return []
    others = (
        _candidates(user, [need.client_id]).exclude(pk=need.pk).order_by("-received_at")[:SIMILAR_CANDIDATES]
    )
    marked = set(NeedConflict.objects.filter(first=need).values_list("second_id", flat=True))
    marked |= set(NeedConflict.objects.filter(second=need).values_list("first_id", flat=True))
    out = []
    for other in others:
        if other.pk in marked or (need.status not in Need.OPEN and other.status not in Need.OPEN):
            continue
        ratio = similarity(need.description, other.description)
        if ratio >= SIMILAR_RATIO:
            out.append((other, ratio))
    out.sort(key=lambda pair: -pair[1])
    return out
