"""Structured (JSON lines) logging. Records carry only what they are given: never headers or bodies."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from infrastructure.db.errors import chain_of, is_driver_error, safe_description

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        error = ei[1]
        if not isinstance(error, BaseException) or not any(is_driver_error(e) for e in chain_of(error)):
            return super().formatException(ei)
        return scrubbed_traceback(error)


def scrubbed_traceback(error: BaseException) -> str:
    """The traceback of `error` and its causes, as Python prints it, but with each database error's
    message replaced by what may be logged of it (infrastructure/db/errors.py: never values or rows)."""
    parts = []
    for e in reversed(chain_of(error)):
        frames = "".join(traceback.format_tb(e.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}"
                     f"{type(e).__module__}.{type(e).__qualname__}: {safe_description(e)}")
    return "\n\nDuring handling of the above exception, another exception occurred:\n\n".join(parts)


def configure_logging(level: str) -> None:
    root = logging.getLogger("gatehouse")
    if getattr(root, "_gatehouse_configured", False):
        root.setLevel(level.upper())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
    root._gatehouse_configured = True  # type: ignore[attr-defined]
