"""Writes of the outbox (R109-R115): publishing a notice, sending and re-sending deliveries,
the daily digest."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import DeliveryFailed, channels
from .kinds import KINDS, MANDATORY_VERBS, kind_of

logger = logging.getLogger(__name__)

Text = str | Callable[[], str]


def _render(text: Text, language: str) -> str:
    if not callable(text):
        return str(text)
    with translation.override(language):
        return str(text())


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def language_of(user) -> str:
    return (user and getattr(user, "language", "")) or settings.LANGUAGE_CODE


_held = [0]


@contextmanager
def held():
    """Deliveries made inside are not handed to the worker one task each: the sweep finds them
    (R110). The demo's seed makes hundreds of notices of the past; queued one by one they kept
    a fresh ``make run``'s worker busy for minutes before it ran anything a person asked for."""
    _held[0] += 1
    try:
        yield
    finally:
        _held[0] -= 1


def _enqueue(delivery_ids: list[int], countdown: float | None = None) -> None:
    from crm.tasks import enqueue

    from .tasks import deliver

    if _held[0]:
        return

    def go():
        for pk in delivery_ids:
            if not enqueue(deliver, pk, countdown=countdown):
                break  # the broker is away: the rest stay pending for the sweep (R110)

    if delivery_ids:
        transaction.on_commit(go)


def notice_publish(
    *,
    recipients: Iterable,
    verb: str,
    title: Text,
    body: Text = "",
    url: str = "",
    key: str = "",
    email: bool = True,
):
    """R109: one notice for the event, one in-app row per recipient not yet told under ``key``,
    one delivery per channel target, handed to the worker after commit (R110). Returns the
    in-app rows made (none when everyone was told already)."""
    from crm.models import Notice, Notification

    people = list({u.pk: u for u in recipients if u is not None}.values())
    texts = {
        lang: {"title": _render(title, lang)[:200], "body": _render(body, lang)} for lang in _languages()
    }
    default = texts.get(settings.LANGUAGE_CODE) or next(iter(texts.values()))
    with transaction.atomic():
        notice = Notice.objects.filter(key=key, verb=verb).first() if key else None
        if notice is None:
            notice = Notice.objects.create(
                verb=verb, title=default["title"], body=default["body"], url=url, key=key, texts=texts
            )
        made, told = [], []
        for user in people:
            text = texts.get(language_of(user)) or default
            try:
                with transaction.atomic():
                    made.append(
                        Notification.objects.create(
                            recipient=user,
                            verb=verb,
                            title=text["title"],
                            body=text["body"],
                            url=url,
                            key=key,
                            notice=notice,
                        )
                    )
            except IntegrityError:
                continue  # already told under this key
            told.append(user)
        ids = []
        for channel in channels.all_channels():
            if channel.name == "email" and not email:
                continue
            for target in channel.targets(notice, told) or []:
                address, person = target if isinstance(target, tuple) else (target, None)
                try:
                    with transaction.atomic():
                        ids.append(
                            notice.deliveries.create(
                                channel=channel.name, target=str(address)[:300], recipient=person
                            ).pk
                        )
                except IntegrityError:
                    continue  # this target has it already
        _enqueue(ids)
    return made


def backoff_seconds(attempts: int) -> float:
    """R110: the wait before attempt ``attempts + 1``: base x 2^(attempts-1), capped."""
    base = settings.CRM_OUTBOX_BACKOFF_SECONDS
    return min(base * (2 ** max(attempts - 1, 0)), settings.CRM_OUTBOX_BACKOFF_MAX_SECONDS)


def delivery_claim(delivery_id: int):
    """Take a due delivery for sending (an atomic update, so two workers never both send it):
    pending and due, or left "sending" past its lease. None when it is not due or not ours."""
    from crm.models import Delivery

    now = timezone.now()
    lease = now + dt.timedelta(seconds=settings.CRM_OUTBOX_LEASE_SECONDS)
    taken = Delivery.objects.filter(
        pk=delivery_id,
        state__in=[Delivery.State.PENDING, Delivery.State.SENDING],
        next_attempt_at__lte=now,
    ).update(state=Delivery.State.SENDING, attempts=F("attempts") + 1, next_attempt_at=lease, updated_at=now)
    if not taken:
        return None
    return Delivery.objects.select_related("notice", "recipient").get(pk=delivery_id)


def delivery_send(*, delivery_id: int) -> str | None:
    """Send one delivery through its channel (R110, R111): ``sent``; or back to ``pending``
    with the next attempt after the backoff (or the channel's ``retry_after``); or ``failed``
    when the failure is permanent or the attempts are spent. Returns the new state (None: not
    due, nothing done)."""
    from crm.models import Delivery

    delivery = delivery_claim(delivery_id)
    if delivery is None:
        return None
    channel = channels.get(delivery.channel)
    try:
        if channel is None:
            raise DeliveryFailed(_("未知的发送渠道:%(name)s") % {"name": delivery.channel})
        with translation.override(language_of(delivery.recipient)):
            channel.send(delivery)
    except Exception as exc:  # noqa: BLE001  every failure is recorded on the row, none is lost
        failed = exc if isinstance(exc, DeliveryFailed) else DeliveryFailed(f"{type(exc).__name__}: {exc}")
        now = timezone.now()
        delivery.last_error = failed.message[:2000]
        if failed.permanent or delivery.attempts >= settings.CRM_OUTBOX_MAX_ATTEMPTS:
            delivery.state = Delivery.State.FAILED
            delivery.next_attempt_at = now
            delivery.save(update_fields=["state", "last_error", "next_attempt_at", "updated_at"])
            logger.warning("delivery %s failed for good: %s", delivery.pk, delivery.last_error)
            return delivery.state
        wait = failed.retry_after if failed.retry_after is not None else backoff_seconds(delivery.attempts)
        wait = max(float(wait), 0.0)
        delivery.state = Delivery.State.PENDING
        delivery.next_attempt_at = now + dt.timedelta(seconds=wait)
        delivery.save(update_fields=["state", "last_error", "next_attempt_at", "updated_at"])
        _enqueue([delivery.pk], countdown=wait)
        return delivery.state
    delivery.state = Delivery.State.SENT
    delivery.sent_at = timezone.now()
    delivery.save(update_fields=["state", "sent_at", "updated_at"])
    return delivery.state


class NotResendable(ValidationError):
    """Only a failed delivery may be re-sent (someone else re-sent it first: a 409)."""


def delivery_resend(*, delivery, by):
    """R114: an administrator sends a failed delivery again: back to ``pending`` with fresh
    attempts, handed to the worker after commit. A delivery that is not failed (already re-sent
    by someone else, or sent) is refused."""
    from crm.models import Delivery

    from .access import is_administrator

    if not is_administrator(by):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("只有系统管理员可以重新发送。"))
    with transaction.atomic():
        row = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if row.state != Delivery.State.FAILED:
            raise NotResendable(
                _("只有发送失败的投递可以重新发送(当前状态:%(state)s)。") % {"state": row.get_state_display()}
            )
        row.state = Delivery.State.PENDING
        row.attempts = 0
        row.next_attempt_at = timezone.now()
        row._change_reason = f"resent by {by.username}"
        row.save()
        _enqueue([row.pk])
    return row


def deliveries_resend(*, deliveries, by) -> int:
    """Re-send the failed ones among ``deliveries`` (the page's "re-send selected"); the others
    are left alone. Returns how many were re-sent."""
    count = 0
    for delivery in deliveries:
        try:
            delivery_resend(delivery=delivery, by=by)
        except NotResendable:
            continue
        count += 1
    return count


def deliveries_sweep(*, now=None) -> int:
    """R110: hand every due delivery (pending and due, or stuck in "sending" past its lease)
    to the worker again. Sending twice is prevented by the claim, so a duplicate is harmless."""
    from crm.models import Delivery

    ids = list(Delivery.objects.due(now).values_list("pk", flat=True)[:5000])
    _enqueue(ids)
    return len(ids)


# -- the daily digest (R112, R115) ----------------------------------------------------------


def digest_hour() -> dt.time:
    return dt.time.fromisoformat(settings.CRM_DIGEST_TIME)


def _digest_people():
    from crm.models import NoticePreference, User

    ids = NoticePreference.objects.filter(mode=NoticePreference.Mode.DIGEST).values("user_id")
    return User.objects.filter(pk__in=ids, is_active=True).exclude(email="")


def digest_body(user, since) -> tuple[str, str, int]:
    """The digest's title and body in the user's language: the notices of the kinds they chose
    for the digest since ``since``, and their to-dos (the home page's panels)."""
    from crm import dashboard
    from crm.models import NoticePreference

    kinds = set(
        NoticePreference.objects.filter(user=user, mode=NoticePreference.Mode.DIGEST).values_list(
            "kind", flat=True
        )
    )
    verbs = set().union(*(KINDS[k][1] for k in kinds if k in KINDS))
    rows = (
        user.notifications.filter(created_at__gte=since)
        .exclude(verb__in=MANDATORY_VERBS)
        .exclude(verb="digest")
    )
    notes = [
        n
        for n in rows.order_by("created_at")[:200]
        if n.verb in verbs or ("other" in kinds and kind_of(n.verb) == "other")
    ]
    lines = []
    with translation.override(language_of(user)):
        if notes:
            lines.append(_("新通知(%(n)d 条):") % {"n": len(notes)})
            for n in notes:
                lines.append(f"- {n.title}" + (f"  {settings.CRM_SITE_URL}{n.url}" if n.url else ""))
        todo = 0
        for panel in dashboard.panels(user):
            items = panel.get("items") or []
            if not items:
                continue
            lines.append("")
            lines.append(f"{panel['title']}:")
            for item in items[:10]:
                todo += 1
                lines.append(f"- {item.get('title', '')} {item.get('subtitle', '') or ''}".rstrip())
        title = _("每日摘要:%(date)s") % {"date": timezone.localdate().isoformat()}
    return title, "\n".join(lines).strip(), len(notes) + todo


def digest_send_due(*, now=None) -> int:
    """R115: each person who chose a digest gets one e-mail a day at ``CRM_DIGEST_TIME``
    (Asia/Shanghai): once per person per day (the notice's key), and a run after a missed one
    catches up the same day; it covers everything since the previous digest, so nothing falls
    between two. Returns how many were made."""
    from crm.models import Notice

    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.time() < digest_hour():
        return 0
    made = 0
    for user in _digest_people():
        key = f"digest:{user.pk}:{local.date().isoformat()}"
        with transaction.atomic():
            # One run at a time per person (two beat runs, a manual one): the second finds the key.
            type(user).objects.select_for_update().filter(pk=user.pk).first()
            if Notice.objects.filter(key=key).exists():
                continue
            previous = (
                Notice.objects.filter(verb="digest", deliveries__recipient=user).order_by("-created").first()
            )
            since = previous.created if previous else now - dt.timedelta(days=1)
            title, body, count = digest_body(user, since)
            if not count:
                continue
            notice = Notice.objects.create(verb="digest", title=title[:200], body=body, key=key, texts={})
            delivery = notice.deliveries.create(channel="email", target=user.email, recipient=user)
            _enqueue([delivery.pk])
        made += 1
    return made


def deliveries_send_due(*, now=None) -> dict[str, int]:
    """Send every due delivery here and now, one after the other (the ``send_deliveries``
    command, for an operator without a worker at hand; and tests). Returns the states reached."""
    from crm.models import Delivery

    reached: dict[str, int] = {}
    for pk in list(Delivery.objects.due(now).order_by("pk").values_list("pk", flat=True)):
        state = delivery_send(delivery_id=pk)
        if state:
            reached[state] = reached.get(state, 0) + 1
    return reached


def preferences_of(user) -> dict[str, str]:
    """The person's mode per kind of notice (R112); a kind without a row is e-mailed."""
    from crm.models import NoticePreference

    chosen = dict(user.notice_preferences.values_list("kind", "mode"))
    return {kind: chosen.get(kind, NoticePreference.Mode.EMAIL) for kind in KINDS}


def preferences_set(*, user, language: str | None = None, modes: dict[str, str] | None = None):
    """A person sets their own language (R113) and, per kind of notice, in the app only, by
    e-mail or in the daily digest (R112). Unknown kinds or modes are refused whole."""
    from crm.models import NoticePreference

    errors = {}
    codes = {code for code, _name in settings.LANGUAGES}
    if language is not None and language not in codes | {""}:
        errors["language"] = _("不支持的语言。")
    modes = modes or {}
    for kind, mode in modes.items():
        if kind not in KINDS:
            errors[kind] = _("未知的通知类别。")
        elif mode not in NoticePreference.Mode.values:
            errors[kind] = _("未知的接收方式。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if language is not None and language != user.language:
            user.language = language
            user.save(update_fields=["language"])
        for kind, mode in modes.items():
            NoticePreference.objects.update_or_create(user=user, kind=kind, defaults={"mode": mode})
    return preferences_of(user)
