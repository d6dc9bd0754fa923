"""Structured (JSON lines) logging. Records carry only what they are given: never headers or bodies."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sys
import time
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

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
    root._gatehouse_handler = handler  # type: ignore[attr-defined]


_ROOT = logging.getLogger("gatehouse")  # getLogger takes logging's lock: looked up once, not per request
_ACCESS = logging.getLogger("gatehouse.access")


def access_stream() -> TextIO | None:
    """The stream access lines may be written to directly: the one JSON handler configure_logging() installed,
    when it is still the only one and "gatehouse.access" logs at info (None otherwise: then use logging)."""
    handler: logging.StreamHandler[TextIO] | None = getattr(_ROOT, "_gatehouse_handler", None)
    handlers = _ROOT.handlers
    if handler is None or len(handlers) != 1 or handlers[0] is not handler or not _ACCESS.isEnabledFor(logging.INFO):
        return None
    return handler.stream


class AccessLines:
    """Access lines made during one turn of the event loop, written to their stream together at its end.

    stderr is line-buffered, so a line written per request is a `write` system call per request on the
    event loop (~9 µs under strace here, a fourth syscall beside reading the request and writing its
    head and body). Lines are kept until the loop's next turn (`call_soon`: after every callback ready
    now, so the requests served in this turn) and written in one call; a quiet service still writes
    each line within the turn that made it. At most `_MAX_PENDING` wait; a change of stream, a line
    written through `logging` instead, and the service's shutdown write what waits first. Outside an
    event loop a line is written at once. A process killed outright (SIGKILL, the OOM killer) loses the
    lines of the turn it was in.
    """

    _MAX_PENDING = 256

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._stream: TextIO | None = None
        self._scheduled_on: asyncio.AbstractEventLoop | None = None  # the loop whose next turn writes them

    def add(self, stream: TextIO, line: str) -> None:
        if self._lines and stream is not self._stream:
            self.flush()
        self._stream = stream
        self._lines.append(line)
        if len(self._lines) >= self._MAX_PENDING:
            self.flush()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no running loop
            self.flush()
            return
        if self._scheduled_on is not loop:  # not yet, or on a loop that stopped before its turn came
            self._scheduled_on = loop
            loop.call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled_on = None
        lines, stream = self._lines, self._stream
        if not lines or stream is None:
            return
        self._lines = []
        with contextlib.suppress(OSError, ValueError):  # as logging: a log that cannot be written fails no request
            stream.write("".join(lines))
            stream.flush()


ACCESS_LINES = AccessLines()


_PLAIN = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII but `"` and `\`: the same in JSON, unescaped
_second = -1
_second_text = ""


def access_line(method: str, path: str, status: int, duration_ms: float, request_id: str, client: str) -> str:
    """The access log line JsonFormatter writes for logger "gatehouse.access", message "request" and these fields,
    made in a few microseconds instead of ~40 (a LogRecord, the formatter's generic walk over it, json.dumps of
    the whole entry; measured in docs/PERFORMANCE.md). Strings a client chose are JSON-escaped as json.dumps does."""
    global _second, _second_text
    now = time.time()
    second = int(now)
    if second != _second:
        _second, _second_text = second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    millis = min(999, int((now - second) * 1000))
    return (f'{{"ts": "{_second_text}.{millis:03d}+00:00", "level": "info", "logger": "gatehouse.access", '
            f'"msg": "request", "method": {_json(method)}, "path": {_json(path)}, "status": {status}, '
            f'"duration_ms": {duration_ms!r}, "request_id": {_json(request_id)}, "client": {_json(client)}}}\n')


def _json(text: str) -> str:
    return f'"{text}"' if _PLAIN.fullmatch(text) else json.dumps(text, ensure_ascii=False)
