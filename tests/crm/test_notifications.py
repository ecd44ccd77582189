import pytest
from django.core import mail
from django.urls import reverse

from crm.models import Notification
from crm.outbox.services import deliveries_send_due
from crm.services import notify

pytestmark = pytest.mark.django_db


def test_notify_in_app_and_by_email_once_per_key(org):
    user = org["east_staff"]
    made = notify(recipients=[user], verb="test", title="投诉超期提醒", body="请尽快处理", url="/", key="k1")
    # Nothing is sent inside the call (R110): the outbox's worker sends the delivery.
    assert len(made) == 1 and len(mail.outbox) == 0
    assert deliveries_send_due() == {"sent": 1} and len(mail.outbox) == 1
    assert mail.outbox[0].subject == "投诉超期提醒"
    again = notify(recipients=[user], verb="test", title="投诉超期提醒", key="k1")
    assert again == [] and Notification.objects.filter(recipient=user).count() == 1


def test_unread_count_in_header_and_open_marks_read(org):
    user = org["east_staff"]
    note = notify(recipients=[user], verb="test", title="新的查阅申请", url="/notifications/")[0]
    web = org.web("east_staff")
    page = web.get(reverse("home"))
    assert 'data-testid="unread-count">1<' in page.content.decode()
    assert web.get(reverse("notification-open", args=[note.pk])).status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None


def test_someone_elses_notification_is_not_found(org):
    note = notify(recipients=[org["east_staff"]], verb="t", title="x")[0]
    assert org.web("south_staff").get(reverse("notification-open", args=[note.pk])).status_code == 404


def test_read_all(org):
    notify(recipients=[org["east_staff"]], verb="t", title="a")
    notify(recipients=[org["east_staff"]], verb="t", title="b")
    org.web("east_staff").post(reverse("notification-read-all"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()


ROUTES_COVERED = ["notification-list", "notification-open", "notification-read-all"]
