"""The OpenAPI document says what the API really does: every documented operation, called as an
administrator with an empty or minimal body, answers something other than 405 (a method the
route does not take) or 500. The schema is generated from the viewsets' allowed methods
(``http_method_names``): a method a resource never takes is left out of both."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from crm import figures as fig
from tests.crm.test_api_versions import _make

pytestmark = pytest.mark.django_db

SCHEMA = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
METHODS = ("get", "post", "put", "patch", "delete")
OPERATIONS = sorted(
    (method, path)
    for path, operations in SCHEMA["paths"].items()
    for method in operations
    if method in METHODS
)


def _row_id(org, path, made):
    """The id of a row of the route's model (made once per model), so that an operation of one
    row reaches its handler rather than the 404 of an absent id."""
    model = resolve(path.replace("{id}", "1")).func.cls.queryset.model
    if model not in made:
        try:
            made[model] = _make(org, model).pk
        except AssertionError:
            made[model] = 999999  # no builder: the 404 path is still not a 405 or a 500
    return made[model]


def _required_query(operation) -> dict:
    query = {}
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query" and parameter.get("required"):
            name = parameter["name"]
            query[name] = fig.Period.containing().label if name == "period" else "1"
    return query


def test_every_documented_operation_is_served(org):
    api = org.api("admin")
    api.raise_request_exception = False
    made, wrong = {}, []
    for method, path in OPERATIONS:
        url = path
        if "{id}" in url:
            url = url.replace("{id}", str(_row_id(org, path, made)))
        url = url.replace("{half_year}", fig.HalfYear.containing().label).replace("{token}", "x" * 32)
        operation = SCHEMA["paths"][path][method]
        with transaction.atomic():
            call = getattr(api, method)
            if method == "get":
                response = call(url, _required_query(operation))
            else:
                response = call(url, {}, format="json")
            transaction.set_rollback(True)
        if response.status_code in (405, 500):
            wrong.append(f"{method.upper()} {path}: {response.status_code}")
    assert not wrong, "documented but not served:\n" + "\n".join(wrong)


def test_methods_a_resource_never_takes_are_not_documented():
    paths = SCHEMA["paths"]
    assert "delete" not in paths["/api/clients/{id}/"]
    assert "delete" not in paths["/api/complaints/{id}/"]
    assert not {"put", "patch", "delete"} & set(paths["/api/access-requests/{id}/"])
    assert "post" not in paths.get("/api/survey-follow-ups/", {})
    assert "post" not in paths["/api/monthly-reports/"]


def test_workflow_bodies_are_documented_with_their_own_serializers():
    def body(path):
        content = SCHEMA["paths"][path]["post"].get("requestBody", {}).get("content", {})
        return content.get("application/json", {}).get("schema", {}).get("$ref", "")

    assert body("/api/access-requests/{id}/forward/").endswith("/NoteRequest")
    assert body("/api/access-requests/{id}/approve/").endswith("/NoteRequest")
    assert body("/api/access-requests/{id}/reject/").endswith("/ReasonRequest")


def _model_serializers():
    from rest_framework import serializers

    def below(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    for cls in set(below(serializers.ModelSerializer)):
        if cls.__module__.split(".")[0] in ("clients", "complaints", "surveys", "assessments", "crm"):
            if hasattr(cls, "Meta"):
                yield cls


def test_a_choice_that_may_be_blank_documents_the_blank():
    """Found by the fuzz run: a read-only choice field whose model field may be blank (a return
    visit's method and satisfaction before the visit, an assessment's rating) answered ``""``,
    which its enum did not list (DRF drops allow_blank from read-only fields): every serializer's
    such field documents it (crm.api.fields.BlankChoices)."""
    from rest_framework import serializers

    checked, missing = 0, []
    for cls in _model_serializers():
        model = cls.Meta.model
        for name, field in cls(context={}).fields.items():
            if not isinstance(field, serializers.ChoiceField):
                continue
            try:
                model_field = model._meta.get_field(field.source if field.source != "*" else name)
            except Exception:
                continue
            if model_field.blank and model_field.choices:
                checked += 1
                if not field.allow_blank:
                    missing.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert checked >= 3
    assert missing == []
    method = SCHEMA["components"]["schemas"]["ReturnVisit"]["properties"]["method"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in method["oneOf"]
    assert SCHEMA["components"]["schemas"]["BlankEnum"]["enum"] == [""]
