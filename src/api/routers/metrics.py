"""GET /metrics: Prometheus's text format, off the public API (not in the OpenAPI document).

Served only when GATEHOUSE_METRICS_TOKEN is set, and only to requests bearing it (compared in constant
time); otherwise the path is unknown (404), as if it did not exist.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import cast

from fastapi import APIRouter, Request, Response
from starlette.exceptions import HTTPException

from api.deps import container_of
from api.problems import problem_response
from infrastructure.metrics import CONTENT_TYPE, PrometheusMetrics, outbox_backlog

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    container = container_of(request)
    expected = container.settings().metrics_token
    if expected is None:
        raise HTTPException(404)  # answered as any unknown path is
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(),
                                                            expected.get_secret_value().encode()):
        return problem_response(401, "invalid_token", "GET /metrics needs the metrics token as a bearer token",
                                "Unauthorized", headers={"WWW-Authenticate": 'Bearer realm="gatehouse-metrics"'})
    queued, oldest = await outbox_backlog(container.unit_of_work())
    body = cast(PrometheusMetrics, container.metrics()).exposition(queued, oldest, datetime.now(UTC))
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
