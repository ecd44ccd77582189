"""drf-spectacular postprocessing (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): the error
answers every operation can give (crm/api/errors.py) are documented once here rather than on
each view, so clients and the API fuzz (tests/api_fuzz) know them.

- 400: input refused (a body, or query parameters such as filters and ``page_size``);
- 401: no or bad credentials; 403: a missing role; 429: throttled (every operation);
- 404: out of scope or absent (a path id, or a page past the end of a list);
- 409: a write lost the race for its row (crm.models.Versioned)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

ERROR = {
    "type": "object",
    "description": '``{"detail": ...}`` or field name -> messages',
    "additionalProperties": True,
}
TEXT = {
    400: "Bad request: the input was refused (field -> messages).",
    401: "Not signed in, or a bad or expired token.",
    403: "The user lacks the role for this action.",
    404: "Not found, or outside the user's scope.",
    409: "Conflict: someone else changed the row; reload and retry.",
    429: "Too many requests.",
}
WRITES = {"post", "put", "patch", "delete"}


def refusals(*, forbidden: str, refused: str | None = None, not_found: str | None = None) -> dict:
    """The error answers of one operation, each described for it (the body is ``{"detail": ...}``
    or field name -> messages, crm/api/errors.py); those it does not describe keep the general
    ones ``add_error_responses`` documents."""
    answers = {403: OpenApiResponse(OpenApiTypes.OBJECT, description=forbidden)}
    if refused:
        answers[400] = OpenApiResponse(OpenApiTypes.OBJECT, description=refused)
    if not_found:
        answers[404] = OpenApiResponse(OpenApiTypes.OBJECT, description=not_found)
    return answers


def answers(ok, status: int = 200, **kw) -> dict:
    """``responses=`` of an operation: its success answer and its described refusals."""
    return {status: ok, **refusals(**kw)}


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR)
    ref = {"$ref": "#/components/schemas/Error"}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in WRITES | {"get"}:
                continue
            params = operation.get("parameters", [])
            codes = {401, 403, 429}
            if method in WRITES or any(p.get("in") == "query" for p in params) or "requestBody" in operation:
                codes.add(400)
            if any(p.get("in") == "path" for p in params) or any(p.get("name") == "page" for p in params):
                codes.add(404)
            if method in WRITES:
                codes.add(409)
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(
                    str(code), {"description": TEXT[code], "content": {"application/json": {"schema": ref}}}
                )
    return result
