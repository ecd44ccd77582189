"""Bad input, second round (issue 23): deep JSON, undecodable form bytes and names with
bidirectional controls answer 400 with a message, once for every endpoint
(crm.middleware.RefuseNulMiddleware, crm.fields.NameField)."""

from __future__ import annotations

import json

import pytest

from clients.models import Client, Contact
from crm.middleware import MAX_JSON_DEPTH, json_depth

pytestmark = pytest.mark.django_db

DEEP = "[" * 330 + "]" * 330


def test_json_depth_is_counted_without_parsing():
    assert json_depth(b'{"a": [1, {"b": []}]}') == 4
    assert json_depth(b'{"a": "[[[[[[[["}') == 1  # brackets in strings do not count
    assert json_depth(b'["\\"[[["]') == 1
    assert json_depth(DEEP.encode()) == 330


@pytest.mark.parametrize(
    "url", ["/api/clients/", "/api/needs/", "/api/complaints/", "/api/monthly-reports/close/"]
)
def test_deep_json_answers_400_on_api_endpoints(org, url):
    response = org.api("marketing").post(url, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert str(MAX_JSON_DEPTH) in response.json()["detail"]


def test_deep_json_answers_400_on_the_token_endpoint(org):
    from rest_framework.test import APIClient

    response = APIClient().post("/api/auth/token/", DEEP, content_type="application/json")
    assert response.status_code == 400
    # A nested value inside an object, as deep.
    body = '{"username": ' + DEEP + "}"
    response = APIClient().post("/api/auth/token/", body, content_type="application/json")
    assert response.status_code == 400


def test_json_within_the_depth_is_parsed_as_before(org):
    body = {"name": "x", "tags": json.loads("[" * 10 + "]" * 10)}
    response = org.api("east_staff").post("/api/clients/", body, format="json")
    assert response.status_code == 400  # the serializer's own answer (fields), not the depth's
    assert "detail" not in response.json() or "JSON" not in response.json()["detail"]


def test_undecodable_form_bytes_answer_400_and_store_nothing(org):
    web = org.web("east_staff")
    before = Client.objects.count()
    response = web.post(
        "/clients/new/", "name=%FF%FEabc&stage=potential", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400 and "UTF-8" in response.content.decode()
    assert Client.objects.count() == before
    assert not Client.objects.filter(name__contains="\ufffd").exists()


def test_undecodable_query_string_answers_400(org):
    response = org.web("east_staff").get("/clients/?q=%C3%28")
    assert response.status_code == 400
    response = org.api("east_staff").get("/api/clients/?search=%FF")
    assert response.status_code == 400 and "UTF-8" in response.json()["detail"]


def test_utf8_form_fields_pass(org):
    response = org.web("east_staff").get("/clients/?q=%E5%BB%BA%E5%B7%A5")  # 建工
    assert response.status_code == 200


@pytest.mark.parametrize(
    "char",
    [
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200e",
        "\u200f",
    ],
)
def test_names_with_bidi_controls_are_refused_by_the_api(org, char):
    api = org.api("east_staff")
    before = Client.objects.count()
    body = {"name": f"{char}=1+1 gnp.exe", "branch": org.branches["east"].pk, "stage": "potential",
            "org_type": "private", "address": "上海"}  # fmt: skip
    response = api.post("/api/clients/", body, format="json")
    assert response.status_code == 400 and "name" in response.json()
    assert Client.objects.count() == before


def test_contact_name_with_an_override_is_refused_by_full_clean(org):
    from django.core.exceptions import ValidationError

    contact = Contact(name="\u202e三张")
    with pytest.raises(ValidationError) as error:
        contact.full_clean()
    assert "name" in error.value.message_dict


@pytest.mark.parametrize("value", ["abc", "", "1e9", "-1", "99999999999999999999"])
def test_a_posted_id_that_is_not_one_is_a_form_error(org, value):
    from assessments.review import services
    from crm.figures import HalfYear

    report = services.analysis_open(branch=org.branches["east"], half=HalfYear(2026, 1))
    web = org.web("east_staff")
    response = web.post(
        f"/reports/analysis/{report.pk}/clients/", {"client": value, "text": "x"}, follow=True
    )
    assert response.status_code == 200
    assert "所选项无效" in response.content.decode()
    assert not report.client_analyses.exists()
