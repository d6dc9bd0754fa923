"""The FastAPI application factory and its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, cast

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from fastapi_offline import FastAPIOffline
from starlette.middleware.cors import CORSMiddleware

from api.browser import CSRF_HEADER
from api.container import Container
from api.delivery import DeliverAfterResponse, sweep_forever
from api.deps import include_flat
from api.docs_page import STATIC_URL, install_docs
from api.errors import install_error_handlers
from api.logging_setup import ACCESS_LINES, configure_logging
from api.middleware import GatehouseMiddleware
from api.retention import purge_forever
from api.routers import (
    accounts,
    admin,
    browser,
    items,
    notifications,
    oauth,
    pages,
    recovery,
    system,
    tokens,
)
from api.routers import metrics as metrics_route
from domain.observations import NO_METRICS
from infrastructure.db.probe import DatabaseState
from infrastructure.settings import Settings

if TYPE_CHECKING:
    from infrastructure.metrics import PrometheusMetrics

log = logging.getLogger("gatehouse")

_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
# On (GATEHOUSE_OPENTELEMETRY): spans and metrics; never FastAPI's exception logs, which carry exception text
# and tracebacks that Gatehouse's own log scrubs of database values (api/logging_setup.py).
_TELEMETRY: TelemetryConfig = {"logs": False}
DESCRIPTION = """Self-hosted token authentication: accounts, rotating refresh tokens, sessions and the
API's own protected resources. Use **Authorize** with your email as the username."""


def create_app(settings: Settings | None = None, *, container: Container | None = None,
               access_log: bool = True) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    container = container or Container(settings=settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = container.engine()
        if settings.should_auto_migrate:
            from infrastructure.db.migrate import upgrade  # Alembic is loaded only when it has work

            await upgrade(engine)
        container.keyring()  # fail fast on bad key configuration
        if not settings.cookie_secure:
            log.warning("GATEHOUSE_COOKIE_SECURE=false: browser cookies are sent without Secure and the __Host-/"
                        "__Secure- prefixes, over plain http too; for development hosts only")
        if settings.notifier == "log":
            log.warning("the log notifier is a development mailbox: every mail, reset and verification links "
                        "included, is written to %s; set GATEHOUSE_NOTIFIER=smtp to mail people",
                        settings.resolved_notification_log)
        found = await container.database_probe().check()
        if found.state is DatabaseState.NOT_MIGRATED:  # serve on (ready once migrated), but say so
            log.error("not ready: %s", found.hint)
        sweeper = asyncio.create_task(sweep_forever(container, settings.notify_sweep_interval_seconds))
        purger = asyncio.create_task(purge_forever(container, settings.retention_interval_seconds))
        # Everything built so far lives as long as the process: move it out of the garbage collector's
        # reach, so full collections under load scan only request garbage (they took ~150 ms each,
        # showing up as p99 spikes in the refresh benchmark).
        gc.collect()
        gc.freeze()
        log.info("gatehouse started", extra={"database": engine.url.get_backend_name(),
                                             "algorithm": settings.jwt_algorithm})
        try:
            yield
        finally:
            ACCESS_LINES.flush()  # the access lines of the last turn
            for task in (sweeper, purger):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await container.lifetime().aclose()  # the engine, the asyncpg pool, the cache's listener

    app = FastAPIOffline(docs_url=None, static_url=STATIC_URL, title="Gatehouse", version="1.0.0",
                         description=DESCRIPTION, lifespan=lifespan,
                         swagger_ui_parameters={"persistAuthorization": True},
                         # FastAPI's native OpenTelemetry looks up the global providers on every request, configured
                         # or not: only when asked for (GATEHOUSE_OPENTELEMETRY), as /metrics is.
                         telemetry=_TELEMETRY if settings.opentelemetry else _NO_TELEMETRY)
    install_docs(app)  # /docs with the Authorize dialog trimmed to what Gatehouse uses
    app.state.container = container
    install_error_handlers(app)
    # Routes are matched in order: the hottest (GET /users/me, then the token endpoints) come first.
    for module in (accounts, tokens, oauth, items, notifications, recovery, browser, admin, system, pages):
        include_flat(app, module.router)
    if settings.metrics_token is not None:  # else /metrics is unknown to every method
        include_flat(app, metrics_route.router)
    metrics = container.metrics()
    app.add_middleware(GatehouseMiddleware, container=container, max_body_bytes=settings.max_body_bytes,
                       access_log_enabled=access_log,
                       metrics=cast("PrometheusMetrics", metrics) if metrics is not NO_METRICS else None)
    if settings.allowed_origins:  # browser apps on these origins (only): CORS with credentials, preflights answered
        app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins, allow_credentials=True,
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", CSRF_HEADER], max_age=600)
    app.add_middleware(DeliverAfterResponse, container=container)  # outermost: after the response is sent
    return app


def create_app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory api.app:create_app_from_env` (each worker builds its own)."""
    import os

    return create_app(access_log=os.environ.get("GATEHOUSE_ACCESS_LOG", "1") != "0")
