"""Baseline (a): a bare FastAPI app, the ceiling for any route on this machine.

One `async def` route returning a small JSON object (shaped like Gatehouse's user), no middleware, no
dependencies, no database. The bench (bench/run.py) serves it with the same uvicorn flags as Gatehouse:

    uvicorn --app-dir bench --factory baseline_fastapi:create_app --loop uvloop --http httptools \
            --workers 1 --no-access-log
"""

from __future__ import annotations

from fastapi import FastAPI

USER = {
    "id": "5b0c2f7e-7a53-4c1e-9d4f-0f1e2d3c4b5a",
    "email": "bench-user@example.com",
    "full_name": None,
    "created_at": "2026-01-01T00:00:00Z",
}


def create_app() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/users/me")
    async def me():  # type: ignore[no-untyped-def]  # unannotated: no response model, just JSON
        return USER

    @app.get("/health")
    async def health():  # type: ignore[no-untyped-def]  # unannotated: no response model
        return {"status": "ok"}

    return app
