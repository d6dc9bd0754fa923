"""Health, readiness and discovery (JWKS, RFC 8414 metadata)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import DatabaseProbeDep, GatehouseRoute, KeyRingDep, SettingsDep
from api.problems import problem_body
from api.responses import problem

router = APIRouter(tags=["system"], route_class=GatehouseRoute)


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready", responses={503: problem("The database is unreachable")})
async def ready(probe: DatabaseProbeDep) -> JSONResponse:
    if await probe.ok():
        return JSONResponse({"status": "ok", "database": "ok"})
    body = problem_body(503, "not_ready", "The database is unreachable", "Service not ready",
                        database="unavailable")
    return JSONResponse(body, status_code=503, media_type="application/problem+json",
                        headers={"Retry-After": "1"})


@router.get("/.well-known/jwks.json")
async def jwks(keyring: KeyRingDep) -> JSONResponse:
    return JSONResponse({"keys": list(keyring.public_jwks)},
                        headers={"Cache-Control": "public, max-age=300"})


@router.get("/.well-known/oauth-authorization-server")
async def metadata(settings: SettingsDep) -> dict[str, Any]:
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
    }
