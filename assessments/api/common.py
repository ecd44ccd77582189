"""What the reporting and review viewsets share: the documented refusals of a workflow step, a
body reference restricted to the user's scope, and the collection POST they do not offer."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import MethodNotAllowed


def refusals(*, forbidden: str, refused: str | None = None, not_found: str | None = None) -> dict:
    """The error answers of a workflow step, each described for its action (the body is
    ``{"detail": ...}`` or field name -> messages, crm/api/errors.py). The answers a step does
    not describe keep the general ones every operation documents (crm/api/schema.py)."""
    answers = {403: OpenApiResponse(OpenApiTypes.OBJECT, description=forbidden)}
    if refused:
        answers[400] = OpenApiResponse(OpenApiTypes.OBJECT, description=refused)
    if not_found:
        answers[404] = OpenApiResponse(OpenApiTypes.OBJECT, description=not_found)
    return answers


def answers(ok, status: int = 200, **kw) -> dict:
    return {status: ok, **refusals(**kw)}


class ScopedField(serializers.PrimaryKeyRelatedField):
    """An id in a request body naming a row the user may read (``restrict(user, "view")``), as
    the page's ``get_object_or_404(Model.objects.restrict(...))`` does; an id out of scope is
    refused like an absent one (400), so it reveals nothing."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self):
        return self.model.objects.restrict(self.context["request"].user, "view")


class NoCollectionPost:
    """Rows of these resources are made by the workflow (the jobs, a round, a first opening),
    never by a POST on the collection: "post" is allowed for the workflow actions only, so the
    collection answers 405 (before the role check) and the schema does not offer it."""

    def initial(self, request, *args, **kwargs):
        if self.action == "create":
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    @extend_schema(exclude=True)
    def create(self, request, *args, **kwargs):
        raise MethodNotAllowed(request.method)
