"""Keyset paging: where a page ends, so the next one starts strictly after it (stable under inserts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Position:
    """A row's place in a listing ordered by (time, id): the last row of a page."""

    at: datetime
    id: UUID
