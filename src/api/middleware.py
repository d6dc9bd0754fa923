"""Pure ASGI middleware: request ids, structured access logging, a body size limit, and the last line
of defence that turns any unexpected exception into a 500 problem (logged, never shown)."""

from __future__ import annotations

import logging
import random
import re
import time
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logging_setup import ACCESS_LINES, access_line, access_stream
from api.problems import problem_response
from infrastructure.db.errors import is_outage

if TYPE_CHECKING:
    from api.container import Container
    from infrastructure.metrics import PrometheusMetrics as Metrics

access_log = logging.getLogger("gatehouse.access")
error_log = logging.getLogger("gatehouse.errors")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# The scope key under which every request carries the application's container (api/deps.py: container_of),
# one dictionary lookup where `request.app.state.container` is three attribute reads, one through State's
# __getattr__ (~1 µs each time a route reaches the container, several times a request).
CONTAINER = "gatehouse.container"


def _new_request_id() -> str:
    """32 random hex digits. From `random` (reseeded in every forked child): a request id needs to be
    unique, not secret, and this is a fraction of uuid4's cost (~2 % of `/users/me` in profiles)
    without telling clients how many requests a worker has served."""
    return f"{random.getrandbits(128):032x}"


class GatehouseMiddleware:
    def __init__(self, app: ASGIApp, *, container: Container, max_body_bytes: int, access_log_enabled: bool,
                 metrics: Metrics | None = None) -> None:
        self.app = app
        self.container = container
        self.metrics = metrics  # PrometheusMetrics when metrics are on: request latency by route template
        self.max_body = max_body_bytes
        self.log_requests = access_log_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = self._request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        scope[CONTAINER] = self.container
        state: dict[str, Any] = {"status": 500, "started": False}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            too_large = self._declared_too_large(scope)
            if too_large:
                await self._reply(send_wrapper, 413, "payload_too_large",
                                  f"The request body exceeds {self.max_body} bytes")
            else:
                await self.app(scope, self._limited(receive), send_wrapper)
        except Exception as exc:
            self._log_failure(scope, request_id, exc)
            if not state["started"]:
                if is_outage(exc):
                    await self._reply(send_wrapper, 503, "storage_unavailable",
                                      "The database is unavailable; try again shortly", {"Retry-After": "1"})
                else:
                    await self._reply(send_wrapper, 500, "internal_error",
                                      "An unexpected error occurred; it has been logged.",
                                      request_id=request_id)
        finally:
            elapsed = time.perf_counter() - started
            if self.log_requests:
                self._log_request(scope, state["status"], round(elapsed * 1000, 2), request_id)
            if self.metrics is not None:
                route = scope.get("route")
                self.metrics.request_finished(scope["method"], getattr(route, "path", "unmatched"), elapsed)

    @staticmethod
    def _log_request(scope: Scope, status: int, duration_ms: float, request_id: str) -> None:
        method, path, client = scope["method"], scope["path"], str((scope.get("client") or ("-",))[0])
        stream = access_stream()
        if stream is None:  # logging configured otherwise (or above info): through logging, as any record
            ACCESS_LINES.flush()  # after the lines written directly before, in order
            access_log.info("request", extra={"method": method, "path": path, "status": status,
                                              "duration_ms": duration_ms, "request_id": request_id, "client": client})
            return
        ACCESS_LINES.add(stream, access_line(method, path, status, duration_ms, request_id, client))

    @staticmethod
    def _request_id(scope: Scope) -> str:
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate: str = value.decode("latin-1")
                if _REQUEST_ID.match(candidate):
                    return candidate
        return _new_request_id()

    def _declared_too_large(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    return int(value) > self.max_body
                except ValueError:
                    return False
        return False

    def _limited(self, receive: Receive) -> Receive:
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    # An HTTPException passes through FastAPI's body parsing untouched (anything else
                    # would become "error parsing the body"); the handler renders the 413 problem.
                    raise HTTPException(413, f"The request body exceeds {self.max_body} bytes")
            return message

        return limited_receive

    @staticmethod
    async def _reply(send: Send, status: int, code: str, detail: str,
                     headers: dict[str, str] | None = None, **extra: Any) -> None:
        response = problem_response(status, code, detail, headers=headers, **extra)
        await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})

    @staticmethod
    def _log_failure(scope: Scope, request_id: str, exc: Exception) -> None:
        if is_outage(exc):
            error_log.error("database unavailable during %s %s (request %s): %s", scope["method"],
                            scope["path"], request_id, type(exc).__name__)
        else:
            error_log.error("unhandled %s during %s %s (request %s)", type(exc).__name__, scope["method"],
                            scope["path"], request_id, exc_info=exc)
