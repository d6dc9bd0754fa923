"""The verified claims of an access token, as a route receives them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class Claims:
    """Who the token speaks for and what it allows. `roles` are the ones in the token, or in strict mode the
    user's roles as Gatehouse answers them now; `raw` is every claim as received (read-only)."""

    subject: str
    session_id: str | None
    issuer: str
    audience: tuple[str, ...]
    token_id: str
    issued_at: datetime
    expires_at: datetime
    scopes: frozenset[str]
    roles: frozenset[str]
    raw: Mapping[str, Any]

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], *, roles: frozenset[str] | None = None) -> Claims:
        """Claims from a JWT payload or an RFC 7662 answer (the same member names); raises ValueError when a
        member has the wrong type."""
        audience = payload["aud"]
        audiences = (audience,) if isinstance(audience, str) else tuple(audience)
        scope = payload.get("scope") or ""
        token_roles = payload.get("roles") or []
        if not isinstance(scope, str) or not isinstance(token_roles, list) or not all(
                isinstance(r, str) for r in token_roles) or not all(isinstance(a, str) for a in audiences):
            raise ValueError("a claim has the wrong type")
        sid = payload.get("sid")
        return cls(
            subject=str(payload["sub"]), session_id=None if sid is None else str(sid), issuer=str(payload["iss"]),
            audience=audiences, token_id=str(payload.get("jti", "")),
            issued_at=_instant(payload["iat"]), expires_at=_instant(payload["exp"]),
            scopes=frozenset(scope.split()), roles=frozenset(token_roles) if roles is None else roles,
            raw=MappingProxyType(dict(payload)),
        )

    def with_roles(self, roles: frozenset[str]) -> Claims:
        return Claims(self.subject, self.session_id, self.issuer, self.audience, self.token_id, self.issued_at,
                      self.expires_at, self.scopes, roles, self.raw)


def _instant(value: object) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a time claim is not a number")
    return datetime.fromtimestamp(value, UTC)
