"""The access line written straight to the log stream is exactly what the JSON formatter writes for the same
record: the same members, in the same order, escaped the same way."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re

import pytest

from api.logging_setup import AccessLines, JsonFormatter, access_line

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


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


async def test_lines_of_one_turn_of_the_loop_are_written_together_at_its_end() -> None:
    lines, stream = AccessLines(), CountingStream()
    for n in range(3):
        lines.add(stream, f"line {n}\n")
    assert stream.getvalue() == ""  # still this turn
    await asyncio.sleep(0)
    assert (stream.getvalue(), stream.writes) == ("line 0\nline 1\nline 2\n", 1)
    lines.add(stream, "line 3\n")
    await asyncio.sleep(0)
    assert stream.getvalue().endswith("line 2\nline 3\n")
    assert stream.writes == 2


async def test_a_new_stream_and_a_full_buffer_write_what_waits_at_once() -> None:
    lines, first, second = AccessLines(), CountingStream(), CountingStream()
    lines.add(first, "to the first\n")
    lines.add(second, "to the second\n")
    assert first.getvalue() == "to the first\n"
    assert second.getvalue() == ""
    for n in range(AccessLines._MAX_PENDING - 1):
        lines.add(second, f"{n}\n")
    assert second.writes == 1  # the 256th line wrote them all, in the same turn
    lines.flush()  # as the service's shutdown does
    assert second.writes == 1


def test_outside_an_event_loop_a_line_is_written_at_once() -> None:
    lines, stream = AccessLines(), CountingStream()
    lines.add(stream, "now\n")
    assert stream.getvalue() == "now\n"


def test_a_stream_that_cannot_be_written_fails_nothing() -> None:
    lines, stream = AccessLines(), CountingStream()
    stream.close()
    lines.add(stream, "lost\n")  # written at once (no loop): the ValueError is suppressed, as logging does
    later = io.StringIO()
    lines.add(later, "next\n")
    assert later.getvalue() == "next\n"


def test_a_line_after_a_loop_that_stopped_before_its_turn_is_still_written_at_the_next_loops_turn() -> None:
    lines, stream = AccessLines(), CountingStream()

    async def add_and_stop() -> None:
        lines.add(stream, "first\n")
        asyncio.get_running_loop().stop()  # the loop ends with this turn, before the one that would write it

    stopped = asyncio.new_event_loop()
    task = stopped.create_task(add_and_stop())
    stopped.run_forever()
    stopped.close()
    assert task.done()
    assert stream.getvalue() == ""

    async def add_then_turn() -> None:
        lines.add(stream, "second\n")
        await asyncio.sleep(0)

    asyncio.run(add_then_turn())
    assert stream.getvalue() == "first\nsecond\n"
