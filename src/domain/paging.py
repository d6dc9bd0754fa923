"""Keyset paging: where a page ends, so the next one starts strictly after it (stable under inserts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from uuid import UUID

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Position:
    """A row's place in a listing ordered by (time, id): the last row of a page."""

    at: datetime
    id: UUID


def one_page(rows: list[T], limit: int, position: Callable[[T], Position]) -> tuple[list[T], Position | None]:
    """`rows`: what was read strictly after the previous page, `limit + 1` at most; the page, and where the
    next one starts (None: this is the last)."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], position(rows[limit - 1])
