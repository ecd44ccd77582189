"""The personal link (R22): no login, once, expiry, tampering, rate limit, and nothing of the
archive shown beyond the group's name and the questions. Page and endpoint."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from surveys import services
from surveys.models import Answer, FollowUp, Survey
from tests.surveys.conftest import scores_for

ROUTES_COVERED = ["surveys:answer", "survey-public-answer"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(org, east_client, standard):
    survey = services.survey_create(
        by=org["east_staff"], client=east_client, template=standard, project=east_client.projects.get()
    )
    survey, url = services.survey_send(survey=survey, by=org["east_staff"])
    return survey, url.rstrip("/").rsplit("/", 1)[1]


def _form(scores, **extra):
    data = {f"q{k}": v for k, v in scores.items()}
    data.update(extra)
    return data


def test_page_needs_no_login_and_shows_nothing_of_the_archive(org, sent, east_client):
    survey, token = sent
    response = org.web(None).get(reverse("surveys:answer", kwargs={"token": token}))
    assert response.status_code == 200
    html = response.content.decode()
    assert settings.CRM_GROUP_NAME in html
    assert "工程质量符合国家及行业相关标准" in html
    for secret in (
        east_client.name,
        east_client.credit_code,
        east_client.projects.get().name,
        "华东",
        "李娜",
        east_client.address,
    ):
        assert secret not in html, secret
    assert 'href="/clients' not in html and "/accounts/" not in html


def test_page_in_english(org, sent):
    _, token = sent
    html = org.web(None).get(reverse("surveys:answer", kwargs={"token": token}) + "?lang=en").content.decode()
    assert "The works meet the applicable standards" in html


def test_answer_through_the_page_then_used(org, sent, standard):
    survey, token = sent
    url = reverse("surveys:answer", kwargs={"token": token})
    data = _form(scores_for(standard, low=(0, 2)), respondent="王经理", comment="现场维修响应慢")
    response = org.web(None).post(url, data)
    assert response.status_code == 200 and "感谢您的宝贵意见" in response.content.decode()
    survey.refresh_from_db()
    assert survey.status == Survey.Status.ANSWERED and survey.unsatisfied_count == 2
    assert FollowUp.objects.filter(survey=survey).exists()
    again = org.web(None).post(url, _form(scores_for(standard, default=1)))
    assert again.status_code in (404, 410)
    assert "已提交" in again.content.decode() or "链接无效" in again.content.decode()
    assert not Answer.objects.filter(survey=survey, score=1).exclude(unsatisfied=True).exists()
    assert Answer.objects.filter(survey=survey).count() == len(scores_for(standard))


def test_missing_answers_keep_what_was_typed(org, sent, standard):
    _, token = sent
    scores = scores_for(standard)
    first = next(iter(scores))
    scores.pop(first)
    response = org.web(None).post(
        reverse("surveys:answer", kwargs={"token": token}), _form(scores, comment="请保留这段意见")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "请保留这段意见" in html and "请为此项评分" in html
    assert not Answer.objects.exists()


def test_expired_link_gets_a_polite_page(org, sent, standard):
    survey, token = sent
    Survey.objects.filter(pk=survey.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    url = reverse("surveys:answer", kwargs={"token": token})
    response = org.web(None).get(url)
    assert response.status_code == 410 and "已过期" in response.content.decode()
    response = org.web(None).post(url, _form(scores_for(standard)))
    assert response.status_code == 410
    assert not Answer.objects.exists()


def test_tampered_link_gets_a_polite_page(org, sent, standard):
    _, token = sent
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, "x" + token, "nonsense"):
        response = org.web(None).post(
            reverse("surveys:answer", kwargs={"token": bad}), _form(scores_for(standard))
        )
        assert response.status_code == 404 and "链接无效" in response.content.decode()
    assert not Answer.objects.exists()


def test_page_is_rate_limited(org, sent):
    """A fixed one-minute window per address: the clock stands still here, so that the requests
    cannot straddle two windows (they did at 10:00:59), and the address is this test's own, so
    that no other test's requests in the same window (the cache is shared) count against it."""
    import uuid

    import time_machine
    from django.utils import timezone

    _, token = sent
    web = org.web(None)
    web.defaults["REMOTE_ADDR"] = "10.{}.{}.{}".format(*uuid.uuid4().bytes[:3])
    url = reverse("surveys:answer", kwargs={"token": "guess"})
    with time_machine.travel(timezone.now().replace(second=1), tick=False):
        codes = [web.get(url).status_code for _ in range(35)]
        assert codes[0] == 404 and codes[-1] == 429
        assert web.get(reverse("surveys:answer", kwargs={"token": token})).status_code == 429


def test_endpoint_get_and_post(org, sent, standard):
    survey, token = sent
    api = org.api(None)
    url = reverse("survey-public-answer", kwargs={"token": token})
    data = api.get(url).json()
    assert data["group"] == settings.CRM_GROUP_NAME
    assert len(data["questions"]) == len(scores_for(standard))
    assert "client" not in data and survey.client.name not in str(data)
    scores = {str(k): v for k, v in scores_for(standard, low=(1,)).items()}
    assert api.post(url, {"scores": scores, "respondent": "王经理"}, format="json").status_code == 201
    assert api.post(url, {"scores": scores}, format="json").status_code in (404, 410)
    survey.refresh_from_db()
    assert survey.unsatisfied_count == 1


def test_endpoint_bad_scores_400_nothing_saved(org, sent):
    _, token = sent
    url = reverse("survey-public-answer", kwargs={"token": token})
    response = org.api(None).post(url, {"scores": {"999999": 3}}, format="json")
    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_endpoint_tampered_and_throttled(org, sent):
    _, token = sent
    api = org.api(None)
    assert api.get(reverse("survey-public-answer", kwargs={"token": token + "x"})).status_code == 404
    codes = [
        api.get(reverse("survey-public-answer", kwargs={"token": "guess"})).status_code for _ in range(32)
    ]
    assert 429 in codes
