"""Opaque refresh tokens: 256 random bits, or with a grace window, an HMAC-derived successor.

Why it is built this way: docs/adr/0003-refresh-rotation.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from domain.ports import RefreshTokenFactory
from domain.session import BROWSER_TOKEN_MARK, is_browser_token


class SecureRefreshTokenFactory(RefreshTokenFactory):
    """Without a grace window every token is fresh CSPRNG output (`secrets.token_urlsafe(32)`).

    With one, a retry of the just-spent token must get the *same* successor, and we store no
    plaintext: the successor is HMAC-SHA256(key, spent token). Only someone holding both the spent
    token and the server key can compute it, the server recomputes it on a retry and compares its
    digest with the session's current one, and the database still holds digests only.
    """

    def __init__(self, successor_key: bytes | None) -> None:
        self._key = successor_key

    def new_token(self, *, browser: bool = False) -> str:
        return (BROWSER_TOKEN_MARK if browser else "") + secrets.token_urlsafe(32)

    def successor(self, spent: str) -> str:
        browser = is_browser_token(spent)
        if self._key is None:
            return self.new_token(browser=browser)
        mac = hmac.new(self._key, spent.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
        return (BROWSER_TOKEN_MARK if browser else "") + base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")
