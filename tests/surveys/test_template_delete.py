"""Found by the fuzz run: DELETE of a survey template that surveys were sent on (or that has
its dimensions) raised ProtectedError, a 500. It answers 409 and keeps the template."""

import pytest

from surveys import services
from surveys.models import SurveyTemplate
from tests.surveys.conftest import make_client

pytestmark = pytest.mark.django_db


def test_a_template_in_use_is_kept_with_a_409(org, standard):
    services.survey_create(by=org["east_staff"], client=make_client(org), template=standard)
    response = org.api("marketing").delete(f"/api/survey-templates/{standard.pk}/")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("该记录仍被其他记录引用")
    assert SurveyTemplate.objects.filter(pk=standard.pk).exists()


def test_an_unused_template_is_deleted(org):
    empty = SurveyTemplate.objects.create(code="draft-x", name="草稿模板")
    response = org.api("marketing").delete(f"/api/survey-templates/{empty.pk}/")
    assert response.status_code == 204
    assert not SurveyTemplate.objects.filter(pk=empty.pk).exists()
