"""Rankings (R29): the branches by their A, B and C clients as they stood at the end of the
quarter (read back from the grading trail, so a late run gives the same ranking), the change
since the previous ranking, once per period, and the job's catching up."""

import pytest
import time_machine

from assessments.models import Ranking
from assessments.monthly import services
from clients.figures import grades_as_of
from clients.services import client_set_grade
from crm.models import Notification

from .helpers import at, new_client

pytestmark = pytest.mark.django_db


def _grade(client, grade, who):
    return client_set_grade(client=client, grade=grade, by=who, reason="半年复评")


def test_grades_as_of_read_back_the_trail(org):
    with time_machine.travel(at("2026-08-01T10:00"), tick=False):
        a = new_client(org, "east")
        _grade(a, "A", org["marketing"])
    with time_machine.travel(at("2026-11-01T10:00"), tick=False):
        _grade(a, "B", org["marketing"])
        new_client(org, "east")  # after the quarter: not counted at 1 October
    east = org.branches["east"].pk
    assert grades_as_of(at("2026-10-01T00:00"))[east]["A"] == 1
    assert grades_as_of(at("2026-10-01T00:00"))[east]["B"] == 0
    now = grades_as_of(at("2026-12-01T00:00"))[east]
    assert now["A"] == 0 and now["B"] == 1 and sum(now.values()) == 2


def test_ranking_orders_by_a_then_b_and_shows_the_change(org, django_capture_on_commit_callbacks):
    with time_machine.travel(at("2026-05-01T10:00"), tick=False):
        s1 = new_client(org, "south")
        _grade(s1, "A", org["marketing"])
        new_client(org, "east")
    with django_capture_on_commit_callbacks(execute=True):
        q2, created = services.ranking_build(kind="quarter", label="2026Q2", as_of=at("2026-07-01T00:00"))
    assert created and q2.rows[0]["branch"] == str(org.branches["south"]) and q2.rows[0]["A"] == 1
    with time_machine.travel(at("2026-08-01T10:00"), tick=False):
        for _ in range(2):
            _grade(new_client(org, "east"), "A", org["marketing"])
    q3, _ = services.ranking_build(kind="quarter", label="2026Q3", as_of=at("2026-10-01T00:00"))
    east = next(r for r in q3.rows if r["branch"] == str(org.branches["east"]))
    assert east["rank"] == 1 and east["A"] == 2 and east["A_change"] == 2 and east["rank_change"] < 0
    assert [r["rank"] for r in q3.rows] == list(range(1, len(q3.rows) + 1))
    # Leaders and branch managers were told, once.
    assert Notification.objects.filter(key="ranking:quarter:2026Q2", recipient=org["leader"]).count() == 1
    assert (
        Notification.objects.filter(key="ranking:quarter:2026Q2", recipient=org["east_manager"]).count() == 1
    )


def test_the_job_catches_up_and_runs_once(org):
    with time_machine.travel(at("2027-01-01T07:00"), tick=False):
        made = services.rankings_catch_up()
        labels = {(r.kind, r.label) for r in made}
        assert ("quarter", "2026Q4") in labels and ("half", "2026H2") in labels and ("year", "2026") in labels
        assert services.rankings_catch_up() == []
    count = Ranking.objects.count()
    with time_machine.travel(at("2027-01-03T07:00"), tick=False):  # a late run: the same rankings
        assert services.rankings_catch_up() == []
    assert Ranking.objects.count() == count


def test_each_count_of_a_ranking_opens_its_clients_where_the_reader_may_see_them(org):
    from django.urls import reverse

    with time_machine.travel(at("2026-08-01T10:00"), tick=False):
        a = new_client(org, "east")
        _grade(a, "A", org["marketing"])
        new_client(org, "east")
    with time_machine.travel(at("2026-11-01T10:00"), tick=False):
        _grade(a, "B", org["marketing"])  # after the quarter: still A in the Q3 ranking
    ranking, _ = services.ranking_build(kind="quarter", label="2026Q3", as_of=at("2026-10-01T00:00"))
    east = org.branches["east"].pk
    url = reverse("assessments:ranking-clients", kwargs={"pk": ranking.pk})
    row = next(r for r in ranking.rows if r["branch_id"] == east)
    for who in ("marketing", "east_manager", "east_staff"):
        web = org.web(who)
        page = web.get(reverse("assessments:ranking-detail", kwargs={"pk": ranking.pk})).content.decode()
        assert f'data-figure="rank-{east}-A"' in page, who
        for grade in ("A", "B", "C", "all"):
            listed = web.get(url, {"branch": east, "grade": grade})
            assert listed.context["count"] == (row["total"] if grade == "all" else row[grade]), (who, grade)
        assert [c.pk for c in web.get(url, {"branch": east, "grade": "A"}).context["clients"]] == [a.pk]
    # Another branch's clients stay closed to a branch's people; a bad filter is a 404.
    south = org.branches["south"].pk
    page = org.web("east_staff").get(reverse("assessments:ranking-detail", kwargs={"pk": ranking.pk}))
    assert f'data-figure="rank-{south}-A"' not in page.content.decode()
    assert org.web("east_staff").get(url, {"branch": south, "grade": "A"}).status_code == 404
    assert org.web("marketing").get(url, {"branch": east, "grade": "D"}).status_code == 404
    assert org.web("norole").get(url, {"branch": east, "grade": "A"}).status_code == 403
    assert org.web(None).get(url, {"branch": east, "grade": "A"}).status_code == 302
