"""OpenAPI descriptions of the error responses each route can give."""

from __future__ import annotations

from typing import Any

from api.schemas.common import OAuthError, Problem, ValidationProblem

_PROBLEM = "application/problem+json"
Responses = dict[int | str, dict[str, Any]]


def problem(description: str, model: type = Problem) -> dict[str, Any]:
    return {"description": description, "model": model,
            "content": {_PROBLEM: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}


UNAUTHORIZED: Responses = {401: problem("Missing, invalid, expired or revoked access token")}
VALIDATION: Responses = {422: problem("Validation failed", ValidationProblem)}
NOT_FOUND: Responses = {404: problem("No such resource for this user")}
UNAVAILABLE: Responses = {503: problem("Database temporarily unavailable")}
RATE_LIMITED: Responses = {429: problem("Rate limited; the Retry-After header says when to try again")}
OAUTH_ERRORS: Responses = {400: {"description": "RFC 6749 §5.2 error", "model": OAuthError},
                429: {"description": "Too many failed attempts; see Retry-After", "model": OAuthError}}
TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}
