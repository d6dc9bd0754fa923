"""What the service counts for its operators (the Metrics port; api/routers/metrics.py serves it). Every label
comes from one of these fixed sets, so a label never holds a user id, an address or a token."""

from __future__ import annotations

import enum

from domain.notifications import NotificationKind


class LoginResult(enum.StrEnum):
    SUCCESS = "success"
    INVALID_CREDENTIALS = "invalid_credentials"
    RATE_LIMITED = "rate_limited"
    DISABLED = "disabled"
    UNVERIFIED = "unverified"  # GATEHOUSE_REQUIRE_VERIFIED_EMAIL


class RefreshResult(enum.StrEnum):
    ROTATED = "rotated"
    GRACE_RETRY = "grace_retry"
    REUSE_DETECTED = "reuse_detected"
    INVALID = "invalid"


class VerificationResult(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"  # signature, expiry, issuer, audience, type: the token itself
    SESSION_ENDED = "session_ended"


class DeliveryOutcome(enum.StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"  # an attempt failed; another follows
    FAILED = "failed"  # the last attempt failed
    WITHHELD = "withheld"


class RateLimit(enum.StrEnum):
    """The limits whose refusals are counted: the container names each limit by one of these."""

    LOGIN = "login"
    PASSWORD_CHECK = "password-check"  # noqa: S105 - a name, not a secret
    MESSAGES = "messages"
    RESET_REQUESTS = "reset-requests"
    RESET_MAILS = "reset-mails"
    VERIFICATION_MAILS = "verification-mails"


class NoMetrics:
    """Counts nothing: the Metrics port when metrics are off (the default), and in unit tests."""

    def login(self, result: LoginResult) -> None: ...
    def refresh(self, result: RefreshResult) -> None: ...
    def token_verified(self, result: VerificationResult) -> None: ...
    def notification(self, kind: NotificationKind, outcome: DeliveryOutcome) -> None: ...
    def rate_limited(self, limit: RateLimit) -> None: ...
    def password_hashed(self, seconds: float) -> None: ...


NO_METRICS = NoMetrics()
