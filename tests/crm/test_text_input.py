"""Text input rules shared by the model fields (crm/fields.py): a name made only of blank,
control or invisible characters is refused with a field error, and long free text has a stated
maximum, in full_clean, the page forms and the API alike."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients.forms import ClientForm
from clients.models import Client, Contact, Need
from complaints.models import Complaint
from crm.validators import validate_visible_text
from tests.clients.factories import ClientFactory, ContactFactory, make_credit_code

pytestmark = pytest.mark.django_db

INVISIBLE = ["\u200b\u200b", "\t", "\u3000\u3000", "\u202e", "\u200d\ufeff", " \u00a0", "\u3164", "\x01"]


@pytest.mark.parametrize("value", INVISIBLE)
def test_invisible_names_refused(value):
    with pytest.raises(ValidationError) as info:
        validate_visible_text(value)
    assert info.value.code == "invisible"


@pytest.mark.parametrize("value", ["上海建工", "A", "\u200b上海", "(空)", "1"])
def test_visible_names_pass(value):
    validate_visible_text(value)


def make_client(org, **kw):
    return ClientFactory(branch=org.branches["east"], owner=org["east_staff"], **kw)


@pytest.mark.parametrize("value", INVISIBLE)
def test_full_clean_refuses_invisible_names(org, value):
    client = make_client(org)
    client.name = value
    with pytest.raises(ValidationError) as info:
        client.full_clean()
    assert "name" in info.value.message_dict
    contact = ContactFactory(client=client)
    contact.name = value
    with pytest.raises(ValidationError) as info:
        contact.full_clean(exclude=["client"])
    assert "name" in info.value.message_dict
    complaint_field = Complaint._meta.get_field("title")
    with pytest.raises(ValidationError):
        complaint_field.clean(value, None)


def test_client_page_form_shows_the_error(org):
    data = {
        "name": "\u200b\u200b",
        "credit_code": make_credit_code(777),
        "org_type": "state_owned",
        "address": "上海",
        "branch": org.branches["east"].pk,
        "stage": "potential",
        "social_value": "high",
    }
    response = org.web("east_staff").post(reverse("clients:client-create"), data)
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert "不可见字符" in response.content.decode()
    assert not Client.objects.exists()


def test_api_refuses_invisible_names(org):
    api = org.api("east_staff")
    response = api.post("/api/clients/", {"name": "\u202e", "branch": org.branches["east"].pk}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    client = make_client(org)
    response = api.post("/api/contacts/", {"client": client.pk, "name": "\u200b\u200b"}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    assert not Contact.objects.filter(client=client).exists()
    response = api.post(
        "/api/complaints/",
        {"client": client.pk, "kind": "direct", "channel": "phone", "category": "other", "severity": "normal",
         "title": "\u3000\u200b", "content": "渗水"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400 and "title" in response.json()
    assert not Complaint.objects.exists()


# -- long free text ---------------------------------------------------------------------------


def test_limits_on_the_model_fields():
    assert Client._meta.get_field("remarks").limit == 2000
    assert Need._meta.get_field("description").limit == 2000
    assert Complaint._meta.get_field("content").limit == 5000


def test_full_clean_refuses_long_text(org):
    client = make_client(org)
    client.remarks = "字" * 2000
    client.full_clean()
    client.remarks = "字" * 2001
    with pytest.raises(ValidationError) as info:
        client.full_clean()
    assert "remarks" in info.value.message_dict
    with pytest.raises(ValidationError):
        Complaint._meta.get_field("content").clean("字" * 5001, None)


def test_page_form_states_and_enforces_the_limit(org):
    field = ClientForm.base_fields["remarks"]
    assert field.max_length == 2000 and "2000" in str(field.help_text)
    response = org.web("east_staff").get(reverse("clients:client-create"))
    page = response.content.decode()
    assert 'maxlength="2000"' in page and "最多 2000 字" in page


def test_api_refuses_long_text(org):
    api = org.api("east_staff")
    client = make_client(org)
    response = api.patch(f"/api/clients/{client.pk}/", {"remarks": "字" * 2001}, format="json")
    assert response.status_code == 400 and "remarks" in response.json()
    client.refresh_from_db()
    assert client.remarks == ""
    response = api.post(
        "/api/needs/",
        {"client": client.pk, "category": "service", "origin": "initial", "urgency": "general",
         "description": "字" * 2001},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400 and "description" in response.json()
