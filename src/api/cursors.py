"""Opaque page cursors: the keyset position of a page's last row, base64url-encoded (opaque to clients;
not a secret: it names a position the caller has already seen)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from uuid import UUID

from domain.paging import Position


def encode_cursor(cursor: Position) -> str:
    raw = f"{cursor.at.astimezone(UTC).isoformat()}|{cursor.id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(text: str) -> Position:
    """Raises ValueError for anything `encode_cursor` did not make."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
        at, _, id_ = raw.partition("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError
        return Position(parsed.astimezone(UTC), UUID(id_))
    except (ValueError, OverflowError, binascii.Error, UnicodeError):
        raise ValueError("not a cursor of this listing: pass `next_cursor` from the previous page as it was") from None


def check_cursor(text: str | None) -> str | None:
    if text is not None:
        decode_cursor(text)
    return text
