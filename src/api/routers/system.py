"""Health, readiness and discovery (JWKS, RFC 8414 metadata)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.responses import JSONResponse

from api.deps import DatabaseProbeDep, GatehouseRouter, KeyRingDep, RateLimitsDep, SettingsDep
from api.problems import problem_body
from api.responses import problem
from infrastructure.db.probe import DatabaseState

router = GatehouseRouter(tags=["system"])


@router.get("/health", summary="Liveness")
async def health() -> dict[str, str]:
    """200 while the process answers; says nothing about the database."""
    return {"status": "ok"}


@router.get("/health/ready", summary="Readiness",
            responses={503: problem("The database (or Redis, when configured) is not ready")})
async def ready(probe: DatabaseProbeDep, limits: RateLimitsDep) -> JSONResponse:
    """Ready when the database answers at the schema this version needs and, when GATEHOUSE_REDIS_URL is
    set, Redis answers too; else 503 saying which is not."""
    database, redis = await asyncio.gather(probe.check(), limits.health())
    parts = {"database": database.state.value} | ({"redis": redis} if redis is not None else {})
    if database.state is DatabaseState.OK and redis in (None, "ok"):
        return JSONResponse({"status": "ok", **parts})
    if database.state is DatabaseState.NOT_MIGRATED:
        detail = f"Not ready: {database.hint}"
    elif database.state is DatabaseState.UNAVAILABLE:
        detail = "The database is unreachable"
    else:
        detail = "Redis (the rate-limit store) is unreachable"
    body = problem_body(503, "not_ready", detail, "Service not ready", **parts)
    return JSONResponse(body, status_code=503, media_type="application/problem+json",
                        headers={"Retry-After": "1"})


@router.get("/.well-known/jwks.json", summary="Public signing keys (JWKS)")
async def jwks(keyring: KeyRingDep) -> JSONResponse:
    """The keys access tokens are verified with (empty for HS256); cacheable for five minutes."""
    return JSONResponse({"keys": list(keyring.public_jwks)},
                        headers={"Cache-Control": "public, max-age=300"})


@router.get("/.well-known/oauth-authorization-server", summary="Authorization server metadata (RFC 8414)")
async def metadata(settings: SettingsDep) -> dict[str, Any]:
    """The issuer and the endpoints, grant types and authentication methods Gatehouse supports."""
    issuer = settings.issuer
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/auth/token",
        "revocation_endpoint": f"{issuer}/auth/revoke",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": ["password", "refresh_token"],
        "response_types_supported": [],
        "scopes_supported": [],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "introspection_endpoint": f"{issuer}/auth/introspect",
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
    }
