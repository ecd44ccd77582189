"""The outbox (R109-R115): one notice, in-app rows and deliveries written with the change;
sending, backoff, retry_after, final failure, re-send; preferences and mandatory notices;
each recipient's language; the digest; the administrator's page, its API and home panel."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils.translation import gettext as _

from crm.models import Delivery, Notice, NoticePreference, Notification, Role
from crm.outbox import DeliveryFailed, channels
from crm.outbox.services import (
    backoff_seconds,
    deliveries_send_due,
    deliveries_sweep,
    delivery_resend,
    delivery_send,
    digest_send_due,
    preferences_set,
)
from crm.services import notify

pytestmark = pytest.mark.django_db
SH = zoneinfo.ZoneInfo("Asia/Shanghai")
# The permission tests of these routes are here (tests/test_route_coverage.py): the anonymous,
# the roleless, the business roles (403) and the administrator (200) on the pages and the API.
ROUTES_COVERED = (
    "delivery-list",
    "delivery-resend",
    "deliveries-resend",
    "preferences",
    "api-delivery-list",
    "api-delivery-detail",
    "api-delivery-resend",
    "api-delivery-resend-selected",
    "api-preferences",
)


@pytest.fixture
def flaky():
    """A channel whose send does what the test says (a list of outcomes, one per attempt)."""
    outcomes: list = []
    sent: list[int] = []

    def targets(notice, recipients):
        return ["room-1"] if notice.verb == "flaky" else []

    def send(delivery):
        outcome = outcomes.pop(0) if outcomes else None
        if isinstance(outcome, Exception):
            raise outcome
        sent.append(delivery.pk)

    channels.register("flaky", targets=targets, send=send)
    yield outcomes, sent
    channels.unregister("flaky")


def _due_now(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=dt.datetime(2000, 1, 1, tzinfo=SH))


def test_one_notice_for_many_people_in_app_rows_and_deliveries(org):
    """R109: one notice, one in-app row per person, one e-mail delivery each; nothing sent yet."""
    people = [org["east_staff"], org["east_manager"], org["south_staff"], org["east_staff"]]
    made = notify(
        recipients=people, verb="monthly_reminder", title="请上报月报", url="/reports/", key="circ-1"
    )
    assert len(made) == 3
    assert Notice.objects.filter(key="circ-1").count() == 1
    notice = Notice.objects.get(key="circ-1")
    assert set(notice.notifications.values_list("recipient__username", flat=True)) == {
        "east_staff",
        "east_manager",
        "south_staff",
    }
    assert notice.deliveries.filter(channel="email", state="pending").count() == 3
    assert len(mail.outbox) == 0  # R110: nothing sent inside the caller
    # Idempotent by key: a second run adds nothing, a newcomer is told alone.
    assert notify(recipients=people, verb="monthly_reminder", title="请上报月报", key="circ-1") == []
    again = notify(
        recipients=[*people, org["south_manager"]], verb="monthly_reminder", title="x", key="circ-1"
    )
    assert [n.recipient.username for n in again] == ["south_manager"]
    assert Notice.objects.filter(key="circ-1").count() == 1 and notice.deliveries.count() == 4
    assert deliveries_send_due() == {"sent": 4} and len(mail.outbox) == 4
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        u.email for u in [*people[:3], org["south_manager"]]
    )


def test_backoff_retry_after_and_final_failure(org, flaky, settings):
    """R110, R111: a failure is retried after the backoff (doubling), a rate limit's retry_after
    is honoured, a permanent failure and spent attempts end ``failed`` with the error."""
    settings.CRM_OUTBOX_BACKOFF_SECONDS = 10
    settings.CRM_OUTBOX_MAX_ATTEMPTS = 3
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [10, 20, 40]
    outcomes, sent = flaky
    outcomes += [
        OSError("connection refused"),
        DeliveryFailed("rate limited", retry_after=61),
        RuntimeError("boom"),
    ]
    notify(recipients=[org["east_staff"]], verb="flaky", title="t", email=False)
    delivery = Delivery.objects.get(channel="flaky")
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=SH), tick=False):
        _due_now(delivery)
        assert delivery_send(delivery_id=delivery.pk) == "pending"
        delivery.refresh_from_db()
        assert delivery.attempts == 1 and "OSError: connection refused" in delivery.last_error
        assert delivery.next_attempt_at == dt.datetime(2026, 12, 7, 10, 0, 10, tzinfo=SH)
        # Not due yet: a message arriving early does nothing.
        assert delivery_send(delivery_id=delivery.pk) is None
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, 11, tzinfo=SH), tick=False):
        assert delivery_send(delivery_id=delivery.pk) == "pending"
        delivery.refresh_from_db()
        assert delivery.next_attempt_at == dt.datetime(2026, 12, 7, 10, 1, 12, tzinfo=SH)  # retry_after 61 s
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 2, tzinfo=SH), tick=False):
        assert delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (
        delivery.state == "failed" and delivery.attempts == 3 and delivery.last_error == "RuntimeError: boom"
    )
    assert sent == []
    # R114: re-sent, it goes (fresh attempts).
    delivery_resend(delivery=delivery, by=org["admin"])
    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.attempts == 0
    assert deliveries_send_due() == {"sent": 1} and sent == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.state == "sent" and delivery.sent_at is not None
    # Only a failed one may be re-sent.
    with pytest.raises(Exception, match="只有发送失败"):
        delivery_resend(delivery=delivery, by=org["admin"])


def test_permanent_failure_fails_at_once(org, flaky):
    outcomes, _sent = flaky
    outcomes.append(DeliveryFailed("errcode 93000: invalid webhook", permanent=True))
    notify(recipients=[], verb="flaky", title="t", email=False)
    delivery = Delivery.objects.get(channel="flaky")
    assert delivery.recipient is None
    assert delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_error == "errcode 93000: invalid webhook"


def test_a_stuck_delivery_is_swept_again(org):
    """R110: a delivery left "sending" by a dead worker is due again after its lease."""
    notify(recipients=[org["east_staff"]], verb="t", title="x")
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        state="sending", attempts=1, next_attempt_at=dt.datetime(2026, 1, 1, tzinfo=SH)
    )
    assert deliveries_sweep() == 1
    assert deliveries_send_due() == {"sent": 1}
    delivery.refresh_from_db()
    assert delivery.state == "sent" and delivery.attempts == 2


def test_preferences_and_mandatory_notices(org):
    """R112: in the app only and digest mean no e-mail for that kind; a mandatory notice (an
    access grant's end, a hold) is e-mailed whatever was chosen."""
    staff = org["east_staff"]
    preferences_set(user=staff, modes={"reminders": "app", "records": "digest"})
    notify(recipients=[staff], verb="visit_overdue", title="逾期", key="a")
    notify(recipients=[staff], verb="complaint", title="投诉", key="b")
    notify(recipients=[staff], verb="access_grant", title="授权到期", key="c")
    notify(recipients=[staff], verb="ranking", title="排名", key="d")
    assert Notification.objects.filter(recipient=staff).count() == 4  # always in the app
    assert set(Delivery.objects.values_list("notice__key", flat=True)) == {"c", "d"}
    with pytest.raises(ValidationError):
        preferences_set(user=staff, modes={"reminders": "never"})
    assert NoticePreference.objects.get(user=staff, kind="reminders").mode == "app"


def test_each_recipient_reads_the_notice_in_their_language(org):
    """R113: rendered per recipient whoever caused it, in the app and in the e-mail."""
    preferences_set(user=org["south_staff"], language="en")
    notify(
        recipients=[org["east_staff"], org["south_staff"]],
        verb="t",
        title=lambda: _("已将 %(n)d 条通知标为已读。") % {"n": 3},
        key="lang",
    )
    east = Notification.objects.get(recipient=org["east_staff"], key="lang")
    south = Notification.objects.get(recipient=org["south_staff"], key="lang")
    assert east.title == "已将 3 条通知标为已读。"
    assert south.title == "Marked 3 notifications as read."
    notice = Notice.objects.get(key="lang")
    assert notice.title == east.title and notice.text("en")[0] == south.title
    deliveries_send_due()
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects[org["south_staff"].email] == "Marked 3 notifications as read."
    assert subjects[org["east_staff"].email] == "已将 3 条通知标为已读。"


def test_the_pages_follow_the_persons_language(org):
    """R113: the setting decides the pages' language on any browser they sign in from; the
    header's switch still picks another for this browser."""
    web = org.web("east_staff")
    assert "工作台" in web.get(reverse("home")).content.decode()
    kinds = {f"kind_{k}": "email" for k in ("reminders", "reports", "records", "access", "other")}
    answer = web.post(reverse("preferences"), {"language": "en", **kinds})
    assert answer.status_code == 302
    org["east_staff"].refresh_from_db()
    assert org["east_staff"].language == "en"
    fresh = org.web("east_staff")  # another browser, no language cookie: the setting decides
    assert "Workbench" in fresh.get(reverse("home")).content.decode()
    fresh.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "工作台" in fresh.get(reverse("home")).content.decode()
    org["east_staff"].refresh_from_db()
    assert org["east_staff"].language == "en"  # the notices still follow the setting


def test_preferences_page_refuses_bad_input(org):
    web = org.web("east_staff")
    answer = web.post(reverse("preferences"), {"language": "fr", "kind_reminders": "never"})
    assert answer.status_code == 200 and "errorlist" in answer.content.decode()
    assert not NoticePreference.objects.exists()


@override_settings(CRM_DIGEST_TIME="08:00")
def test_the_digest_once_a_day_after_its_hour_and_catching_up(org):
    """R115: not before 08:00 Asia/Shanghai; the first run after it sends one; a second run
    that day sends nothing; a missed 08:00 run is caught up by the next one."""
    staff = org["east_staff"]
    preferences_set(user=staff, modes={"reminders": "digest"})
    with time_machine.travel(dt.datetime(2026, 12, 7, 7, 30, tzinfo=SH), tick=False):
        notify(recipients=[staff], verb="visit_overdue", title="拜访逾期:甲公司", key="v1")
        assert not Delivery.objects.exists()  # the digest, not an e-mail each
        assert digest_send_due() == 0
    with time_machine.travel(dt.datetime(2026, 12, 7, 11, 5, tzinfo=SH), tick=False):  # 08:05..10:05 missed
        assert digest_send_due() == 1
        assert digest_send_due() == 0
    delivery = Delivery.objects.get()
    assert delivery.notice.key == f"digest:{staff.pk}:2026-12-07" and delivery.recipient == staff
    deliveries_send_due()
    assert len(mail.outbox) == 1 and "拜访逾期:甲公司" in mail.outbox[0].body
    assert mail.outbox[0].subject == "每日摘要:2026-12-07"


# -- the administrator's page, API and home panel (R114) ---------------------------------------


@pytest.fixture
def failed(org):
    notify(recipients=[org["east_staff"]], verb="t", title="失败的通知", key="f")
    delivery = Delivery.objects.get(notice__key="f")
    Delivery.objects.filter(pk=delivery.pk).update(state="failed", attempts=6, last_error="SMTP down")
    return delivery


def test_only_the_administrator_sees_deliveries(org, failed):
    assert org.web(None).get(reverse("delivery-list")).status_code == 302
    for who in ("norole", "east_staff", "marketing", "leader"):
        assert org.web(who).get(reverse("delivery-list")).status_code == 403, who
        assert org.web(who).post(reverse("delivery-resend", args=[failed.pk])).status_code == 403, who
        assert org.api(who).get("/api/deliveries/").status_code == 403, who
        assert org.api(who).get(f"/api/deliveries/{failed.pk}/").status_code == 403, who
        assert org.api(who).post(f"/api/deliveries/{failed.pk}/resend/").status_code == 403, who
        assert org.web(who).post(reverse("deliveries-resend"), {"ids": [failed.pk]}).status_code == 403, who
        ids = {"ids": [failed.pk]}
        assert org.api(who).post("/api/deliveries/resend-selected/", ids, format="json").status_code == 403, (
            who
        )
    assert org.api(None).get("/api/deliveries/").status_code == 401
    assert org.api(None).post(f"/api/deliveries/{failed.pk}/resend/").status_code == 401
    assert org.web(None).get(reverse("preferences")).status_code == 302
    failed.refresh_from_db()
    assert failed.state == "failed"
    page = org.web("admin").get(reverse("delivery-list"), {"state": "failed"})
    assert page.status_code == 200 and page.context["page"].paginator.count == 1
    assert "SMTP down" in page.content.decode()
    export = org.web("admin").get(reverse("delivery-list"), {"state": "failed", "export": "xlsx"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert org.web("admin").get(reverse("delivery-list"), {"date_from": "not-a-date"}).status_code == 200
    assert (
        org.web("admin").get(reverse("delivery-list"), {"recipient": "99999999999999999999"}).status_code
        == 200
    )


def test_admin_home_panel_and_resend_on_the_page(org, failed):
    home = org.web("admin").get(reverse("home")).content.decode()
    assert "近 7 天发送失败" in home
    panel = next(
        p for p in org.web("admin").get(reverse("home")).context["panels"] if p["title"] == "通知投递"
    )
    figure = panel["figures"][0]
    assert figure["value"] == 1
    assert org.web("admin").get(figure["url"]).context["page"].paginator.count == 1
    assert "近 7 天发送失败" not in org.web("east_manager").get(reverse("home")).content.decode()
    answer = org.web("admin").post(reverse("delivery-resend", args=[failed.pk]))
    assert answer.status_code == 302
    failed.refresh_from_db()
    assert failed.state == "pending"
    Delivery.objects.filter(pk=failed.pk).update(state="failed")
    org.web("admin").post(reverse("deliveries-resend"), {"ids": [failed.pk, "x"]})
    failed.refresh_from_db()
    assert failed.state == "pending"


def test_the_api_lists_and_resends(org, failed):
    api = org.api("admin")
    listed = api.get("/api/deliveries/", {"state": "failed", "channel": "email"}).json()
    assert "count" in listed, listed
    assert listed["count"] == 1 and listed["results"][0]["last_error"] == "SMTP down"
    assert api.get("/api/deliveries/", {"state": "bogus"}).status_code == 400
    answer = api.post(f"/api/deliveries/{failed.pk}/resend/")
    assert answer.status_code == 200 and answer.json()["state"] == "pending"
    assert api.post(f"/api/deliveries/{failed.pk}/resend/").status_code == 409  # not failed any more
    assert api.post("/api/deliveries/resend-selected/", {"ids": [failed.pk]}, format="json").json() == {
        "resent": 0
    }
    assert api.post("/api/deliveries/resend-selected/", {"ids": "x"}, format="json").status_code == 400
    assert api.get("/api/deliveries/999999/").status_code == 404


def test_the_preferences_api(org):
    api = org.api("east_staff")
    assert api.get("/api/me/preferences/").json()["modes"]["reminders"] == "email"
    answer = api.patch(
        "/api/me/preferences/", {"language": "en", "modes": {"reports": "digest"}}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["modes"]["reports"] == "digest"
    assert api.patch("/api/me/preferences/", {"modes": {"nope": "app"}}, format="json").status_code == 400
    assert org.api(None).get("/api/me/preferences/").status_code == 401


def test_an_administrator_by_role_not_superuser(org, failed):
    from crm.services import user_set_role

    user = org["norole"]
    user_set_role(user=user, role=Role.ADMIN)
    assert org.web("norole").get(reverse("delivery-list")).status_code == 200


def test_the_sweeper_and_the_digest_are_scheduled_in_shanghai_time():
    """R110, R115: the beat's rows (django-celery-beat), with minute and hour, Asia/Shanghai."""
    from django_celery_beat.models import PeriodicTask

    sweep = PeriodicTask.objects.get(task="crm.outbox.tasks.deliveries_sweep")
    digest = PeriodicTask.objects.get(task="crm.outbox.tasks.digests_send")
    assert (sweep.crontab.minute, sweep.crontab.hour) == ("*/2", "*")
    assert (digest.crontab.minute, digest.crontab.hour) == ("5", "*")
    assert str(digest.crontab.timezone) == "Asia/Shanghai"
