"""RFC 9457 problem details: the one shape every error outside the OAuth endpoints takes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_body(status: int, code: str, detail: str, title: str | None = None,
                 **extra: Any) -> dict[str, Any]:
    return {
        "type": f"urn:gatehouse:problem:{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def problem_response(status: int, code: str, detail: str, title: str | None = None,
                     headers: Mapping[str, str] | None = None, **extra: Any) -> Response:
    body = json.dumps(problem_body(status, code, detail, title, **extra), ensure_ascii=False)
    return Response(body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_CONTENT_TYPE)
