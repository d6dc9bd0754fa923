"""The access line written straight to the log stream is exactly what the JSON formatter writes for the same
record: the same members, in the same order, escaped the same way."""

from __future__ import annotations

import json
import logging
import re

import pytest

from api.logging_setup import JsonFormatter, access_line

_TS = re.compile(r'"ts": "[^"]+"')


@pytest.mark.parametrize("path", ["/users/me", "/items/5b0c2f7e", '/a"quote', "/back\\slash", "/ünïcode/✓",
                                  "/tab\there", "/nul\x00", "/del\x7f", ""])
def test_the_line_is_the_formatters_line(path: str) -> None:
    method, request_id, client = "GET", "ab" * 16, "2001:db8::1"
    fields = {"method": method, "path": path, "status": 200, "duration_ms": 1.23, "request_id": request_id,
              "client": client}
    record = logging.LogRecord("gatehouse.access", logging.INFO, __file__, 1, "request", (), None)
    record.__dict__.update(fields)
    expected = JsonFormatter().format(record)
    line = access_line(method, path, 200, 1.23, request_id, client)
    assert line.endswith("\n")
    assert _TS.sub("TS", line.rstrip("\n")) == _TS.sub("TS", expected)
    ts = json.loads(line)["ts"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", ts), ts
