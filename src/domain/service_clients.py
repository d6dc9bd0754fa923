"""Service clients: the other services of a deployment that may ask Gatehouse about a token (RFC 7662)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import InvalidClientName
from domain.tokens import TokenDigest

MAX_CLIENT_NAME_LENGTH = 100
MAX_CLIENT_ID_LENGTH = 64  # ours are 32 hex digits; a longer id presented is nobody's, and is not looked up


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
        return self.secret.matches_secret(presented_secret)


def check_client_name(name: str) -> str:
    if not name.strip() or len(name) > MAX_CLIENT_NAME_LENGTH or not name.isprintable():
        raise InvalidClientName(f"A client name is 1 to {MAX_CLIENT_NAME_LENGTH} printable characters")
    return name
