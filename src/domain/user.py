"""Users and the value objects around them."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import idna

from domain.errors import InvalidEmail, InvalidRole

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 320
MAX_FULL_NAME_LENGTH = 200
# What a login accepts, longer than what registration stores: an over-long password is still answered
# like a wrong one (after a dummy verification), so the limit itself tells a guesser nothing.
MAX_LOGIN_EMAIL_LENGTH = 1024
MAX_LOGIN_PASSWORD_LENGTH = 4096
MAX_DISABLED_REASON_LENGTH = 500

ADMIN = "admin"  # the one built-in role: it opens /admin
MAX_ROLES = 20
MAX_ROLE_LENGTH = 64
MAX_STORED_ROLES_LENGTH = MAX_ROLES * (MAX_ROLE_LENGTH + 1)
_ROLE = re.compile(r"[a-z0-9][a-z0-9_.:-]*")


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # by an admin: no login, no session, no refresh


def parse_roles(names: Iterable[str]) -> tuple[str, ...]:
    """Roles as an account holds them: each a lowercase name (letters, digits, `_.:-`, at most 64
    characters, no spaces), at most 20, sorted, each once. Raises InvalidRole for anything else."""
    roles = set()
    for name in names:
        if not isinstance(name, str) or len(name) > MAX_ROLE_LENGTH or not _ROLE.fullmatch(name):
            raise InvalidRole(f"{name!r} is not a role name: lowercase letters, digits and _ . : - "
                              f"(starting with a letter or digit), at most {MAX_ROLE_LENGTH} characters")
        roles.add(name)
    if len(roles) > MAX_ROLES:
        raise InvalidRole(f"At most {MAX_ROLES} roles per account")
    return tuple(sorted(roles))


@dataclass(frozen=True, slots=True)
class Email:
    """An email address as it is stored: one spelling per mailbox ("One mailbox, one account").

    `normalize` is the rule: trimmed, Unicode NFKC, lowercased as a whole, and the domain through IDNA
    (UTS #46) and back to its Unicode spelling, so an address with a fullwidth "e" (U+FF45) is the one
    with an "e", and `a@xn--bcher-kva.example` is `a@bücher.example`. That form is what is stored, compared and
    rate-limited. (Accounts that collided when this rule replaced v1's NFC-only one keep their stored
    spelling: `earlier_spelling` finds them; migration 0006 reported them.) Syntax (RFC 5322/6531) is
    checked at the edge by a real validator; this class keeps the cheap invariants every address holds.
    """

    value: str

    def __post_init__(self) -> None:
        v = self.value
        if (not v or len(v) > MAX_EMAIL_LENGTH or "@" not in v
                or (v != Email.normalize(v) and v != Email.earlier_spelling(v))):
            raise InvalidEmail("Not a normalized email address")

    @staticmethod
    def fold(raw: str) -> str:
        """Trimmed, NFKC, lowercased: every step of `normalize` but the domain's IDNA one (which needs a whole
        domain), so also what a piece of an address is compared in (the admin search)."""
        # NFKC again after lowercasing: lowercasing can leave combining marks out of canonical order
        # (e.g. U+0130 becomes "i" + U+0307), and the stored form must be normalised and stable.
        return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw.strip()).lower())

    @staticmethod
    def normalize(raw: str) -> str:
        text = Email.fold(raw)
        local, at, domain = text.rpartition("@")
        return f"{local}{at}{_unicode_domain(domain)}" if at else text

    @staticmethod
    def earlier_spelling(raw: str) -> str:
        """The v1 rule (NFC, lowercased): the spelling of an account that collided under `normalize`."""
        return unicodedata.normalize("NFC", unicodedata.normalize("NFC", raw.strip()).lower())

    @classmethod
    def parse(cls, raw: str) -> Email:
        return cls(cls.normalize(raw))

    def with_ascii_domain(self) -> str:
        """The address with its domain as IDNA A-labels (what mail servers without SMTPUTF8 take)."""
        local, _, domain = self.value.rpartition("@")
        if domain.isascii():
            return self.value
        try:
            return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
        except (idna.IDNAError, UnicodeError):
            return self.value

    def __str__(self) -> str:
        return self.value


def _unicode_domain(domain: str) -> str:
    """The domain's one Unicode spelling (IDNA 2008 with UTS #46 mapping); as it is when it is not a
    valid domain name (the validator at the edge refuses it, and a login with it finds no account)."""
    if domain.isascii() and "xn--" not in domain:
        return domain  # nothing IDNA would change (already lowercased)
    try:
        return str(idna.decode(idna.encode(domain, uts46=True)))
    except (idna.IDNAError, UnicodeError):
        return domain


@dataclass(frozen=True, slots=True)
class PasswordHash:
    value: str = field(repr=False)


@dataclass(slots=True, kw_only=True)
class User:
    id: UUID
    email: Email
    password_hash: PasswordHash = field(repr=False)
    full_name: str | None
    created_at: datetime
    updated_at: datetime
    # Goes up with every change of the password. What was decided by checking a password (a session
    # started, a stronger hash of the same password) is written only while the version is still the
    # one that was read with the hash, so a check that raced a change cannot outlive it.
    credential_version: int = 0
    email_verified: bool = False
    roles: tuple[str, ...] = ()  # parse_roles' form
    status: AccountStatus = AccountStatus.ACTIVE
    disabled_reason: str | None = None
    last_login_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.status is AccountStatus.ACTIVE

    @property
    def is_active_admin(self) -> bool:
        """Holds `admin` and may use it now (the `last_admin` guard counts exactly these)."""
        return self.is_active and ADMIN in self.roles

    def set_roles(self, roles: tuple[str, ...], now: datetime) -> None:
        self.roles = parse_roles(roles)
        self.updated_at = now

    def disable(self, reason: str | None, now: datetime) -> None:
        self.status = AccountStatus.DISABLED
        self.disabled_reason = reason
        self.updated_at = now

    def enable(self, now: datetime) -> None:
        self.status = AccountStatus.ACTIVE
        self.disabled_reason = None
        self.updated_at = now

    def rename(self, full_name: str | None, now: datetime) -> None:
        self.full_name = full_name
        self.updated_at = now

    def change_password_hash(self, new_hash: PasswordHash, now: datetime) -> None:
        """A new password: the credentials the old one proved are void."""
        self.password_hash = new_hash
        self.credential_version += 1
        self.updated_at = now

    def change_email(self, new_email: Email, now: datetime) -> None:
        """A change of address takes effect only once the new address is proven (its link confirmed)."""
        self.email = new_email
        self.email_verified = True
        self.updated_at = now

    def rehash(self, new_hash: PasswordHash) -> None:
        """The same password under stronger hashing parameters: the credentials stay what they were."""
        self.password_hash = new_hash
