"""How the app is put together, seen from outside: its routes are the app's own (so FastAPI's
`dependency_overrides` reach them), FastAPI's OpenTelemetry is on only when configured, and each request's
access line reaches the log stream once the event loop turns."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from opentelemetry import trace

from api.app import create_app
from api.deps import bearer_principal
from api.logging_setup import configure_logging
from domain.tokens import Principal
from tests.api.helpers import account, bearer, register
from tests.conftest import AppFactory, client_for, make_settings


async def test_dependency_overrides_reach_the_routes(app_factory: AppFactory) -> None:
    """The bearer chain replaced through `app.dependency_overrides`, as a test of an extension would."""
    app, _ = await app_factory()
    async with client_for(app) as client:
        user = await register(client)

        async def as_that_user() -> Principal:
            return Principal(user_id=uuid.UUID(user["id"]), session_id=uuid.uuid4(), scope="",
                             token_expires_at=datetime.now(UTC) + timedelta(minutes=5))

        assert (await client.get("/users/me")).status_code == 401
        app.dependency_overrides[bearer_principal] = as_that_user
        answer = await client.get("/users/me")
        assert answer.status_code == 200, answer.text
        assert answer.json()["id"] == user["id"]
        app.dependency_overrides.clear()
        assert (await client.get("/users/me")).status_code == 401


class RecordingTracer(trace.NoOpTracer):
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def start_span(self, name: str, *args: Any, **kwargs: Any) -> trace.Span:
        self.names.append(name)
        return trace.INVALID_SPAN


class RecordingTracerProvider(trace.TracerProvider):  # not a NoOpTracerProvider: FastAPI skips those
    def __init__(self) -> None:
        self.spans: list[str] = []

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return RecordingTracer(self.spans)


@pytest.fixture
def tracer_provider(monkeypatch: pytest.MonkeyPatch) -> RecordingTracerProvider:
    """A configured global tracer provider, for this test only (set_tracer_provider works once per process)."""
    provider = RecordingTracerProvider()
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)
    return provider


@pytest.mark.parametrize("enabled", [False, True])
async def test_fastapi_telemetry_only_when_configured(app_factory: AppFactory, enabled: bool,
                                                      tracer_provider: RecordingTracerProvider) -> None:
    app, _ = await app_factory(opentelemetry=enabled)
    async with client_for(app) as client:
        who = await account(client)
        assert (await client.get("/users/me", headers=bearer(who.tokens["access_token"]))).status_code == 200
    if enabled:
        assert tracer_provider.spans.count("GET") == 1  # GET /users/me, with its operations' spans
        assert {"fastapi.dependencies", "fastapi.endpoint"} <= set(tracer_provider.spans)
    else:
        assert tracer_provider.spans == []


@asynccontextmanager
async def served(tmp_path: Path, database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(tmp_path, database_url), access_log=True)
    async with app.router.lifespan_context(app):
        yield app


async def test_each_request_has_its_access_line(tmp_path: Path, database_url: str) -> None:
    configure_logging("info")  # as create_app does (this test may be the process's first)
    handler: logging.StreamHandler[Any] = logging.getLogger("gatehouse")._gatehouse_handler  # type: ignore[attr-defined]
    lines = io.StringIO()
    previous = handler.setStream(lines)
    try:
        async with served(tmp_path, database_url) as app, client_for(app) as client:
            answers = await asyncio.gather(*(client.get("/health", headers={"X-Request-ID": f"line-{n}"})
                                             for n in range(5)))
            await client.get("/users/me", headers=bearer("not-a-token"), params={"q": "secret"})
            await asyncio.sleep(0)  # the loop turns: the lines are written
            written = [json.loads(line) for line in lines.getvalue().splitlines()]
    finally:
        if previous is not None:
            handler.setStream(previous)
    access = [entry for entry in written if entry["logger"] == "gatehouse.access"]
    assert {a.headers["x-request-id"] for a in answers} == {f"line-{n}" for n in range(5)}
    assert sorted(e["request_id"] for e in access if e["path"] == "/health") == [f"line-{n}" for n in range(5)]
    refused = next(e for e in access if e["path"] == "/users/me")
    assert (refused["status"], refused["method"], refused["client"]) == (401, "GET", "203.0.113.7")
    for secret in ("secret", "not-a-token"):  # neither the query nor a header
        assert secret not in lines.getvalue()
    assert set(refused) == {"ts", "level", "logger", "msg", "method", "path", "status", "duration_ms",
                            "request_id", "client"}
