"""Errors that travel as data. Each carries a stable machine code; HTTP mapping lives in the api layer."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"
    title: ClassVar[str] = "Request could not be completed"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title


class EmailTaken(DomainError):
    code, title = "email_taken", "Email already registered"


class WeakPassword(DomainError):
    code, title = "validation_error", "Password does not meet the policy"

    def __init__(self, detail: str, field: str = "password") -> None:
        super().__init__(detail)
        self.field = field


class InvalidEmail(DomainError):
    code, title = "validation_error", "Invalid email address"

    def __init__(self, detail: str | None = None, field: str = "email") -> None:
        super().__init__(detail)
        self.field = field


class InvalidRole(DomainError):
    code, title = "validation_error", "Invalid role"

    def __init__(self, detail: str, field: str = "roles") -> None:
        super().__init__(detail)
        self.field = field


class InvalidCredentials(DomainError):
    code, title = "invalid_credentials", "Invalid credentials"


class WrongCurrentPassword(DomainError):
    code, title = "invalid_credentials", "Current password is wrong"


class CredentialsChanged(DomainError):
    """The password changed after it was checked: nothing the check decided was written."""

    code, title = "invalid_credentials", "The password changed meanwhile"


class RateLimited(DomainError):
    code, title = "rate_limited", "Too many requests"

    def __init__(self, retry_after_seconds: int, what: str = "failed attempts") -> None:
        retry_after_seconds = max(1, retry_after_seconds)
        super().__init__(f"Too many {what}; retry in {retry_after_seconds} seconds")
        self.retry_after_seconds = retry_after_seconds


class InvalidRefreshToken(DomainError):
    """Unknown, expired, revoked or reused refresh token (one answer for all: nothing to learn from it)."""

    code, title = "invalid_refresh_token", "Invalid refresh token"


class NotAuthenticated(DomainError):
    code, title = "not_authenticated", "Not authenticated"


class InvalidToken(DomainError):
    code, title = "invalid_token", "Invalid access token"


class NotFound(DomainError):
    code, title = "not_found", "Not found"


class StorageUnavailable(DomainError):
    code, title = "storage_unavailable", "Storage temporarily unavailable"


class InvalidResetToken(DomainError):
    """Unknown, expired, used or voided: one answer for all."""

    code, title = "invalid_reset_token", "Invalid or expired reset link"


class InvalidVerificationToken(DomainError):
    code, title = "invalid_verification_token", "Invalid or expired verification link"


class AlreadyVerified(DomainError):
    code, title = "already_verified", "Email address already verified"


class EmailNotVerified(DomainError):
    code, title = "email_not_verified", "Email address not verified"


class AccountDisabled(DomainError):
    """The correct password of a disabled account (a wrong one is answered as any wrong password)."""

    code, title = "account_disabled", "Account disabled"


class Forbidden(DomainError):
    code, title = "forbidden", "Forbidden"


class CsrfFailed(DomainError):
    """A browser request that may not act on its cookies: no allowed Origin, or no CSRF token of its session."""

    code, title = "csrf_failed", "Cross-site request refused"


class LastAdmin(DomainError):
    code, title = "last_admin", "The last active admin must stay one"


class CannotActOnSelf(DomainError):
    code, title = "cannot_act_on_self", "An admin cannot do this to their own account"


class InvalidClientName(DomainError):
    code, title = "validation_error", "Invalid client name"


class ClientNameTaken(DomainError):
    code, title = "client_name_taken", "A service client has this name already"


class InvalidClient(DomainError):
    """Missing or wrong client authentication (RFC 6749 §5.2 `invalid_client`)."""

    code, title = "invalid_client", "Client authentication failed"
