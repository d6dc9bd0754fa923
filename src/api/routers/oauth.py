"""RFC 6749 token endpoint and RFC 7009 revocation: form bodies in, RFC 6749 §5.2 errors out."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from api.deps import (
    ClientDep,
    GatehouseRouter,
    IntrospectTokenCase,
    LogInCase,
    LogOutCase,
    RotateRefreshTokenCase,
    authorization,
)
from api.responses import OAUTH_ERRORS, TOKEN_HEADERS
from api.routers.tokens import token_response
from api.schemas.auth import IntrospectionOut, TokenResponse
from api.schemas.common import OAuthError
from application.dto import LoginCommand
from domain.errors import (
    AccountDisabled,
    DomainError,
    EmailNotVerified,
    InvalidClient,
    InvalidCredentials,
    InvalidRefreshToken,
    RateLimited,
    StorageUnavailable,
)

router = GatehouseRouter(tags=["oauth"])
MAX_FORM_BYTES = 16_384


class OAuthProblem(Exception):
    def __init__(self, error: str, description: str, status: int = 400,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.error, self.description, self.status, self.headers = error, description, status, headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "error_description": self.description},
                            status_code=self.status, headers={**TOKEN_HEADERS, **self.headers})


def _form_body(fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "properties": fields, "required": required}}}}


_TOKEN_FORM = _form_body({
    "grant_type": {"type": "string", "enum": ["password", "refresh_token"]},
    "username": {"type": "string", "description": "The account email (password grant)"},
    "password": {"type": "string", "format": "password"},
    "refresh_token": {"type": "string", "description": "refresh_token grant"},
    "scope": {"type": "string", "description": "Ignored: v1 grants no scopes"},
    "client_id": {"type": "string", "description": "Ignored: no client authentication"},
}, ["grant_type"])
_REVOKE_FORM = _form_body({"token": {"type": "string"},
                           "token_type_hint": {"type": "string", "enum": ["refresh_token", "access_token"]}},
                          ["token"])


async def read_form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthProblem("invalid_request", "The body must be application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise OAuthProblem("invalid_request", "The form body is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                          errors="strict", max_num_fields=32)
    except (UnicodeDecodeError, ValueError):
        raise OAuthProblem("invalid_request", "The form body is not valid") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthProblem("invalid_request", f"Parameter {name!r} is repeated")
        if "\x00" in value:
            raise OAuthProblem("invalid_request", f"Parameter {name!r} is not valid")
        form[name] = value
    return form


def _require(form: dict[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not form.get(n)]
    if missing:
        raise OAuthProblem("invalid_request", f"Missing parameter: {', '.join(missing)}")
    return [form[n] for n in names]


@router.post("/auth/token", response_model=TokenResponse, openapi_extra={"requestBody": _TOKEN_FORM},
             responses=OAUTH_ERRORS, summary="OAuth 2.0 token endpoint (password and refresh_token grants)")
async def token(request: Request, client: ClientDep, log_in: LogInCase,
                rotate: RotateRefreshTokenCase) -> Response:
    """RFC 6749 form: `grant_type=password` (username is the email) or `grant_type=refresh_token`. Errors are RFC
    6749 §5.2 JSON (`invalid_grant`, `invalid_request`, `unsupported_grant_type`; `rate_limited` with 429). No
    client authentication: a `client_id` is ignored.
    """
    try:
        form = await read_form(request)
        grant = _require(form, "grant_type")[0]
        if grant == "password":
            username, password = _require(form, "username", "password")
            tokens = await log_in.execute(LoginCommand(username, password, client))
        elif grant == "refresh_token":
            tokens = await rotate.execute(_require(form, "refresh_token")[0])
        else:
            raise OAuthProblem("unsupported_grant_type", f"Grant type {grant[:64]!r} is not supported")
    except OAuthProblem as problem:
        return problem.response()
    except DomainError as error:
        return _oauth_error(error).response()
    return token_response(tokens)


def _oauth_error(error: DomainError) -> OAuthProblem:
    if isinstance(error, RateLimited):
        return OAuthProblem("rate_limited", error.detail, 429, {"Retry-After": str(error.retry_after_seconds)})
    if isinstance(error, InvalidCredentials):
        return OAuthProblem("invalid_grant", "Invalid username or password")
    if isinstance(error, AccountDisabled):
        return OAuthProblem("invalid_grant", "The account is disabled")
    if isinstance(error, EmailNotVerified):
        return OAuthProblem("invalid_grant", "The account's email address is not verified yet")
    if isinstance(error, InvalidRefreshToken):
        return OAuthProblem("invalid_grant", "The refresh token is invalid, expired, revoked or already used")
    if isinstance(error, StorageUnavailable):
        return OAuthProblem("temporarily_unavailable", error.detail, 503, {"Retry-After": "1"})
    return OAuthProblem("invalid_request", error.detail)


@router.post("/auth/revoke", status_code=200, response_class=Response, openapi_extra={"requestBody": _REVOKE_FORM},
             responses={200: {"description": "Revoked, or nothing to revoke (RFC 7009 §2.2)"},
                        400: OAUTH_ERRORS[400]},
             summary="RFC 7009 token revocation")
async def revoke(request: Request, client: ClientDep, log_out: LogOutCase) -> Response:
    """Form `token=…` (a refresh token or an access token; `token_type_hint` is optional). Ends that token's
    session; always 200 with an empty body, whatever the token.
    """
    try:
        form = await read_form(request)
        token_value = _require(form, "token")[0]
    except OAuthProblem as problem:
        return problem.response()
    try:
        await log_out.execute(token_value, client)
    except StorageUnavailable:
        return OAuthProblem("temporarily_unavailable", "Try again shortly", 503, {"Retry-After": "1"}).response()
    return Response(status_code=200, headers=TOKEN_HEADERS)


_INTROSPECT_FORM = _form_body({"token": {"type": "string", "description": "the access token to look at"},
                               "token_type_hint": {"type": "string", "description": "optional; ignored"}},
                              ["token"])
_INVALID_CLIENT = {"WWW-Authenticate": 'Basic realm="gatehouse"'}


@router.post("/auth/introspect", status_code=200, response_class=JSONResponse, response_model=IntrospectionOut,
             openapi_extra={"requestBody": _INTROSPECT_FORM},
             responses={200: {"description": "RFC 7662 answer: `{\"active\": false}`, or the active token's claims "
                                             "with the user's roles now"},
                        400: OAUTH_ERRORS[400],
                        401: {"description": "Missing or wrong client authentication (`invalid_client`)",
                              "model": OAuthError}},
             summary="RFC 7662 token introspection, for service clients")
async def introspect(request: Request, introspect: IntrospectTokenCase) -> Response:
    """For the deployment's other services, authenticated with HTTP Basic as a service client (`gatehouse clients
    create NAME`). Form `token=<access token>`. Active when Gatehouse would honour the token now: signature,
    expiry, a live session (within a second of its end on every worker), an active user; then the answer has
    its claims and the user's roles as they are now. Anything else is `{"active": false}`, with no reason.
    """
    try:
        client_id, secret = basic_credentials(authorization(request.scope["headers"]))
        await introspect.authenticate(client_id, secret)
        token_value = _require(await read_form(request), "token")[0]
        found = await introspect.execute(token_value)
    except InvalidClient:
        return OAuthProblem("invalid_client", "Authenticate with HTTP Basic as a service client", 401,
                            _INVALID_CLIENT).response()
    except OAuthProblem as problem:
        return problem.response()
    except StorageUnavailable:
        return OAuthProblem("temporarily_unavailable", "Try again shortly", 503, {"Retry-After": "1"}).response()
    if found is None:
        return Response(_INACTIVE, media_type="application/json", headers=TOKEN_HEADERS)
    claims = found.claims
    # Serialised once by pydantic's compiled serializer (a hot path of every resource server that uses it).
    return Response(IntrospectionOut(
        active=True, token_type=_BEARER, sub=str(claims.subject), sid=str(claims.session_id), iss=claims.issuer,
        aud=claims.audience,
        exp=int(claims.expires_at.timestamp()), iat=int(claims.issued_at.timestamp()), jti=claims.token_id,
        scope=claims.scope, roles=list(found.roles)).model_dump_json(), media_type="application/json",
        headers=TOKEN_HEADERS)


_INACTIVE = b'{"active":false}'
_BEARER = "Bearer"  # a token type, not a secret





def basic_credentials(header: str | None) -> tuple[str, str]:
    """RFC 6749 §2.3.1 `client_secret_basic`: base64 of the form-encoded id, a colon, the form-encoded secret."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise InvalidClient("HTTP Basic client authentication is required")
    try:
        decoded = base64.b64decode(encoded.strip().encode("ascii"), validate=True).decode("utf-8")
    except (ValueError, binascii.Error):  # not ASCII, not base64, not UTF-8 (UnicodeError is a ValueError)
        raise InvalidClient("Malformed HTTP Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if not colon or "\x00" in client_id or "\x00" in secret:
        raise InvalidClient("Malformed HTTP Basic credentials")
    return client_id, secret
