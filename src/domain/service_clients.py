"""Service clients: the other services of a deployment that may ask Gatehouse about a token (RFC 7662)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import InvalidClientName
from domain.tokens import TokenDigest

MAX_CLIENT_NAME_LENGTH = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceClient:
    """One client. Its secret is 256 random bits, so a fast hash is all it needs (a slow password hash per
    introspection would make the endpoint a lever for denial of service): only its SHA-256 is kept, and a
    presented secret is compared with it in constant time."""

    client_id: str
    name: str
    secret: TokenDigest = field(repr=False)
    created_at: datetime

    def __post_init__(self) -> None:
        check_client_name(self.name)

    def admits(self, presented_secret: str) -> bool:
        # The digest compared as text, in constant time (no TokenDigest built: this runs on every introspection).
        presented = hashlib.sha256(presented_secret.encode("utf-8", "surrogatepass")).hexdigest()
        return hmac.compare_digest(self.secret.value, presented)


def check_client_name(name: str) -> str:
    if not name.strip() or len(name) > MAX_CLIENT_NAME_LENGTH or not name.isprintable():
        raise InvalidClientName(f"A client name is 1 to {MAX_CLIENT_NAME_LENGTH} printable characters")
    return name
