"""The one table from domain errors to HTTP, and the handlers that render problem details."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.problems import problem_response
from api.validation_messages import explain
from domain import errors as e

log = logging.getLogger("gatehouse.errors")

STATUS: dict[type[e.DomainError], int] = {
    e.DomainError: 400,
    e.EmailTaken: 409,
    e.WeakPassword: 422,
    e.InvalidEmail: 422,
    e.InvalidCredentials: 401,
    e.WrongCurrentPassword: 400,
    e.CredentialsChanged: 400,  # the use cases answer it as their own credentials error; this is a fallback
    e.RateLimited: 429,
    e.InvalidRefreshToken: 401,
    e.NotAuthenticated: 401,
    e.InvalidToken: 401,
    e.NotFound: 404,
    e.StorageUnavailable: 503,
    e.InvalidResetToken: 400,
    e.InvalidVerificationToken: 400,
    e.AlreadyVerified: 409,
    e.EmailNotVerified: 403,
    e.InvalidRole: 422,
    e.AccountDisabled: 403,
    e.Forbidden: 403,
    e.CsrfFailed: 403,
    e.LastAdmin: 409,
    e.CannotActOnSelf: 409,
    e.InvalidClientName: 422,  # the CLI's (a service client is made only there)
    e.ClientNameTaken: 409,
    e.InvalidClient: 401,  # answered as RFC 6749 `invalid_client` by /auth/introspect itself
}

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
               415: "unsupported_media_type", 400: "bad_request", 401: "not_authenticated"}


def status_of(error: e.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def headers_of(error: e.DomainError) -> dict[str, str]:
    if isinstance(error, e.NotAuthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, e.InvalidToken):
        return {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    if isinstance(error, e.RateLimited):
        return {"Retry-After": str(error.retry_after_seconds)}
    if isinstance(error, e.StorageUnavailable):
        return {"Retry-After": "1"}
    return {}


def render_domain_error(error: e.DomainError) -> Response:
    extra: dict[str, Any] = {}
    if isinstance(error, e.WeakPassword):
        extra["errors"] = [{"loc": ["body", error.field], "msg": error.detail, "type": "weak_password"}]
    elif isinstance(error, e.InvalidEmail):
        extra["errors"] = [{"loc": ["body", error.field], "msg": error.detail, "type": "invalid_email"}]
    elif isinstance(error, e.InvalidRole):
        extra["errors"] = [{"loc": ["body", error.field], "msg": error.detail, "type": "invalid_role"}]
    return problem_response(status_of(error), error.code, error.detail, error.title, headers_of(error), **extra)


def _clean_loc(loc: Any) -> list[str | int]:
    return [p if isinstance(p, int) else str(p) for p in loc]


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    body = _body_model(request)
    content_type = request.headers.get("content-type", "")
    errors = [{"loc": _clean_loc(err.get("loc", ())),
               "msg": explain(err, body, request.url.path, content_type),
               "type": str(err.get("type", "value_error"))} for err in exc.errors()]
    # Never echo the input back: it may hold a password. The first message is the detail: most
    # requests have one mistake, and a client that shows only `detail` then shows what to fix.
    detail = errors[0]["msg"] if len(errors) == 1 else f"{errors[0]['msg']} (and {len(errors) - 1} more in `errors`)"
    return problem_response(422, "validation_error", str(detail), "Validation failed", errors=errors)


def _body_model(request: Request) -> type[BaseModel] | None:
    """The pydantic model of the route's JSON body, if it has one."""
    route = request.scope.get("route")
    field = getattr(route, "body_field", None)
    annotation = getattr(getattr(field, "field_info", None), "annotation", None)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    detail = exc.detail if isinstance(exc.detail, str) else "Request failed"
    if exc.status_code == 400 and detail == _UNPARSEABLE_BODY:
        # FastAPI's answer to a body that is not even text (e.g. invalid UTF-8): malformed JSON is 422.
        return problem_response(422, "validation_error", "The request body is not valid JSON",
                                "Validation failed",
                                errors=[{"loc": ["body"], "msg": "Invalid JSON", "type": "json_invalid"}])
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No resource at this path"
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed here"
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(exc.status_code, code, detail, headers=headers)


_UNPARSEABLE_BODY = "There was an error parsing the body"


def allowed_methods(request: Request) -> list[str]:
    """Every method any route serves at this path (Starlette's 405 names only the first route's)."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(request.app.state, "allow_table", None)
    if table is None:
        table = []
        for template, operations in request.app.openapi().get("paths", {}).items():
            regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template.rstrip("/")))
            methods = {m.upper() for m in operations if m.upper() in _HTTP_METHODS}
            table.append((re.compile(f"^{regex}/?$"), methods))
        request.app.state.allow_table = table
    found: set[str] = set()
    for compiled, methods in table:
        if compiled.match(request.url.path):
            found |= methods
    return sorted(found)


_HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, e.DomainError)  # noqa: S101
    return render_domain_error(exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(e.DomainError, _domain_error)
