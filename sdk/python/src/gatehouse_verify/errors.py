"""What can go wrong when a token is checked, as exceptions a caller can tell apart."""

from __future__ import annotations


class VerificationError(Exception):
    """Base of the package's errors; the message is safe to show a client (it never holds the token)."""


class InvalidToken(VerificationError):
    """The token is not one this service accepts: forged, expired, for another audience, revoked (strict mode)."""


class InsufficientScope(VerificationError):
    """The token is valid but lacks a role or scope the route needs."""


class Unavailable(VerificationError):
    """The token could not be checked because Gatehouse could not be reached (or answered with an error)."""


class ConfigurationError(VerificationError):
    """The verifier cannot work as configured, e.g. an HS256 Gatehouse (no public keys) without strict mode."""


class ClientRejected(Unavailable):
    """Gatehouse refused this service's introspection credentials: a misconfiguration, never trusted away."""
