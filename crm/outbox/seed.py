"""The outbox in the demo (R109-R115): deliveries already sent, one that failed for the
administrator to see on the home page and re-send, and the preferences of two people (a digest
of reminders; English). Idempotent."""

from __future__ import annotations

import datetime as dt

from django.db.models import F
from django.utils import timezone


def seed(org) -> str:
    from crm.models import Delivery, Notice, NoticePreference

    from .services import preferences_set

    staff, design = org.users.get("east_staff"), org.users.get("design_staff")
    if staff is not None and not NoticePreference.objects.filter(user=staff).exists():
        preferences_set(user=staff, modes={"reminders": "digest", "reports": "email"})
    if design is not None and not NoticePreference.objects.filter(user=design).exists():
        preferences_set(user=design, language="en", modes={"records": "app"})
    now = timezone.now()
    # The demo's notices are history: their deliveries went out when they were made (the worker
    # finds nothing left to send for them).
    sent = Delivery.objects.filter(state=Delivery.State.PENDING, attempts=0).update(
        state=Delivery.State.SENT, attempts=1, sent_at=F("created_at") + dt.timedelta(seconds=2)
    )
    manager = org.users.get("south_manager")
    notice, made = Notice.objects.get_or_create(
        key="demo:monthly-reminder-failed",
        defaults={
            "verb": "monthly_reminder",
            "title": "月度客户信息报表上报提醒",
            "body": "请于本月25日前提交本单位的月度客户信息报表。",
            "url": "/reports/monthly/",
            "texts": {
                "en": {
                    "title": "Reminder: the monthly client report",
                    "body": "Please submit your branch's monthly client report by the 25th.",
                }
            },
            "created": now - dt.timedelta(days=1),
        },
    )
    if made and manager is not None:
        Delivery.objects.create(
            notice=notice,
            channel="email",
            target=manager.email or "south_manager@example.com",
            recipient=manager,
            state=Delivery.State.FAILED,
            attempts=6,
            last_error="SMTPServerDisconnected: Connection unexpectedly closed",
            next_attempt_at=now - dt.timedelta(hours=20),
            created_at=now - dt.timedelta(days=1),
        )
    failed = Delivery.objects.filter(state=Delivery.State.FAILED).count()
    return f"{sent} deliveries marked sent, {failed} failed, preferences for 2 people"
