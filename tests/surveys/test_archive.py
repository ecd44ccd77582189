"""What the surveys add to the archive (R8, R25): the client page's tab, read in scope."""

import pytest
from django.urls import reverse

from tests.surveys.test_permissions import make_survey

pytestmark = pytest.mark.django_db


def test_client_page_shows_surveys_tab_with_satisfaction(org):
    survey = make_survey(org, "east", answered=True, low=(0, 1))
    url = reverse("clients:client-tab", kwargs={"pk": survey.client_id, "tab": "surveys"})
    html = org.web("east_staff").get(url).content.decode()
    assert 'data-testid="tab-surveys"' in html
    assert "近12个月1份问卷" in html  # the client's evaluation of us (R25)
    assert reverse("surveys:survey-detail", kwargs={"pk": survey.pk}) in html
    assert "待跟进不满意项" in html
    assert org.web("south_staff").get(url).status_code == 404


def test_home_shows_the_owners_open_follow_ups(org):
    survey = make_survey(org, "east", answered=True, low=(0,))
    html = org.web("east_staff").get("/").content.decode()
    assert "满意度调查不满意项待跟进" in html and survey.client.name in html
    assert survey.client.name not in org.web("south_staff").get("/").content.decode()
