"""R48, R49: the client's evaluation of how a need was handled (seed 003, 需求反馈: «收集客户对需求
处理结果的评价和意见»), recorded by staff or through a personal no-login link, and the figure
需求处理满意度 (seed 003's third monitoring indicator: «客户满意度:... 客户对需求处理结果的满意度
评价»). Service, pages, API, public link (once, expiry, tampering, another use's token) and
the figure followed to its list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from clients import services
from clients.models import Need
from clients.needcare import services as care
from crm import figures as fig
from crm.models import Notification
from crm.public_links import LinkError, new_token

from .archive_helpers import make_need

pytestmark = pytest.mark.django_db

ROUTES_COVERED = ["clients:need-rating", "need-public-rating"]


def done_need(org, branch_code="east", **kwargs) -> Need:
    need = make_need(org, branch_code, **kwargs)
    return services.need_close(need=need, by=org[f"{branch_code}_staff"], done=True, note="已按要求调整方案")


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


# -- the service ------------------------------------------------------------------------------


def test_staff_record_the_rating_once_with_its_history(org):
    """R48: a done need is rated once (满意 / 基本满意 / 不满意, with the client's comment); the
    step is in the need's history; a second rating is refused and changes nothing."""
    need = done_need(org)
    care.need_rate(
        need=need,
        by=org["east_staff"],
        rating="basically_satisfied",
        comment="答复晚了一天",
        respondent="王经理",
    )
    need.refresh_from_db()
    assert (need.rating, need.rating_comment, need.rating_respondent) == (
        "basically_satisfied",
        "答复晚了一天",
        "王经理",
    )
    assert need.rating_channel == "staff" and need.rated_by == org["east_staff"] and need.rated_at
    last = need.history.order_by("-history_id").first()
    assert (
        last.history_change_reason == "客户评价处理结果:基本满意" and last.history_user == org["east_staff"]
    )
    with pytest.raises(ValidationError, match="不能重复评价"):
        care.need_rate(need=need, by=org["east_manager"], rating="unsatisfied")
    need.refresh_from_db()
    assert need.rating == "basically_satisfied"


@pytest.mark.parametrize("status", ["received", "in_progress", "rejected"])
def test_only_a_done_need_is_rated(org, status):
    """R48: a need not done (open, or rejected) has no handling result to rate."""
    need = make_need(org)
    if status == "in_progress":
        services.need_respond(need=need, by=org["east_staff"], status=Need.Status.IN_PROGRESS)
    elif status == "rejected":
        services.need_close(need=need, by=org["east_staff"], done=False)
    with pytest.raises(ValidationError, match="处理完成后"):
        care.need_rate(need=need, by=org["east_staff"], rating="satisfied")
    with pytest.raises(ValidationError):
        care.need_rating_link(need=need, by=org["east_staff"])
    need.refresh_from_db()
    assert need.rating == "" and need.rating_token_hash == ""


def test_a_bad_rating_is_refused_and_nothing_saved(org):
    need = done_need(org)
    version = need.version
    with pytest.raises(ValidationError) as err:
        care.need_rate(need=need, by=org["east_staff"], rating="great")
    assert "rating" in err.value.message_dict
    need.refresh_from_db()
    assert need.version == version and need.rating == ""


def test_readers_and_other_branches_cannot_rate(org):
    need = done_need(org)
    with pytest.raises(PermissionDenied):
        care.need_rate(need=need, by=org["leader"], rating="satisfied")
    from django.http import Http404

    with pytest.raises(Http404):
        care.need_rate(need=need, by=org["south_staff"], rating="satisfied")
    need.refresh_from_db()
    assert need.rating == ""


def test_unsatisfied_tells_the_owner_and_the_managers(org):
    """R48: 不满意 reaches the need's owner and the branch's managers at once (seed 003, 问题处理)."""
    need = done_need(org)
    care.need_rate(need=need, by=org["east_staff"], rating="unsatisfied", comment="整改反复")
    told = set(
        Notification.objects.filter(verb="need_unsatisfied").values_list("recipient__username", flat=True)
    )
    assert {"east_manager", need.owner.username} <= told
    assert "south_manager" not in told


# -- the personal link ------------------------------------------------------------------------


def test_link_rates_once_without_login_and_shows_nothing_else(org):
    """R48 (the survey link's mechanism, R22): no login; the page shows the need as the client
    stated it and nothing of the archive; a rating through it is recorded as the client's, and
    the link is then used."""
    need = done_need(org)
    _need, url = care.need_rating_link(need=need, by=org["east_staff"])
    assert (
        len(Need.objects.get(pk=need.pk).rating_token_hash) == 64
        and token_of(url) not in need.rating_token_hash
    )
    page = reverse("clients:need-rating", kwargs={"token": token_of(url)})
    assert url.endswith(page)
    web = org.web(None)
    html = web.get(page).content.decode()
    assert need.description in html
    for secret in (need.client.name, need.client.branch.name, need.owner.full_name):
        assert secret not in html, secret
    response = web.post(page, {"rating": "satisfied", "comment": "响应很快", "respondent": "陈工"})
    assert response.status_code == 200 and "感谢您的评价" in response.content.decode()
    need.refresh_from_db()
    assert (need.rating, need.rating_channel, need.rated_by, need.rating_comment) == (
        "satisfied",
        "link",
        None,
        "响应很快",
    )
    again = web.post(page, {"rating": "unsatisfied"})
    assert again.status_code == 410 and "已评价过" in again.content.decode()
    need.refresh_from_db()
    assert need.rating == "satisfied"


def test_link_missing_choice_keeps_what_was_typed(org):
    need = done_need(org)
    _need, url = care.need_rating_link(need=need, by=org["east_staff"])
    page = reverse("clients:need-rating", kwargs={"token": token_of(url)})
    response = org.web(None).post(page, {"comment": "请保留这段意见"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "请保留这段意见" in html and "请选择评价" in html
    assert Need.objects.get(pk=need.pk).rating == ""


def test_link_expires(org):
    need = done_need(org)
    _need, url = care.need_rating_link(need=need, by=org["east_staff"], days=3)
    Need.objects.filter(pk=need.pk).update(rating_link_expires_at=timezone.now() - dt.timedelta(minutes=1))
    page = reverse("clients:need-rating", kwargs={"token": token_of(url)})
    assert org.web(None).get(page).status_code == 410
    assert org.web(None).post(page, {"rating": "satisfied"}).status_code == 410
    with pytest.raises(LinkError) as err:
        care.need_rate_public(token=token_of(url), rating="satisfied")
    assert err.value.reason == "expired"
    assert Need.objects.get(pk=need.pk).rating == ""


def test_link_days_are_bounded(org):
    need = done_need(org)
    for days in (0, 91):
        with pytest.raises(ValidationError):
            care.need_rating_link(need=need, by=org["east_staff"], days=days)
    assert Need.objects.get(pk=need.pk).rating_token_hash == ""


def test_tampered_guessed_and_other_uses_tokens_open_nothing(org):
    """A tampered token, a guess, and a survey link's token (another salt) are all invalid."""
    need = done_need(org)
    _need, url = care.need_rating_link(need=need, by=org["east_staff"])
    token = token_of(url)
    survey_token, _hash = new_token("surveys.answer-link")
    for bad in (
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "x" + token,
        "nonsense",
        survey_token,
    ):
        response = org.web(None).post(
            reverse("clients:need-rating", kwargs={"token": bad}), {"rating": "unsatisfied"}
        )
        assert response.status_code == 404 and "链接无效" in response.content.decode()
    assert Need.objects.get(pk=need.pk).rating == ""


def test_a_new_link_replaces_the_old_one(org):
    need = done_need(org)
    _need, first = care.need_rating_link(need=need, by=org["east_staff"])
    _need, second = care.need_rating_link(need=need, by=org["east_staff"])
    with pytest.raises(LinkError) as err:
        care.need_rate_public(token=token_of(first), rating="satisfied")
    assert err.value.reason == "invalid"
    care.need_rate_public(token=token_of(second), rating="satisfied")
    assert Need.objects.get(pk=need.pk).rating == "satisfied"


def test_staff_rating_spends_the_link(org):
    need = done_need(org)
    _need, url = care.need_rating_link(need=need, by=org["east_staff"])
    care.need_rate(need=need, by=org["east_staff"], rating="satisfied")
    with pytest.raises(LinkError) as err:
        care.need_for_rating_token(token_of(url))
    assert err.value.reason == "used"


# -- the pages --------------------------------------------------------------------------------


def test_need_page_records_a_rating_and_issues_the_link_once(org):
    need = done_need(org)
    web = org.web("east_staff")
    detail = reverse("clients:need-detail", kwargs={"pk": need.pk})
    html = web.get(detail).content.decode()
    assert 'data-testid="rate-form"' in html and 'data-testid="issue-link"' in html
    web.post(reverse("clients:need-rating-link", kwargs={"pk": need.pk}), {"days": 7})
    shown = web.get(detail).content.decode()
    assert 'data-testid="rating-link"' in shown and "/clients/needs/rate/" in shown
    assert 'data-testid="rating-link"' not in web.get(detail).content.decode()  # shown once
    bad = web.post(reverse("clients:need-rate", kwargs={"pk": need.pk}), {"rating": "wow"}, follow=True)
    assert bad.status_code == 200 and "请选择评价" in bad.content.decode()
    web.post(
        reverse("clients:need-rate", kwargs={"pk": need.pk}), {"rating": "unsatisfied", "comment": "整改反复"}
    )
    html = web.get(detail).content.decode()
    assert 'data-testid="need-rating"' in html and "不满意" in html and "整改反复" in html
    assert 'data-testid="rate-form"' not in html


def test_need_page_scope(org):
    need = done_need(org)
    detail = reverse("clients:need-detail", kwargs={"pk": need.pk})
    rate = reverse("clients:need-rate", kwargs={"pk": need.pk})
    link = reverse("clients:need-rating-link", kwargs={"pk": need.pk})
    assert org.web("leader").get(detail).status_code == 200
    assert 'data-testid="rate-form"' not in org.web("leader").get(detail).content.decode()
    assert org.web("leader").post(rate, {"rating": "satisfied"}).status_code == 403
    assert org.web("south_staff").post(rate, {"rating": "satisfied"}).status_code == 404
    assert org.web("south_staff").post(link, {"days": 5}).status_code == 404
    assert org.web("norole").post(link, {"days": 5}).status_code == 403
    assert org.web("east_staff").get(rate).status_code == 405
    assert Need.objects.get(pk=need.pk).rating == "" and Need.objects.get(pk=need.pk).rating_token_hash == ""


# -- the API ----------------------------------------------------------------------------------


def test_api_rate_answers_the_need_with_its_version(org):
    need = done_need(org)
    api = org.api("east_staff")
    url = reverse("need-rate", kwargs={"pk": need.pk})
    assert api.post(url, {"rating": "meh"}, format="json").status_code == 400
    response = api.post(url, {"rating": "satisfied", "comment": "好"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["rating"] == "satisfied" and body["rating_channel"] == "staff"
    assert (
        response["ETag"] == f'W/"{body["version"]}"'
        and body["version"] == Need.objects.get(pk=need.pk).version
    )
    again = api.post(url, {"rating": "unsatisfied"}, format="json")
    assert again.status_code in (400, 409) and Need.objects.get(pk=need.pk).rating == "satisfied"


def test_api_rating_link_and_the_public_endpoint(org):
    need = done_need(org)
    response = org.api("east_staff").post(
        reverse("need-rating-link", kwargs={"pk": need.pk}), {"days": 10}, format="json"
    )
    assert response.status_code == 200
    token = token_of(response.json()["rating_url"])
    public = org.api(None)
    url = reverse("need-public-rating", kwargs={"token": token})
    data = public.get(url).json()
    assert data["description"] == need.description and set(data["ratings"]) == set(Need.Rating.values)
    assert need.client.name not in str(data)
    assert public.post(url, {"rating": "nope"}, format="json").status_code == 400
    assert (
        public.post(url, {"rating": "basically_satisfied", "comment": "还可以"}, format="json").status_code
        == 201
    )
    assert public.post(url, {"rating": "satisfied"}, format="json").status_code == 410
    assert public.get(reverse("need-public-rating", kwargs={"token": token + "x"})).status_code == 404
    assert Need.objects.get(pk=need.pk).rating == "basically_satisfied"


def test_api_steps_scope(org):
    need = done_need(org)
    for name in ("need-rate", "need-rating-link"):
        url = reverse(name, kwargs={"pk": need.pk})
        assert org.api(None).post(url, {"rating": "satisfied"}, format="json").status_code == 401
        assert org.api("norole").post(url, {"rating": "satisfied"}, format="json").status_code == 403
        assert org.api("south_staff").post(url, {"rating": "satisfied"}, format="json").status_code == 404
        assert org.api("leader").post(url, {"rating": "satisfied"}, format="json").status_code == 403
    need.refresh_from_db()
    assert need.rating == "" and need.rating_token_hash == ""


# -- the figure (R49) -------------------------------------------------------------------------


def test_the_figure_moves_with_a_rating_and_equals_its_list(org):
    """R49: 需求处理满意度 = needs rated 满意 or 基本满意 ÷ needs rated, in the period of the rating;
    each count is its list, read through restrict()."""
    first, second, third = done_need(org), done_need(org), done_need(org, "south")
    window = fig.Period.containing(timezone.now()).window()
    keys = ("needs_rated", "needs_rated_satisfied", "needs_rating_satisfaction")
    before = fig.evaluate(org["marketing"], window, only=keys)
    assert before.values["needs_rated"] == 0 and before.values["needs_rating_satisfaction"] is None
    care.need_rate(need=first, by=org["east_staff"], rating="basically_satisfied")
    care.need_rate(need=second, by=org["east_staff"], rating="unsatisfied")
    _n, url = care.need_rating_link(need=third, by=org["south_staff"])
    care.need_rate_public(token=token_of(url), rating="satisfied")
    group = fig.evaluate(org["marketing"], window, only=keys)
    assert group.values["needs_rated"] == 3 == len(group.lists["needs_rated"])
    assert group.values["needs_rated_satisfied"] == 2
    assert {row["id"] for row in group.lists["needs_rated_satisfied"]} == {first.pk, third.pk}
    assert group.values["needs_rating_satisfaction"] == round(2 / 3, 4)
    assert group.breakdowns["needs_rated"]["rating"] == {
        "basically_satisfied": 1,
        "unsatisfied": 1,
        "satisfied": 1,
    }
    east = fig.evaluate(org["east_manager"], window, only=keys)
    assert east.values["needs_rated"] == 2 and east.values["needs_rating_satisfaction"] == 0.5
    assert all(row["url"].startswith("/clients/needs/") for row in east.lists["needs_rated"])


def test_the_dashboard_shows_the_figure(org):
    """R49 in the dashboards (R35): the figure and its rate, as every registered figure."""
    need = done_need(org)
    care.need_rate(need=need, by=org["east_staff"], rating="satisfied")
    from django.core.cache import cache

    cache.clear()
    data = org.api("east_manager").get("/api/dashboard/").json()
    figures = {f["key"]: f["value"] for f in data["figures"]}
    rates = {r["key"]: r["value"] for r in data["rates"]}
    assert figures["needs_rated"] == 1 and figures["needs_rated_satisfied"] == 1
    assert rates["needs_rating_satisfaction"] == 1.0
