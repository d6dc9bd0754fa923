"""The schema, as SQLAlchemy Core tables. Alembic migrations own it; rows never leave infrastructure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
    false,
    text,
)

from domain.items import MAX_TITLE_LENGTH
from domain.service_clients import MAX_CLIENT_NAME_LENGTH
from domain.session import MAX_IP_LENGTH, MAX_USER_AGENT_LENGTH
from domain.user import MAX_DISABLED_REASON_LENGTH, MAX_EMAIL_LENGTH, MAX_FULL_NAME_LENGTH, MAX_STORED_ROLES_LENGTH

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# The Alembic revision these tables are (migrations/versions: the newest). The readiness check compares the
# database's against it; tests/integration/test_migrations.py holds it to Alembic's head.
SCHEMA_REVISION = "0010"

metadata = MetaData(naming_convention=NAMING)
# An active account holding `admin`, in SQL (the domain's is `User.is_active_admin`): the predicate of the
# partial index the `last_admin` guard counts through (migration 0008 spells it the same way).
ACTIVE_ADMIN_SQL = "status = 'active' AND (' ' || roles || ' ') LIKE '% admin %'"
_REVOKED_SQL = "revoked_at IS NOT NULL"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (naive text, UTC by convention) as on Postgres."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)  # noqa: S101 - the column type guarantees it
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(MAX_EMAIL_LENGTH), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("full_name", String(MAX_FULL_NAME_LENGTH), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("credential_version", Integer, nullable=False, server_default="0"),  # domain/user.py
    Column("email_verified", Boolean, nullable=False, server_default=false()),
    Column("roles", String(MAX_STORED_ROLES_LENGTH), nullable=False, server_default=""),  # mappers.py: space-separated
    Column("status", String(16), nullable=False, server_default="active"),
    Column("disabled_reason", String(MAX_DISABLED_REASON_LENGTH), nullable=True),
    Column("last_login_at", UTCDateTime, nullable=True),
    Index("ix_users_created_at", "created_at", "id"),  # the admin listing's keyset order
    # The `last_admin` guard's count (statements.COUNT_ACTIVE_ADMINS uses ACTIVE_ADMIN_SQL, to the character).
    Index("ix_users_active_admins", "id", sqlite_where=text(ACTIVE_ADMIN_SQL), postgresql_where=text(ACTIVE_ADMIN_SQL)),
    # Postgres only (migration 0008): a trigram GIN index on email, for the listing's substring search.
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=False),
    Column("absolute_expires_at", UTCDateTime, nullable=False),
    Column("current_token", String(64), nullable=False, unique=True),
    Column("previous_token", String(64), nullable=True),
    Column("rotated_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("revoked_reason", String(32), nullable=True),
    Column("user_agent", String(MAX_USER_AGENT_LENGTH), nullable=True),
    Column("ip", String(MAX_IP_LENGTH), nullable=True),
    # the retention job's (migration 0010): absolute expiry is never updated, revocation set once
    Index("ix_sessions_absolute_expires_at", "absolute_expires_at"),
    Index("ix_sessions_revoked_at", "revoked_at", sqlite_where=text(_REVOKED_SQL), postgresql_where=text(_REVOKED_SQL)),
)

# Every refresh token issued, by digest, for as long as reuse detection needs it (the retention job
# forgets a spent one a session lifetime after it was spent): finds the session of a spent token.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("session_id", Uuid, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Index("ix_refresh_tokens_session_issued", "session_id", "issued_at"),
    Index("ix_refresh_tokens_issued_at", "issued_at"),  # the retention job's
)

items = Table(
    "items",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(MAX_TITLE_LENGTH), nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_items_owner_created", "owner_id", "created_at"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("message", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("recipient", String(MAX_EMAIL_LENGTH), nullable=True),  # None: the account's current address
    Column("recipient_verified", Boolean, nullable=True),  # whether `recipient` is proven (None: no recipient)
    Column("sealed_link", Text, nullable=True),  # encrypted; dropped once sent (domain/notifications.py)
    Index("ix_notifications_user_created", "user_id", "created_at"),
    Index("ix_notifications_status_created", "status", "created_at"),
)

# Attempt counters of the rate limits when no Redis is configured (infrastructure/rate_limit.py): one row
# per key (a digest: no address, email or user id stored), a fixed window from the first attempt counted
# in it; each limit has its own window length, so the row says when its window ends.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("window_ends_at", UTCDateTime, nullable=False),
    Column("hits", Integer, nullable=False),
    Index("ix_rate_limits_window_ends_at", "window_ends_at"),
)

# Reset and verification tokens (domain/account_tokens.py): the digest only, never the token.
account_tokens = Table(
    "account_tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("email", String(MAX_EMAIL_LENGTH), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("spent_at", UTCDateTime, nullable=True),  # used or voided
    Index("ix_account_tokens_user_kind", "user_id", "kind"),
    Index("ix_account_tokens_expires_at", "expires_at"),  # the retention job's
)

# Service clients (domain/service_clients.py): the SHA-256 of the secret, never the secret.
service_clients = Table(
    "service_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(MAX_CLIENT_NAME_LENGTH), nullable=False, unique=True),
    Column("secret_digest", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# The security log (domain/security_events.py): append-only, no foreign key (it outlives the account).
security_events = Table(
    "security_events",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("type", String(40), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(16), nullable=False),
    Column("actor_id", Uuid, nullable=True),
    Column("ip", String(MAX_IP_LENGTH), nullable=True),
    Column("user_agent", String(MAX_USER_AGENT_LENGTH), nullable=True),
    Column("session_id", Uuid, nullable=True),
    Index("ix_security_events_user_at", "user_id", "at", "id"),
    Index("ix_security_events_at", "at", "id"),  # the admin listing, across users
)
