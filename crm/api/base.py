"""The base viewset every API resource uses (style.md 2): HTTP methods map to actions once,
and the queryset is restricted in ``initial()``; 403 for a missing role, 404 out of scope.

Concurrency, for every resource (so later ones inherit it):

- Optimistic locking of ``Versioned`` models (crm.models): a detail GET, and every successful
  write, answers ``ETag: W/"<version>"`` and carries ``version`` in the body. A PUT/PATCH may
  state the version it was based on, as ``If-Match: W/"<version>"`` (or ``"<version>"``) or as
  ``version`` in the body; when it is not the stored one the answer is 409 with
  ``{"detail", "current": <the current representation>}`` and the current ETag, and nothing
  is written. Without either, the write is accepted against the row as it is read in this
  request (kept for the existing integrations and imports: a PATCH then changes only the
  fields it names, so it cannot revert someone else's other fields; a client that sends a
  whole representation it read earlier must send If-Match). The check is made under a row
  lock, so a concurrent write between the check and the save is impossible.
- A unique constraint the database enforces (two parallel creates) answers 400 with the
  field's message instead of a 500 (crm.concurrency.unique_violation).
"""

import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.exceptions import MethodNotAllowed, NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.response import Response

from crm.access import can, check_in_scope
from crm.concurrency import unique_violation
from crm.models import StaleVersion, Versioned

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def etag(version: int) -> str:
    return f'W/"{version}"'


class RoleRequired(permissions.BasePermission):
    """The user must hold the role for the request's action on the model at all (else 403)."""

    def has_permission(self, request, view):
        model = view.queryset.model
        return can(request.user, view.get_restrict_action(), model)


class RestrictedViewSet(viewsets.ModelViewSet):
    permission_classes = [permissions.IsAuthenticated, RoleRequired]
    # Extra actions (@action) that write: the scope they need.
    action_scopes: dict[str, str] = {}

    def get_restrict_action(self) -> str:
        if self.action in self.action_scopes:
            return self.action_scopes[self.action]
        return METHOD_ACTIONS.get(self.request.method, "view")

    def initial(self, request, *args, **kwargs):
        # A method the resource never takes (not in ``http_method_names``, so not in the schema
        # either) answers 405 to every signed-in user, before the role and scope checks (DRF
        # would check them first, answering 403 or 404 for a method that exists for nobody).
        if request.method.lower() not in self.http_method_names and request.user.is_authenticated:
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)
        action = self.get_restrict_action()
        # For a create, the list scope is "view"; the new row is checked against "add".
        self.queryset = self.queryset.restrict(request.user, "view" if action == "add" else action)
        if self._locks_the_row(request):
            self._precondition()

    def get_queryset(self):
        return self.queryset.all()

    # ------------------------------------------------------------------ optimistic locking

    @property
    def versioned(self) -> bool:
        return issubclass(self.queryset.model, Versioned)

    def get_serializer(self, *args, **kwargs):
        return self._with_version(super().get_serializer(*args, **kwargs))

    def _with_version(self, serializer):
        if self.versioned:
            target = getattr(serializer, "child", serializer)
            if "version" not in target.fields:
                target.fields["version"] = serializers.IntegerField(read_only=True)
        return serializer

    def answer(self, row, serializer_class=None, *, status_code: int = status.HTTP_200_OK) -> Response:
        """A workflow step's answer: the row as the step left it, in the viewset's serializer (or
        the step's own), with its ``version`` and ETag like every read of a versioned row, so
        that the next write can be based on it."""
        serializer_class = serializer_class or self.get_serializer_class()
        serializer = serializer_class(row, context=self.get_serializer_context())
        if isinstance(row, self.queryset.model):
            serializer = self._with_version(serializer)
        headers = {"ETag": etag(row.version)} if isinstance(row, Versioned) else {}
        return Response(serializer.data, status=status_code, headers=headers)

    def _locks_the_row(self, request) -> bool:
        """A PUT/PATCH of one row of a Versioned model, whatever the viewset's own update does
        (several override ``partial_update`` to call a service): the whole request is one
        transaction (``dispatch``) holding the row's lock from the precondition to the write."""
        lookup = self.lookup_url_kwarg or self.lookup_field
        return self.versioned and request.method in ("PUT", "PATCH") and lookup in self.kwargs

    def dispatch(self, request, *args, **kwargs):
        if request.method not in ("PUT", "PATCH") or not self.versioned:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)  # a refusal writes nothing (history, events)
            return response

    def _precondition(self) -> None:
        """If-Match (or ``version`` in the body) against the stored version, under the row's
        lock, before the viewset's handler runs: a stale one is a 409 with the current row, a
        malformed one a 400; a concurrent write of the same row waits for this request's
        transaction and then finds the version it was based on gone (409)."""
        expected = self.expected_version()
        instance = self.get_object()
        current = (
            type(instance)
            ._base_manager.select_for_update()
            .filter(pk=instance.pk)
            .order_by()  # a Meta ordering across a nullable relation would join it: FOR UPDATE refuses
            .values_list("version", flat=True)
            .first()
        )
        if expected is not None and current is not None and current != expected:
            raise StaleVersion(instance, expected)

    def handle_exception(self, exc):
        """A write that lost the race for its row answers 409 with the row as it is now."""
        row = getattr(exc, "obj", None) if isinstance(exc, StaleVersion) else None
        if isinstance(row, self.queryset.model) and row.pk is not None and self.versioned:
            try:
                return self.conflict_response(row.pk)
            except NotFound as missing:
                exc = missing
        return super().handle_exception(exc)

    def expected_version(self) -> int | None:
        """The version a PUT/PATCH is based on: If-Match, else ``version`` in the body, else None."""
        raw = self.request.headers.get("If-Match")
        if raw is not None:
            raw = raw.split(",")[0]
            if raw.strip() == "*":
                return None
            match = _ETAG.match(raw)
            if not match:
                raise APIValidationError({"version": [_('If-Match 应为 W/"<version>"。')]})
            return int(match.group(1))
        body = self.request.data.get("version") if hasattr(self.request.data, "get") else None
        if body in (None, ""):
            return None
        try:
            return int(body)
        except (TypeError, ValueError):
            raise APIValidationError({"version": [_("version 应为整数。")]}) from None

    def _check_version(self, instance) -> None:
        """Under a row lock: the stored version must be the one the request was based on (or,
        without one, the one read in this request)."""
        expected = self.expected_version()
        if expected is None:
            expected = instance.version
        stored = (
            type(instance)
            ._base_manager.select_for_update()
            .filter(pk=instance.pk)
            .order_by()  # a Meta ordering across a nullable relation would join it: FOR UPDATE refuses
            .values_list("version", flat=True)
        )
        current = stored.first()
        if current is not None and current != expected:
            raise StaleVersion(instance, expected)

    def conflict_response(self, pk, refused=None) -> Response:
        """409 with the row as it is now (``current``), and, for a workflow step, the step's own
        refusal (``refused``: why it cannot be taken from the current state)."""
        current = self.get_queryset().filter(pk=pk).first()
        if current is None:
            raise NotFound()
        body = {"detail": str(StaleVersion().messages[0]), "code": "stale"}
        if refused is not None:
            body["refused"] = refused
        body["current"] = self.get_serializer(current).data
        headers = {"ETag": etag(current.version)} if isinstance(current, Versioned) else {}
        return Response(body, status=status.HTTP_409_CONFLICT, headers=headers)

    def update(self, request, *args, **kwargs):
        if not self.versioned:
            return self._map_integrity(
                lambda: super(RestrictedViewSet, self).update(request, *args, **kwargs)
            )
        instance = self.get_object()
        expected = self.expected_version()
        if expected is not None and expected != instance.version:
            return self.conflict_response(instance.pk)  # before validating: the precondition fails
        try:
            return self._map_integrity(
                lambda: super(RestrictedViewSet, self).update(request, *args, **kwargs)
            )
        except StaleVersion:
            return self.conflict_response(instance.pk)

    def get_object(self):
        obj = super().get_object()
        if getattr(self, "_row", None) is None:
            # The row this request acts on, and its state as this request first read it
            # (finalize_response: the version and a workflow status, where the model has them).
            self._row, self._row_state = obj, self._state_of(obj)
        return obj

    @staticmethod
    def _state_fields(model) -> list[str]:
        names = {f.name for f in model._meta.concrete_fields}
        return [name for name in ("version", "status") if name in names]

    def _state_of(self, obj) -> dict:
        return {name: getattr(obj, name) for name in self._state_fields(type(obj))}

    def _lost_a_race(self) -> bool:
        """A workflow step refused (400) because the row changed after this request read it
        and before the step locked it (another person took a step, or saved, in between): the
        refusal is a conflict, not bad input (design.md: 409 with the current state)."""
        row = getattr(self, "_row", None)
        fields = self._state_fields(type(row)) if row is not None else []
        if not fields:
            return False
        now = type(row)._base_manager.filter(pk=row.pk).values(*fields).first()
        return now is not None and now != self._row_state

    def _add_version(self, data) -> None:
        """A workflow step's answer (``POST .../submit/``) is the row after the step, made by
        the step's own serializer: it carries ``version`` like every other answer of the row,
        read after the step, so that the next edit can send it as If-Match."""
        row = getattr(self, "_row", None)
        if row is None or data.get("id") != row.pk or "version" in data:
            return
        version = type(row)._base_manager.filter(pk=row.pk).values_list("version", flat=True).first()
        if version is not None:
            data["version"] = version

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code == 400 and request.method == "POST" and self._lost_a_race():
            refused = getattr(response, "data", None)
            try:
                response = self.conflict_response(self._row.pk, refused=refused)
            except NotFound:
                response = Response({"detail": NotFound.default_detail}, status=status.HTTP_404_NOT_FOUND)
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if self.versioned and 200 <= response.status_code < 300 and isinstance(data, dict):
            self._add_version(data)
        if (
            self.versioned
            and 200 <= response.status_code < 300
            and isinstance(data, dict)
            and isinstance(data.get("version"), int)
            and not (
                "results" in data and "count" in data
            )  # a page of rows, not a row with a "results" field
        ):
            response["ETag"] = etag(data["version"])
        return response

    # ------------------------------------------------------------------ writes

    def _map_integrity(self, call):
        try:
            return call()
        except IntegrityError as error:
            mapped = unique_violation(self.queryset.model, error)
            if mapped is None:
                raise
            raise APIValidationError(mapped.message_dict) from error

    def create(self, request, *args, **kwargs):
        return self._map_integrity(lambda: super(RestrictedViewSet, self).create(request, *args, **kwargs))

    def perform_create(self, serializer):
        with transaction.atomic():
            obj = serializer.save()
            if not check_in_scope(self.request.user, "add", obj):
                transaction.set_rollback(True)
                raise PermissionDenied(_("无权在该分子公司下创建记录。"))

    def perform_update(self, serializer):
        with transaction.atomic():
            if self.versioned:
                self._check_version(serializer.instance)
            obj = serializer.save()
            if not check_in_scope(self.request.user, "change", obj):
                transaction.set_rollback(True)
                raise NotFound()


class RestrictedReadOnlyViewSet(RestrictedViewSet):
    http_method_names = ["get", "head", "options"]


class NoCollectionPost:
    """For a resource whose rows are made by a workflow, never by a POST on the collection:
    "post" is allowed for the workflow actions only, so the collection answers 405 (before the
    role check) and the schema does not offer it. Put it before the viewset class."""

    def initial(self, request, *args, **kwargs):
        if self.action == "create":
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    @extend_schema(exclude=True)
    def create(self, request, *args, **kwargs):
        raise MethodNotAllowed(request.method)
