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


class FailedPartSerializer(serializers.Serializer):
    """A branch's part of a round that failed for good (R55): why and when."""

    branch = serializers.IntegerField(source="branch_id")
    branch_name = serializers.CharField(source="branch.__str__")
    error = serializers.CharField(source="compute_error")
    failed_at = serializers.DateTimeField(source="compute_failed_at")


def retry_round(request, fan_out, label: str, serializer_class):
    """``POST .../retry/`` of a fanned-out round (R55), the same for every kind: 403 for a role
    that cannot retry, 404 when the user's scope holds no such round, 409 with the round as it
    is when it has not failed, else 202 with the round running again (its failed parts queued
    after commit)."""
    from django.core.exceptions import PermissionDenied
    from django.shortcuts import get_object_or_404
    from rest_framework import status
    from rest_framework.response import Response

    from ..rounds import services

    if not fan_out.may_retry(request.user):
        raise PermissionDenied(str(fan_out.retry_denied))
    rnd = get_object_or_404(
        fan_out.round_model.objects.restrict(request.user, "view"), **{fan_out.label_field: label}
    )
    try:
        rnd, _branches = services.round_retry(fan_out, rnd=rnd, by=request.user)
    except services.RoundNotFailed as refusal:
        rnd.refresh_from_db()
        return Response(
            {"detail": refusal.messages[0], "code": "not_failed", "current": serializer_class(rnd).data},
            status=status.HTTP_409_CONFLICT,
        )
    rnd.refresh_from_db()
    return Response(serializer_class(rnd).data, status=status.HTTP_202_ACCEPTED)
