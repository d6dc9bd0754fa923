"""Baseline (b): refresh-token rotation on Postgres with nothing but FastAPI, asyncpg and PyJWT.

The ceiling for `POST /auth/refresh`: the same work Gatehouse must do per request, without SQLAlchemy,
dependency injection or the domain layer. One transaction per request:

    UPDATE sessions SET current_token=$new, previous_token=current_token, last_used_at=now()
     WHERE current_token=$presented AND revoked_at IS NULL RETURNING id, user_id
    INSERT INTO refresh_tokens(digest, session_id, issued_at) VALUES ($new, $id, now())

with tokens stored as hex SHA-256 digests, the new token from `secrets.token_urlsafe(32)`, and an
EdDSA access token minted with PyJWT carrying Gatehouse's claims (iss aud sub sid jti iat exp scope;
header typ at+jwt and kid). Its tables live in their own schema, `baseline`, of the benchmark's
fresh database, shaped like Gatehouse's (same columns, unique and foreign keys, indexes).

Environment: BENCH_DATABASE_URL (postgresql://…), BENCH_ISSUER, BENCH_POOL_MIN/MAX (10/20, like
Gatehouse's pool size 10 + overflow 10); released connections are not reset (no RESET ALL round
trip). `POST /seed {"count": n}` creates n sessions and returns their refresh tokens (over HTTP,
like every other seed).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

AUDIENCE = "gatehouse"
ACCESS_TOKEN_TTL = 900
TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS baseline;
CREATE TABLE IF NOT EXISTS baseline.sessions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    absolute_expires_at timestamptz NOT NULL DEFAULT now() + interval '30 days',
    current_token varchar(64) NOT NULL UNIQUE,
    previous_token varchar(64),
    rotated_at timestamptz,
    revoked_at timestamptz,
    revoked_reason varchar(32),
    user_agent varchar(512),
    ip varchar(64)
);
CREATE INDEX IF NOT EXISTS ix_baseline_sessions_user_id ON baseline.sessions (user_id);
CREATE TABLE IF NOT EXISTS baseline.refresh_tokens (
    digest varchar(64) PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES baseline.sessions (id) ON DELETE CASCADE,
    issued_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_baseline_refresh_tokens_session_id ON baseline.refresh_tokens (session_id);
"""

ROTATE = """
UPDATE sessions SET current_token = $1, previous_token = current_token, last_used_at = now()
 WHERE current_token = $2 AND revoked_at IS NULL
RETURNING id, user_id
"""
RECORD = "INSERT INTO refresh_tokens (digest, session_id, issued_at) VALUES ($1, $2, now())"


async def _no_reset(_conn: asyncpg.Connection) -> None:
    """By default asyncpg resets every released connection with a round trip (RESET ALL, UNLISTEN,
    advisory unlocks…). The statements here change no session state (and a transaction still open at
    release is rolled back by asyncpg regardless), so the ceiling skips that round trip."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RefreshRequest(BaseModel):
    refresh_token: str = Field(max_length=8192)


class SeedRequest(BaseModel):
    count: int = Field(ge=1, le=100_000)


def create_app() -> FastAPI:
    dsn = os.environ["BENCH_DATABASE_URL"]
    issuer = os.environ.get("BENCH_ISSUER", "http://127.0.0.1")
    key = Ed25519PrivateKey.generate()
    kid = secrets.token_urlsafe(32)  # the length of an RFC 7638 thumbprint, like Gatehouse's kid
    state: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            dsn, min_size=int(os.environ.get("BENCH_POOL_MIN", "10")),
            max_size=int(os.environ.get("BENCH_POOL_MAX", "20")),
            server_settings={"search_path": "baseline", "application_name": "bench-baseline-asyncpg"},
            reset=_no_reset)
        async with pool.acquire() as conn:
            await conn.execute(SCHEMA)
        state["pool"] = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/health")
    async def health():  # type: ignore[no-untyped-def]  # unannotated: no response model
        return {"status": "ok"}

    @app.post("/seed")
    async def seed(body: SeedRequest):  # type: ignore[no-untyped-def]  # unannotated: no response model
        tokens = [secrets.token_urlsafe(32) for _ in range(body.count)]
        rows = [(uuid.uuid4(), uuid.uuid4(), digest(t)) for t in tokens]
        async with state["pool"].acquire() as conn, conn.transaction():
            await conn.executemany("INSERT INTO sessions (id, user_id, current_token) VALUES ($1, $2, $3)", rows)
            await conn.executemany("INSERT INTO refresh_tokens (digest, session_id, issued_at) "
                                   "VALUES ($1, $2, now())", [(d, sid) for sid, _, d in rows])
        return {"refresh_tokens": tokens}

    @app.post("/auth/refresh")
    async def refresh(body: RefreshRequest):  # type: ignore[no-untyped-def]  # unannotated: no response model
        presented = digest(body.refresh_token)
        new_token = secrets.token_urlsafe(32)
        new_digest = digest(new_token)
        async with state["pool"].acquire() as conn, conn.transaction():
            row = await conn.fetchrow(ROTATE, new_digest, presented)
            if row is None:
                return JSONResponse({"code": "invalid_refresh_token", "status": 401}, status_code=401,
                                    media_type="application/problem+json")
            await conn.execute(RECORD, new_digest, row["id"])
        now = int(time.time())
        claims = {"iss": issuer, "aud": AUDIENCE, "sub": str(row["user_id"]), "sid": str(row["id"]),
                  "jti": uuid.uuid4().hex, "iat": now, "exp": now + ACCESS_TOKEN_TTL, "scope": ""}
        access_token = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid, "typ": "at+jwt"})
        return JSONResponse({"access_token": access_token, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_TTL,
                             "refresh_token": new_token, "scope": ""}, headers=TOKEN_HEADERS)

    return app
