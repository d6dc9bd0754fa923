"""Canonical unpadded base64url (RFC 4648 §5, as JWS compact serialization uses it, RFC 7515 §2).

Decoders accept more than one spelling of the same bytes (padding, and non-zero unused bits in the last
character), so a token could be presented in several spellings that all verify. Only the one canonical
spelling is accepted here.
"""

from __future__ import annotations

import re

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Unused low bits of the last character: 4 when the segment's length is 2 (mod 4), 2 when it is 3.
_UNUSED_BITS_MASK = {0: 0, 2: 0b1111, 3: 0b11}


def is_canonical(segment: str) -> bool:
    """Whether `segment` is the canonical unpadded base64url encoding of some bytes."""
    if _SEGMENT.fullmatch(segment) is None:
        return False
    mask = _UNUSED_BITS_MASK.get(len(segment) % 4)
    if mask is None:  # a length of 1 (mod 4) encodes no whole byte
        return False
    return mask == 0 or _ALPHABET.index(segment[-1]) & mask == 0


def is_canonical_jws(token: str) -> bool:
    """Three canonical segments separated by dots (a JWS in compact serialization)."""
    parts = token.split(".")
    return len(parts) == 3 and all(is_canonical(part) for part in parts)
