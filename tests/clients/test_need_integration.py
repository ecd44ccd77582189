"""R51-R53: the integration of a client's needs (seed 003, 需求整合: «对收集到的客户需求进行汇总和
梳理,去除重复和矛盾的需求»): a duplicate merged into the need that survives it (both histories
kept; the merged one leaves every need figure, and each figure stays its list), contradictions
marked with a note, and the list of likely duplicates per client (the same in Python on
PostgreSQL and SQLite)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from clients import services
from clients.models import Need, NeedConflict
from clients.needcare import services as care
from crm import figures as fig

from .archive_helpers import make_client, make_need

pytestmark = pytest.mark.django_db

ROUTES_COVERED = [
    "clients:need-merge",
    "clients:need-conflict",
    "clients:need-duplicates",
    "need-merge",
    "need-mark-conflict",
    "need-similar",
    "need-conflict-list",
    "need-conflict-detail",
]

TEXT = "希望提供BIM深化设计服务,并在施工前完成管线综合"


def pair(org, branch="east", **kwargs):
    client = make_client(org, branch)
    first = make_need(org, branch, client=client, description=TEXT, **kwargs)
    second = make_need(org, branch, client=client, description=TEXT + "(再次提出)", **kwargs)
    return first, second


def test_merge_closes_the_duplicate_and_keeps_both_histories(org):
    """R51: one survives, the other is closed as merged and points to it; both keep the step."""
    keep, dup = pair(org)
    care.need_merge(duplicate=dup, into=keep, by=org["east_staff"], note="同一需求重复登记")
    dup.refresh_from_db()
    keep.refresh_from_db()
    assert (
        dup.status == "merged"
        and dup.merged_into == keep
        and dup.merged_by == org["east_staff"]
        and dup.closed_at
    )
    assert keep.status == "received" and keep.merged_into is None
    assert (
        dup.history.order_by("-history_id").first().history_change_reason
        == f"作为重复需求合并至需求#{keep.pk}:同一需求重复登记"
    )
    assert (
        keep.history.order_by("-history_id").first().history_change_reason
        == f"合并重复需求#{dup.pk}:同一需求重复登记"
    )
    assert dup.history.count() >= 2 and keep.history.count() >= 2
    assert not dup.is_overdue


def test_merge_refusals_change_nothing(org):
    keep, dup = pair(org)
    other_client = make_need(org)
    with pytest.raises(ValidationError, match="同一客户"):
        care.need_merge(duplicate=dup, into=other_client, by=org["east_staff"])
    with pytest.raises(ValidationError, match="其自身"):
        care.need_merge(duplicate=dup, into=dup, by=org["east_staff"])
    services.need_close(need=dup, by=org["east_staff"], done=True)
    with pytest.raises(ValidationError, match="未关闭"):
        care.need_merge(duplicate=Need.objects.get(pk=dup.pk), into=keep, by=org["east_staff"])
    with pytest.raises(Http404):
        care.need_merge(duplicate=keep, into=dup, by=org["south_staff"])
    assert Need.objects.get(pk=keep.pk).status == "received"
    assert not Need.objects.filter(status="merged").exists()


def test_no_chains_and_no_merge_into_a_merged_need(org):
    client = make_client(org)
    a, b, c = (make_need(org, client=client, description=TEXT) for _ in range(3))
    care.need_merge(duplicate=b, into=a, by=org["east_staff"])
    with pytest.raises(ValidationError, match="已合并"):
        care.need_merge(duplicate=c, into=Need.objects.get(pk=b.pk), by=org["east_staff"])
    care.need_merge(duplicate=Need.objects.get(pk=a.pk), into=c, by=org["east_staff"])
    assert Need.objects.get(pk=b.pk).merged_into_id == c.pk  # re-pointed to the survivor
    assert Need.objects.get(pk=a.pk).merged_into_id == c.pk


def test_merged_needs_leave_every_need_figure_and_figures_stay_their_lists(org):
    """R51 with R12: the duplicate counts in no need figure; each figure is its list."""
    keep, dup = pair(org)
    window = fig.Period.containing(timezone.now()).window()
    keys = ("needs_received", "needs_due", "needs_on_time", "needs_done")
    before = fig.evaluate(org["east_manager"], window, only=keys)
    care.need_merge(duplicate=dup, into=keep, by=org["east_staff"])
    after = fig.evaluate(org["east_manager"], window, only=keys)
    assert after.values["needs_received"] == before.values["needs_received"] - 1
    for key in keys:
        assert after.values[key] == len(after.lists[key])
        assert dup.pk not in {row["id"] for row in after.lists[key]}
    rates = {
        r["branch_id"]: r
        for r in __import__("clients.selectors", fromlist=["x"]).need_rates(org["east_manager"])
    }
    assert (
        sum(r["total"] for r in rates.values())
        == Need.objects.exclude(status="merged").filter(client__branch__code="east").count()
    )


def test_merged_needs_leave_the_open_need_lists(org):
    keep, dup = pair(org)
    care.need_merge(duplicate=dup, into=keep, by=org["east_staff"])
    from clients.selectors import needs_due

    assert dup.pk not in set(
        needs_due(org["east_staff"], within=__import__("datetime").timedelta(days=400)).values_list(
            "pk", flat=True
        )
    )


def test_contradictions_are_marked_once_with_a_note(org):
    """R52: a link between two needs of one client with a note; both histories keep it."""
    a, b = pair(org)
    with pytest.raises(ValidationError):
        care.need_mark_conflict(need=a, other=b, by=org["east_staff"], note=" ")
    conflict = care.need_mark_conflict(need=b, other=a, by=org["east_staff"], note="工期与造价要求冲突")
    assert (conflict.first_id, conflict.second_id) == (a.pk, b.pk)
    with pytest.raises(ValidationError, match="已标记"):
        care.need_mark_conflict(need=a, other=b, by=org["east_manager"], note="再次")
    with pytest.raises(ValidationError, match="同一客户"):
        care.need_mark_conflict(need=a, other=make_need(org), by=org["east_staff"], note="x")
    assert NeedConflict.objects.count() == 1
    assert (
        a.history.order_by("-history_id").first().history_change_reason.startswith(f"标记与需求#{b.pk}矛盾")
    )


def test_likely_duplicates_per_client(org):
    """R53: same client, similar content, at least one open; not across clients; a pair marked
    contradictory is not a duplicate; a merged one leaves the list."""
    keep, dup = pair(org)
    make_need(org, description=TEXT)  # another client: not a pair
    make_need(org, client=keep.client, description="请提供竣工资料电子版")
    pairs = care.likely_duplicates(org["east_staff"])
    assert [(p["keep"]["pk"], p["duplicate"]["pk"]) for p in pairs] == [(keep.pk, dup.pk)]
    assert pairs[0]["similarity"] >= care.SIMILAR_RATIO
    assert care.likely_duplicates(org["south_staff"]) == []
    assert [n.pk for n, _r in care.similar_needs(org["east_staff"], keep)] == [dup.pk]
    care.need_merge(duplicate=dup, into=keep, by=org["east_staff"])
    assert care.likely_duplicates(org["east_staff"]) == []
    a, b = pair(org)
    care.need_mark_conflict(need=a, other=b, by=org["east_staff"], note="相互矛盾")
    assert care.likely_duplicates(org["east_staff"]) == []


def test_similarity_is_plain_python():
    assert care.similarity("BIM 深化设计服务", "BIM深化设计服务。") == 1.0
    assert care.similarity("请提供竣工资料", "希望降低设计费报价") < care.SIMILAR_RATIO


def test_pages_merge_and_mark(org):
    keep, dup = pair(org)
    web = org.web("east_staff")
    html = web.get(reverse("clients:need-detail", kwargs={"pk": dup.pk})).content.decode()
    assert 'data-testid="similar"' in html and 'data-testid="merge-form"' in html
    bad = web.post(reverse("clients:need-merge", kwargs={"pk": dup.pk}), {"into": "abc"}, follow=True)
    assert bad.status_code == 200 and Need.objects.get(pk=dup.pk).status == "received"
    response = web.post(
        reverse("clients:need-merge", kwargs={"pk": dup.pk}), {"into": keep.pk, "note": "重复"}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"/clients/needs/{keep.pk}/")
    assert 'data-testid="merged-needs"' in web.get(response["Location"]).content.decode()
    assert (
        'data-testid="merged-into"'
        in web.get(reverse("clients:need-detail", kwargs={"pk": dup.pk})).content.decode()
    )
    a, b = pair(org)
    web.post(reverse("clients:need-conflict", kwargs={"pk": a.pk}), {"other": b.pk, "note": "要求相反"})
    assert "要求相反" in web.get(reverse("clients:need-detail", kwargs={"pk": b.pk})).content.decode()
    listed = web.get(reverse("clients:need-duplicates"))
    assert listed.context["count"] == 0


def test_pages_scope(org):
    keep, dup = pair(org)
    for name, data in (
        ("clients:need-merge", {"into": keep.pk}),
        ("clients:need-conflict", {"other": keep.pk, "note": "x"}),
    ):
        url = reverse(name, kwargs={"pk": dup.pk})
        assert org.web("norole").post(url, data).status_code == 403
        assert org.web("south_staff").post(url, data).status_code == 404
        assert org.web("leader").post(url, data).status_code == 403
    assert Need.objects.get(pk=dup.pk).status == "received" and not NeedConflict.objects.exists()
    listing = reverse("clients:need-duplicates")
    assert org.web("norole").get(listing).status_code == 403
    assert org.web("south_staff").get(listing).context["count"] == 0
    assert org.web("east_staff").get(listing).context["count"] == 1
    assert org.web("east_staff").get(listing, {"client": keep.client_id}).context["count"] == 1
    for bad in ("abc", str(2**70), "-1"):
        assert org.web("east_staff").get(listing, {"branch": bad}).context["count"] == 0, bad
    assert (
        org.web("marketing")
        .get(listing, {"export": "xlsx"})["Content-Type"]
        .startswith("application/vnd.openxmlformats")
    )


def test_api_merge_mark_and_similar(org):
    keep, dup = pair(org)
    api = org.api("east_staff")
    similar = api.get(reverse("need-similar", kwargs={"pk": dup.pk})).json()
    assert similar["count"] == 1 and [row["id"] for row in similar["results"]] == [keep.pk]
    assert (
        api.post(reverse("need-merge", kwargs={"pk": dup.pk}), {"into": 999999}, format="json").status_code
        == 400
    )
    for who, code in (("norole", 403), ("south_staff", 404), ("leader", 403)):
        assert (
            org.api(who)
            .post(reverse("need-merge", kwargs={"pk": dup.pk}), {"into": keep.pk}, format="json")
            .status_code
            == code
        )
    merged = api.post(reverse("need-merge", kwargs={"pk": dup.pk}), {"into": keep.pk}, format="json")
    assert (
        merged.status_code == 200
        and merged.json()["status"] == "merged"
        and merged.json()["merged_into"] == keep.pk
    )
    again = api.post(reverse("need-merge", kwargs={"pk": dup.pk}), {"into": keep.pk}, format="json")
    assert again.status_code in (400, 409)
    a, b = pair(org)
    marked = api.post(
        reverse("need-mark-conflict", kwargs={"pk": a.pk}), {"other": b.pk, "note": "相反"}, format="json"
    )
    assert marked.status_code == 201 and marked.json()["first"] == a.pk
    assert (
        api.post(
            reverse("need-mark-conflict", kwargs={"pk": a.pk}), {"other": b.pk, "note": ""}, format="json"
        ).status_code
        == 400
    )
    listed = api.get(reverse("need-conflict-list"), {"need": b.pk}).json()
    assert listed["count"] == 1
    assert org.api("south_staff").get(reverse("need-conflict-list")).json()["count"] == 0
    assert (
        org.api("south_staff")
        .get(reverse("need-conflict-detail", kwargs={"pk": marked.json()["id"]}))
        .status_code
        == 404
    )
    assert api.get(reverse("need-conflict-list"), {"need": "x"}).status_code == 400
