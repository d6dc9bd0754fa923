"""CSRF tokens bound to a session: HMAC-SHA256 of the session id under a key derived for this purpose.

A token holds nothing secret and needs no storage: it is valid for exactly one session, for the session's whole
life (tabs keep theirs across refreshes), and a token of another session, or one made up, fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from uuid import UUID

from infrastructure.security.keys import KeyRing


class SessionCsrfTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_keyring(cls, keyring: KeyRing) -> SessionCsrfTokens:
        return cls(keyring.derive("csrf-token"))

    def for_session(self, session_id: UUID) -> str:
        digest = hmac.new(self._key, session_id.bytes, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def admits(self, session_id: UUID, token: str) -> bool:
        return hmac.compare_digest(self.for_session(session_id).encode(), token.encode("utf-8", "replace"))
