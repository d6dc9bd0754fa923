"""The sibling service of the `sibling` scenarios: another team's FastAPI app protected by gatehouse-verify.

`GET /orders` is behind `verifier.require()` (keys from Gatehouse's JWKS, checked in this process);
`GET /orders/strict` is behind a strict verifier (each token also checked at Gatehouse's /auth/introspect,
answers remembered up to a second). Both answer the small JSON object the bare FastAPI route answers, so the
difference to that route is what the protection costs. Served by the bench with the same uvicorn flags:

    BENCH_ISSUER=http://127.0.0.1:PORT BENCH_INTROSPECT=client_id:client_secret \\
    uvicorn --app-dir bench --factory sibling_app:create_app --loop uvloop --http httptools --no-access-log
"""

# No `from __future__ import annotations`: the routes' annotations name the verifiers, locals of create_app,
# which FastAPI can only see when they are evaluated in place.
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from baseline_fastapi import USER  # type: ignore[import-not-found]  # a sibling module (uvicorn --app-dir bench)
from fastapi import Depends, FastAPI

from gatehouse_verify import Claims, GatehouseVerifier


def create_app() -> FastAPI:
    issuer = os.environ["BENCH_ISSUER"]
    client_id, _, secret = os.environ["BENCH_INTROSPECT"].partition(":")
    verifier = GatehouseVerifier(issuer=issuer, audience="gatehouse")
    strict = GatehouseVerifier(issuer=issuer, audience="gatehouse", introspect=(client_id, secret))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await verifier.start()
        await strict.start()
        yield
        await verifier.aclose()
        await strict.aclose()

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)

    @app.get("/orders")
    async def orders(claims: Annotated[Claims, Depends(verifier.require())]) -> Any:
        return USER

    @app.get("/orders/strict")
    async def orders_strict(claims: Annotated[Claims, Depends(strict.require())]) -> Any:
        return USER

    @app.get("/health")
    async def health() -> Any:
        return {"status": "ok"}

    return app
