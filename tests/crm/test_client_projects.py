"""On the complaint and survey forms the project choices follow the chosen client (R14, R20):
with the client known only its projects are offered and valid, a project of another client is
refused by the server, and the page narrows the list as the client changes
(static/js/client-projects.js, no inline script)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.forms import ComplaintForm
from complaints.models import Complaint
from surveys.forms import SurveyCreateForm
from surveys.models import Survey, SurveyTemplate
from tests.clients.factories import ClientFactory, ProjectFactory


@pytest.fixture
def two_clients(org):
    def make(name, project):
        client = ClientFactory(name=name, branch=org.branches["east"], owner=org["east_staff"])
        return client, ProjectFactory(client=client, name=project)

    return make("上海申通置业有限公司", "申通广场项目"), make("上海浦江建设发展有限公司", "浦江新城项目")


def _complaint_data(client, project):
    return {
        "client": client.pk,
        "project": project.pk,
        "kind": "direct",
        "channel": "phone",
        "category": "engineering_quality",
        "severity": "normal",
        "motive": "unknown",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "title": "外墙渗水",
        "content": "业主反映外墙渗水。",
    }


@pytest.mark.parametrize("form_class", [ComplaintForm, SurveyCreateForm])
def test_project_choices_follow_the_client(org, two_clients, form_class):
    (a, pa), (b, pb) = two_clients
    user = org["east_staff"]
    unbound = form_class(user=user)
    assert {pa, pb} <= set(unbound.fields["project"].queryset)  # no client yet: the page narrows
    chosen = form_class(user=user, initial={"client": a.pk})
    assert set(chosen.fields["project"].queryset) == {pa}
    html = str(form_class(user=user)["project"])
    assert f'data-client="{a.pk}"' in html and f'data-client="{b.pk}"' in html
    assert 'data-projects-of="id_client"' in html


def test_complaint_with_another_clients_project_is_refused(org, two_clients):
    (a, pa), (b, pb) = two_clients
    form = ComplaintForm(_complaint_data(a, pb), user=org["east_staff"])
    assert not form.is_valid() and "project" in form.errors
    web = org.web("east_staff")
    response = web.post(reverse("complaints:complaint-create"), _complaint_data(a, pb))
    assert response.status_code == 200 and "project" in response.context["form"].errors
    assert not Complaint.objects.exists()
    response = web.post(reverse("complaints:complaint-create"), _complaint_data(a, pa))
    assert response.status_code == 302 and Complaint.objects.get().project == pa


def test_survey_with_another_clients_project_is_refused(org, two_clients):
    (a, pa), (b, pb) = two_clients
    template = SurveyTemplate.objects.get(code="standard")
    response = org.web("east_staff").post(
        reverse("surveys:survey-create"), {"client": a.pk, "project": pb.pk, "template": template.pk}
    )
    assert response.status_code == 200 and "project" in response.context["form"].errors
    assert not Survey.objects.exists()


@pytest.mark.parametrize("route", ["complaints:complaint-create", "surveys:survey-create"])
def test_pages_load_the_script_and_mark_the_options(org, two_clients, route):
    (a, pa), _b = two_clients
    html = org.web("east_staff").get(reverse(route)).content.decode()
    assert "js/client-projects.js" in html and f'data-client="{a.pk}"' in html
    html = org.web("east_staff").get(reverse(route), {"client": a.pk}).content.decode()
    assert "申通广场项目" in html and "浦江新城项目" not in html
