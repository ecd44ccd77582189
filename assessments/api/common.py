"""What the reporting and review viewsets share beyond crm.api (the documented refusals of a
step and the collection POST they do not offer live there, for every app): a body reference
restricted to the user's scope."""

from __future__ import annotations

from rest_framework import serializers


class ScopedField(serializers.PrimaryKeyRelatedField):
    """An id in a request body naming a row the user may read (``restrict(user, "view")``), as
    the page's ``get_object_or_404(Model.objects.restrict(...))`` does; an id out of scope is
    refused like an absent one (400), so it reveals nothing."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self):
        return self.model.objects.restrict(self.context["request"].user, "view")
