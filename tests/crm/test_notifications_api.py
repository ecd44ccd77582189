"""The notifications through the API (/api/notifications/): the reader's own only, as on the
bell's page; ``read`` and ``read-all`` call the services the pages call."""

import pytest
from django.urls import reverse

from crm.models import Notification
from crm.services import notify

pytestmark = pytest.mark.django_db

ROUTES_COVERED = [
    "api-notification-list",
    "api-notification-detail",
    "api-notification-read",
    "api-notification-read-all",
]

LIST = reverse("api-notification-list")
READ_ALL = reverse("api-notification-read-all")


def _detail(note):
    return reverse("api-notification-detail", kwargs={"pk": note.pk})


def _read(note):
    return reverse("api-notification-read", kwargs={"pk": note.pk})


@pytest.fixture
def notes(org):
    own = [
        notify(recipients=[org["east_staff"]], verb="t", title=title, url="/", email=False)[0]
        for title in ("投诉超期提醒", "新的查阅申请")
    ]
    other = notify(recipients=[org["south_staff"]], verb="t", title="他人的通知", email=False)[0]
    return own, other


def test_list_is_the_readers_own_and_filters_unread(org, notes):
    own, other = notes
    api = org.api("east_staff")
    data = api.get(LIST).json()
    assert data["count"] == 2 and {r["id"] for r in data["results"]} == {n.pk for n in own}
    assert all(r["unread"] and r["read_at"] is None for r in data["results"])
    assert other.pk not in {r["id"] for r in data["results"]}
    assert api.post(_read(own[0])).status_code == 200
    unread = api.get(LIST, {"unread": "true"}).json()
    assert [r["id"] for r in unread["results"]] == [own[1].pk]
    read = api.get(LIST, {"unread": "false"}).json()
    assert [r["id"] for r in read["results"]] == [own[0].pk]


def test_detail_of_someone_elses_is_not_found(org, notes):
    own, other = notes
    api = org.api("east_staff")
    response = api.get(_detail(own[0]))
    assert response.status_code == 200 and response.json()["title"] == "投诉超期提醒"
    assert api.get(_detail(other)).status_code == 404


def test_read_marks_one_read_and_keeps_the_first_time(org, notes):
    own, other = notes
    api = org.api("east_staff")
    response = api.post(_read(own[0]))
    assert response.status_code == 200
    assert response.json()["unread"] is False and response.json()["read_at"]
    own[0].refresh_from_db()
    first = own[0].read_at
    assert first is not None
    assert api.post(_read(own[0])).status_code == 200
    own[0].refresh_from_db()
    assert own[0].read_at == first
    own[1].refresh_from_db()
    assert own[1].read_at is None


def test_read_of_someone_elses_is_not_found_and_changes_nothing(org, notes):
    _own, other = notes
    assert org.api("east_staff").post(_read(other)).status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_read_all_marks_the_readers_own_only(org, notes):
    own, other = notes
    response = org.api("east_staff").post(READ_ALL)
    assert response.status_code == 200 and response.json() == {"read": 2}
    assert not Notification.objects.filter(pk__in=[n.pk for n in own], read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None
    assert org.api("east_staff").post(READ_ALL).json() == {"read": 0}


def test_page_and_api_mark_read_alike(org, notes):
    """The page's read-all and opening a notification go through the same services."""
    own, other = notes
    web = org.web("south_staff")
    assert web.post(reverse("notification-read-all")).status_code == 302
    other.refresh_from_db()
    assert other.read_at is not None
    assert org.web("east_staff").get(reverse("notification-open", args=[own[0].pk])).status_code == 302
    assert org.api("east_staff").get(LIST, {"unread": "true"}).json()["count"] == 1


def test_anonymous_and_no_role(org, notes):
    own, _other = notes
    for url in (LIST, READ_ALL):
        assert org.api(None).get(url).status_code == 401
    assert org.api(None).post(READ_ALL).status_code == 401
    notify(recipients=[org["norole"]], verb="t", title="x", email=False)
    api = org.api("norole")
    assert api.get(LIST).status_code == 403
    assert api.post(READ_ALL).status_code == 403
    assert api.post(_read(own[0])).status_code == 403
    assert Notification.objects.filter(recipient=org["norole"], read_at__isnull=True).count() == 1


def test_bad_filter_is_400_with_a_message(org, notes):
    response = org.api("east_staff").get(LIST, {"unread": "maybe"})
    assert response.status_code == 400 and response.json()["unread"]


def test_the_collection_takes_no_post(org):
    assert org.api("east_staff").post(LIST, {}, format="json").status_code == 405


def test_schema_documents_the_answers(org):
    paths = org.api("east_staff").get("/api/schema/", {"format": "json"}).json()["paths"]
    read = paths["/api/notifications/{id}/read/"]["post"]
    assert {"200", "403", "404"} <= read["responses"].keys()
    assert {"200", "400", "403"} <= paths["/api/notifications/read-all/"]["post"]["responses"].keys()
    assert "post" not in paths["/api/notifications/"]


def test_list_query_budget(org, notes, django_assert_max_num_queries):
    for i in range(5):
        notify(recipients=[org["east_staff"]], verb="t", title=f"n{i}", email=False)
    api = org.api("east_staff")
    with django_assert_max_num_queries(4):
        response = api.get(LIST)
    assert response.json()["count"] == 7
