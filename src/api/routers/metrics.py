"""GET /metrics: Prometheus's text format, off the public API (not in the OpenAPI document).

The app includes this router only when GATEHOUSE_METRICS_TOKEN is set (otherwise the path is unknown to
every method, as any other); a scrape must bear that secret, compared in constant time. Bearer failures
are answered as every bearer failure is (`not_authenticated` without a token, `invalid_token` with another).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from datetime import UTC, datetime
from typing import cast

from fastapi import Request, Response

from api.deps import GatehouseRouter, authorization, bearer_token_of, container_of
from domain.errors import InvalidToken, NotAuthenticated
from infrastructure.metrics import CONTENT_TYPE, PrometheusMetrics, outbox_backlog

router = GatehouseRouter(include_in_schema=False)
log = logging.getLogger("gatehouse.metrics")
BACKLOG_TIMEOUT_SECONDS = 2.0


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    container = container_of(request)
    expected = container.settings().metrics_token  # set: the app routes here only then
    value = authorization(request.scope["headers"])
    presented = bearer_token_of(value) if value is not None else None
    if not presented:
        raise NotAuthenticated("GET /metrics needs the metrics token as a bearer token")
    if expected is None or not hmac.compare_digest(presented.encode(), expected.get_secret_value().encode()):
        raise InvalidToken("This is not the metrics token")
    try:  # the counts are the process's: they are answered even while the database is not
        backlog = await asyncio.wait_for(outbox_backlog(container.unit_of_work()), BACKLOG_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("metrics without the outbox gauges: the database did not answer (%s)", type(exc).__name__)
        backlog = None
    body = cast(PrometheusMetrics, container.metrics()).exposition(backlog, datetime.now(UTC))
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
