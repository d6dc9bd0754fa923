"""Time formatting helpers (no domain knowledge)."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(moment: datetime) -> str:
    """RFC 3339 UTC with a `Z`, e.g. 2026-11-28T04:07:39.123456Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
