"""The e-mail channel (R111, R112): one delivery per recipient who wants this kind of notice by
e-mail (or must have it: a mandatory notice), sent in the recipient's language (R113)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from . import DeliveryFailed, channels
from .kinds import MANDATORY_VERBS, kind_of

NAME = "email"


def modes_for(users, verb: str) -> dict[int, str]:
    """Each user's chosen mode for the kind of ``verb`` (no row: e-mail)."""
    from crm.models import NoticePreference

    kind = kind_of(verb)
    chosen = dict(
        NoticePreference.objects.filter(user__in=[u.pk for u in users], kind=kind).values_list(
            "user_id", "mode"
        )
    )
    return {u.pk: chosen.get(u.pk, NoticePreference.Mode.EMAIL) for u in users}


def targets(notice, recipients) -> list[tuple[str, object]]:
    from crm.models import NoticePreference

    people = [u for u in recipients if u.email and u.is_active]
    if notice.verb in MANDATORY_VERBS:
        return [(u.email, u) for u in people]
    modes = modes_for(people, notice.verb)
    return [(u.email, u) for u in people if modes[u.pk] == NoticePreference.Mode.EMAIL]


def language_of(user) -> str:
    return (user and user.language) or settings.LANGUAGE_CODE


def text_for(delivery) -> tuple[str, str]:
    """The recipient's own in-app row has the notice in their language; a digest has none."""
    from crm.models import Notification

    notice = delivery.notice
    if delivery.recipient_id:
        row = Notification.objects.filter(notice=notice, recipient_id=delivery.recipient_id).first()
        if row is not None:
            return row.title, row.body
    return notice.text(language_of(delivery.recipient))


def send(delivery) -> None:
    title, body = text_for(delivery)
    url = delivery.notice.url
    link = f"{settings.CRM_SITE_URL}{url}" if url else ""
    message = EmailMessage(
        subject=title,
        body=f"{body}\n\n{link}".strip(),
        to=[delivery.target],
        connection=get_connection(fail_silently=False),
    )
    try:
        sent = message.send()
    except OSError as exc:  # refused, timed out, SMTP errors (smtplib's are OSErrors)
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not sent:
        raise DeliveryFailed("the mail backend sent nothing")


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    channels.register(NAME, targets=targets, send=send, label=_("邮件"))
