"""Every statement the repositories run, each built once as SQLAlchemy Core with named bind parameters.

One source for both ways a statement runs: on a SQLAlchemy connection (transactions, and all of
SQLite), and on Postgres's asyncpg pool, where `AsyncpgRunner` compiles each of these objects once for
the asyncpg dialect and reuses its `$n` text (asyncpg_runner.py). Values never go into a statement:
each is a bind parameter named below and given at execution, so a statement is compiled once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Insert,
    Integer,
    String,
    Table,
    Uuid,
    and_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import Executable, Select

from domain.notifications import NotificationStatus
from domain.retention import Purgeable
from domain.user import AccountStatus
from infrastructure.db.tables import (
    ACTIVE_ADMIN_SQL,
    UTCDateTime,
    account_tokens,
    items,
    notifications,
    rate_limits,
    refresh_tokens,
    security_events,
    service_clients,
    sessions,
    users,
)

MAX_NOTIFICATIONS_LISTED = 500


def _insert_row(table: Table) -> Insert:
    """INSERT of one row, every column a bind parameter named after it."""
    return insert(table).values({c.name: bindparam(c.name, type_=c.type) for c in table.c})


_NOW = bindparam("now", type_=UTCDateTime)

# -- users ---------------------------------------------------------------------------------------

USER_BY_ID = select(users).where(users.c.id == bindparam("user_id"))
USER_BY_EMAIL = select(users).where(users.c.email == bindparam("email"))
INSERT_USER = _insert_row(users)
# Each change writes its own columns only, so concurrent changes of different fields both stay.
RENAME_USER = (update(users).where(users.c.id == bindparam("user_id"))
               .values(full_name=bindparam("full_name"), updated_at=bindparam("updated_at", type_=UTCDateTime)))
_AT_VERSION = and_(users.c.id == bindparam("user_id"), users.c.credential_version == bindparam("expected_version"))
CHANGE_PASSWORD = (update(users).where(_AT_VERSION)
                   .values(password_hash=bindparam("password_hash"),
                           credential_version=bindparam("new_version"),
                           updated_at=bindparam("updated_at", type_=UTCDateTime))
                   .returning(users.c.id))
REHASH_PASSWORD = update(users).where(_AT_VERSION).values(password_hash=bindparam("password_hash"))

MARK_VERIFIED = (update(users).where(users.c.id == bindparam("user_id"), users.c.email == bindparam("address"))
                 .values(email_verified=true()).returning(users.c.id))
CHANGE_EMAIL = (update(users).where(users.c.id == bindparam("user_id"))
                .values(email=bindparam("email"), email_verified=bindparam("email_verified"),
                        updated_at=bindparam("updated_at", type_=UTCDateTime)))
DELETE_USER = delete(users).where(users.c.id == bindparam("user_id")).returning(users.c.id)
_THE_USER = users.c.id == bindparam("user_id")
SET_ROLES = (update(users).where(_THE_USER)
             .values(roles=bindparam("roles"), updated_at=bindparam("updated_at", type_=UTCDateTime)))
SET_STATUS = (update(users).where(_THE_USER)
              .values(status=bindparam("status"), disabled_reason=bindparam("disabled_reason"),
                      updated_at=bindparam("updated_at", type_=UTCDateTime)))
RECORD_LOGIN = update(users).where(_THE_USER).values(last_login_at=_NOW)

# Who the active admins are changes one unit of work at a time (UserRepository.hold_admins): Postgres, a
# transaction-scoped advisory lock (any constant key of Gatehouse's own); SQLite, the database's write lock,
# taken by a statement that writes nothing as the transaction's first (what is read after it is current).
_ADMINS_LOCK_KEY = 0x6761_7465_6164_6D6E  # "gateadmn"
HOLD_ADMINS: dict[str, Executable] = {
    "postgresql": select(func.pg_advisory_xact_lock(literal(_ADMINS_LOCK_KEY, BigInteger))),
    "sqlite": update(users).where(false()).values(roles=users.c.roles),
}
# The same predicate as the partial index ix_users_active_admins (tables.py), so the count reads only it.
COUNT_ACTIVE_ADMINS = (select(func.count().label("admins")).select_from(users)
                       .where(text(ACTIVE_ADMIN_SQL), users.c.id != bindparam("besides", type_=Uuid)))


_SPACE = literal_column("' '", String)  # inline: the role filter's frame, the same in every plan


@functools.cache
def users_page(*, email: bool, role: bool, status: bool, verified: bool, after: bool) -> Select[Any]:
    """The admin listing's statement for one combination of filters (built once each: a statement per
    combination, rather than `:x IS NULL OR ...`, lets Postgres plan each with its index)."""
    query = select(users)
    if email:  # the trigram index (migration 0008) answers this on Postgres
        query = query.where(users.c.email.like(bindparam("email_pattern"), escape="\\"))
    if role:
        query = query.where((_SPACE + users.c.roles + _SPACE).like(bindparam("role_pattern"), escape="\\"))
    if status:
        query = query.where(users.c.status == bindparam("account_status"))
    if verified:
        query = query.where(users.c.email_verified == bindparam("verified", type_=Boolean))
    if after:
        query = query.where(tuple_(users.c.created_at, users.c.id)
                            > tuple_(bindparam("after_at", type_=UTCDateTime), bindparam("after_id", type_=Uuid)))
    return query.order_by(users.c.created_at, users.c.id).limit(bindparam("limit"))


def like_pattern(piece: str, around: str = "") -> str:
    """`%<piece>%` for LIKE ... ESCAPE '\\' with the piece's own wildcards escaped (`around`: what the piece is
    framed by, e.g. spaces for one role of the roles column)."""
    escaped = piece.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{around}{escaped}{around}%"

# The credentials a unit of work's writes depend on (UserRepository.require_credentials): the user's row
# at the version that was read, locked until commit against a password change (whose UPDATE waits, and
# then sees what this unit of work wrote; or, having committed first, leaves nothing here to find).
# Postgres: FOR SHARE, which writes nothing (an UPDATE would NOTIFY every worker's account cache); SQLite:
# a no-op UPDATE, which takes the database's write lock as the transaction's first statement.
# An account disabled meanwhile holds nothing either: a login whose password check raced a disable starts no
# session after it.
_HELD_VERSION = and_(users.c.id == bindparam("guard_user"), users.c.credential_version == bindparam("guard_version"),
                     users.c.status == AccountStatus.ACTIVE.value)
HOLD_CREDENTIALS: dict[str, Executable] = {
    "postgresql": select(users.c.id).where(_HELD_VERSION).with_for_update(read=True),
    "sqlite": (update(users).where(_HELD_VERSION).values(credential_version=users.c.credential_version)
               .returning(users.c.id)),
}

# -- sessions and the refresh-token history ------------------------------------------------------


def session_is_live() -> ColumnElement[bool]:
    """The session-liveness rule in SQL (the domain's is `Session.is_active`; the parity tests hold
    the two together): not revoked, before its absolute expiry, used after the idle cutoff."""
    return and_(sessions.c.revoked_at.is_(None), sessions.c.absolute_expires_at > _NOW,
                sessions.c.last_used_at > bindparam("idle_cutoff", type_=UTCDateTime))


INSERT_SESSION = _insert_row(sessions)
INSERT_TOKEN = _insert_row(refresh_tokens)
SESSION_BY_ID = select(sessions).where(sessions.c.id == bindparam("session_id"))
SESSION_BY_TOKEN = (select(sessions).join(refresh_tokens, refresh_tokens.c.session_id == sessions.c.id)
                    .where(refresh_tokens.c.digest == bindparam("digest")))
LIVE_SESSIONS_OF_USER = (select(sessions).where(sessions.c.user_id == bindparam("user_id"), session_is_live())
                         .order_by(sessions.c.last_used_at.desc(), sessions.c.id))
_LIVE_BEYOND = (select(sessions.c.id).where(sessions.c.user_id == bindparam("user"), session_is_live())
                .order_by(sessions.c.last_used_at.desc(), sessions.c.id.desc()).offset(bindparam("keep")))
ANY_LIVE_BEYOND = _LIVE_BEYOND.limit(1)  # whether a login has to end any (most logins: no)
# (revoked_at re-checked by the UPDATE itself: a concurrent login's UPDATE may have ended the same rows, and
# under READ COMMITTED those would otherwise be ended, and returned, again; found in review.)
REVOKE_SESSIONS_BEYOND = (update(sessions).where(sessions.c.id.in_(_LIVE_BEYOND.scalar_subquery()),
                                                 sessions.c.revoked_at.is_(None))
                          .values(revoked_at=_NOW, revoked_reason=bindparam("reason")).returning(sessions.c.id))
TOUCH_SESSION = update(sessions).where(sessions.c.id == bindparam("session_id")).values(last_used_at=_NOW)
REVOKE_SESSION = (update(sessions).where(sessions.c.id == bindparam("session_id"), sessions.c.revoked_at.is_(None))
                  .values(revoked_at=_NOW, revoked_reason=bindparam("reason")).returning(sessions.c.id))
_KEEP = bindparam("keep", type_=Uuid)
REVOKE_SESSIONS_OF_USER = (
    update(sessions)
    .where(sessions.c.user_id == bindparam("user"), sessions.c.revoked_at.is_(None),  # not "user_id": a column
           or_(_KEEP.is_(None), sessions.c.id != _KEEP))
    .values(revoked_at=_NOW, revoked_reason=bindparam("reason")).returning(sessions.c.id))

# Rotation: spend the presented token if it is the live token of a live session, and remember the
# successor's digest. Race-free: the row lock and the re-checked WHERE of one conditional UPDATE let
# only one of any number of concurrent spends match. Each form is safe without a transaction.
_SUCCESSOR = bindparam("successor", type_=refresh_tokens.c.digest.type)
_SPENDABLE = and_(sessions.c.current_token == bindparam("presented"), session_is_live())
_SPEND = (update(sessions).where(_SPENDABLE)
          .values(previous_token=sessions.c.current_token, current_token=_SUCCESSOR, rotated_at=_NOW,
                  last_used_at=_NOW))
_ROTATED = _SPEND.returning(*sessions.c).cte("rotated")
# The account's roles as they are now, for the new access token ("read again at every refresh"), in the
# rotation's own statement. (An alias: in SQLite's RETURNING the columns render unqualified.)
_OWNER = users.alias("owner")


def _owner_roles(user_id: ColumnElement[Any]) -> Any:
    return select(_OWNER.c.roles).where(_OWNER.c.id == user_id).scalar_subquery().label("owner_roles")


# Postgres: the UPDATE and the history INSERT in one statement (a data-modifying CTE), one round trip.
# Why rotation is one statement: docs/adr/0003-refresh-rotation.md.
ROTATE_AND_REMEMBER = select(_ROTATED, _owner_roles(_ROTATED.c.user_id)).add_cte(
    insert(refresh_tokens).from_select(["digest", "session_id", "issued_at"],
                                       select(_SUCCESSOR, _ROTATED.c.id, _NOW)).cte("remembered"))
# SQLite has no data-modifying CTEs: the history first (if the UPDATE then loses the race, or the process
# dies, the extra row names a token never handed out, which is harmless), then the spend. With a grace
# window, racing retries derive the same successor: the loser's row exists already, hence DO NOTHING.
REMEMBER_IF_LIVE = sqlite_insert(refresh_tokens).from_select(
    ["digest", "session_id", "issued_at"],
    select(_SUCCESSOR, sessions.c.id, _NOW).where(_SPENDABLE),
).on_conflict_do_nothing()
SPEND = _SPEND.returning(*sessions.c, _owner_roles(sessions.c.user_id))
# What one rotation runs, by dialect, in order; the last statement returns the rotated session (no row:
# nothing was spent). SqlSessionRepository.rotate runs them so.
ROTATION: dict[str, tuple[Executable, ...]] = {"postgresql": (ROTATE_AND_REMEMBER,),
                                               "sqlite": (REMEMBER_IF_LIVE, SPEND)}

# -- items ---------------------------------------------------------------------------------------

_OWNED = (items.c.id == bindparam("item_id"), items.c.owner_id == bindparam("owner_id"))
INSERT_ITEM = _insert_row(items)
ITEM_OWNED = select(items).where(*_OWNED)
UPDATE_ITEM = (update(items).where(items.c.id == bindparam("item_id"))
               .values(title=bindparam("title"), description=bindparam("description"),
                       updated_at=bindparam("updated_at", type_=UTCDateTime)))
DELETE_ITEM_OWNED = delete(items).where(*_OWNED).returning(items.c.id)
COUNT_ITEMS_OWNED = select(func.count().label("total")).select_from(items).where(
    items.c.owner_id == bindparam("owner_id"))
PAGE_OF_ITEMS_OWNED = (select(items).where(items.c.owner_id == bindparam("owner_id"))
                       .order_by(items.c.created_at.desc(), items.c.id.desc())
                       .limit(bindparam("limit")).offset(bindparam("offset")))

# -- notifications (the outbox) ------------------------------------------------------------------

INSERT_NOTIFICATION = _insert_row(notifications)
NOTIFICATIONS_OF_USER = (select(notifications).where(notifications.c.user_id == bindparam("user_id"))
                         .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
                         .limit(MAX_NOTIFICATIONS_LISTED))
_QUEUED = notifications.c.status == NotificationStatus.QUEUED.value
_LEASE_FREE = and_(_QUEUED, or_(notifications.c.claimed_until.is_(None), notifications.c.claimed_until <= _NOW))
_LEASE_UNTIL = bindparam("lease_until", type_=UTCDateTime)
# Where a notification goes: its own recipient, else the account's address; and whether that is proven.
# (An alias: in SQLite's RETURNING the columns render unqualified, and a bare `id` inside a CASE's subquery
# was taken for the notification's own; found by the delivery tests.)
_ACCOUNT = users.alias("account")
_ACCOUNT_EMAIL = select(_ACCOUNT.c.email).where(_ACCOUNT.c.id == notifications.c.user_id).scalar_subquery()
_ACCOUNT_VERIFIED = (select(_ACCOUNT.c.email_verified).where(_ACCOUNT.c.id == notifications.c.user_id)
                     .scalar_subquery())
_RECIPIENT = func.coalesce(notifications.c.recipient, _ACCOUNT_EMAIL).label("to_address")
# recipient_verified is NULL exactly when recipient is (mappers.notification_values). (Not a CASE: SQLite
# answered NULL for one inside RETURNING.)
_RECIPIENT_VERIFIED = func.coalesce(notifications.c.recipient_verified, _ACCOUNT_VERIFIED,
                                    type_=Boolean).label("to_verified")
# Take one notification whose lease is free, or renew the caller's own claim (the lease it holds ends
# exactly at :held_until; NULL: none) without counting another attempt; with the recipient's address.
_HELD_BY_CALLER = and_(_QUEUED, notifications.c.claimed_until == bindparam("held_until", type_=UTCDateTime))
CLAIM_FOR_DELIVERY = (
    update(notifications).where(notifications.c.id == bindparam("notification_id"),
                                or_(_LEASE_FREE, _HELD_BY_CALLER))
    .values(claimed_until=_LEASE_UNTIL, attempts=notifications.c.attempts + case((_HELD_BY_CALLER, 0), else_=1))
    .returning(*notifications.c, _RECIPIENT, _RECIPIENT_VERIFIED))
# SKIP LOCKED (Postgres) lets several workers sweep at once without waiting on each other; the
# conditional WHERE of the UPDATE is what makes each claim exclusive either way. The candidates are a
# MATERIALIZED CTE: as an `IN (subquery … LIMIT)` Postgres may evaluate the subquery more than once and
# claim more than `limit` rows (found by the parity tests).
_STALE = (select(notifications.c.id)
          .where(notifications.c.created_at < bindparam("created_before", type_=UTCDateTime), _LEASE_FREE)
          .order_by(notifications.c.created_at).limit(bindparam("limit")).with_for_update(skip_locked=True)
          .cte("stale").prefix_with("MATERIALIZED", dialect="postgresql"))
CLAIM_STALE = (update(notifications).where(notifications.c.id == _STALE.c.id, _LEASE_FREE)
               .values(claimed_until=_LEASE_UNTIL, attempts=notifications.c.attempts + 1)
               .returning(*notifications.c))
MARK_DELIVERED = (update(notifications).where(notifications.c.id == bindparam("notification_id"))
                  .values(status=NotificationStatus.DELIVERED.value, delivered_at=_NOW, claimed_until=None,
                          last_error=None, sealed_link=None))
MARK_WITHHELD = (update(notifications).where(notifications.c.id == bindparam("notification_id"))
                 .values(status=NotificationStatus.WITHHELD.value, claimed_until=None, sealed_link=None))
MARK_ATTEMPT_FAILED = (update(notifications).where(notifications.c.id == bindparam("notification_id"))
                       .values(status=bindparam("status"), last_error=bindparam("error"),
                               claimed_until=bindparam("retry_at", type_=UTCDateTime),
                               # failed for good: the sealed link goes too
                               sealed_link=case((bindparam("final", type_=Boolean), None),
                                                else_=notifications.c.sealed_link)))
RECIPIENT = select(_RECIPIENT, _RECIPIENT_VERIFIED).where(notifications.c.id == bindparam("notification_id"))
# The outbox's backlog, for the metrics: how many wait, and since when (ix_notifications_status_created).
OUTBOX_BACKLOG = (select(func.count().label("queued"), func.min(notifications.c.created_at).label("oldest"))
                  .where(_QUEUED))

# -- reset and verification tokens ----------------------------------------------------------------

# (Parameters not named after columns: an UPDATE reserves those names for its SET clause.)
_UNSPENT_OF_KIND = and_(account_tokens.c.user_id == bindparam("owner"),
                        account_tokens.c.kind == bindparam("token_kind"),
                        account_tokens.c.spent_at.is_(None))
VOID_ACCOUNT_TOKENS = update(account_tokens).where(_UNSPENT_OF_KIND).values(spent_at=_NOW)
VOID_ALL_ACCOUNT_TOKENS = (update(account_tokens)
                           .where(account_tokens.c.user_id == bindparam("owner"), account_tokens.c.spent_at.is_(None))
                           .values(spent_at=_NOW))
INSERT_ACCOUNT_TOKEN = _insert_row(account_tokens)
_USABLE = and_(account_tokens.c.digest == bindparam("token_digest"), account_tokens.c.kind == bindparam("token_kind"),
               account_tokens.c.spent_at.is_(None), account_tokens.c.expires_at > _NOW)
USABLE_ACCOUNT_TOKEN = select(account_tokens).where(_USABLE)
# Spending is one conditional UPDATE: the row lock and the re-checked WHERE let one of any number of
# concurrent spends of one token match.
SPEND_ACCOUNT_TOKEN = update(account_tokens).where(_USABLE).values(spent_at=_NOW).returning(*account_tokens.c)

# -- service clients ---------------------------------------------------------------------------------

INSERT_SERVICE_CLIENT = _insert_row(service_clients)
SERVICE_CLIENT = select(service_clients).where(service_clients.c.client_id == bindparam("client"))
SERVICE_CLIENTS = select(service_clients).order_by(service_clients.c.created_at, service_clients.c.client_id)
DELETE_SERVICE_CLIENT = (delete(service_clients).where(service_clients.c.client_id == bindparam("client"))
                         .returning(service_clients.c.client_id))

# -- the security log -------------------------------------------------------------------------------

INSERT_SECURITY_EVENT = _insert_row(security_events)
_EVENTS_OF_USER = (select(security_events).where(security_events.c.user_id == bindparam("user_id"))
                   .order_by(security_events.c.at.desc(), security_events.c.id.desc()).limit(bindparam("limit")))
FIRST_EVENTS = _EVENTS_OF_USER
_BEFORE_POSITION = (tuple_(security_events.c.at, security_events.c.id)
                    < tuple_(bindparam("after_at", type_=UTCDateTime), bindparam("after_id", type_=Uuid)))
EVENTS_AFTER = _EVENTS_OF_USER.where(_BEFORE_POSITION)


@functools.cache
def events_page(*, user: bool, type: bool, since: bool, until: bool, after: bool) -> Select[Any]:
    """The admin listing of events, for one combination of filters (as users_page)."""
    query = select(security_events)
    if user:
        query = query.where(security_events.c.user_id == bindparam("user_id", type_=Uuid))
    if type:
        query = query.where(security_events.c.type == bindparam("event_type"))
    if since:
        query = query.where(security_events.c.at >= bindparam("since", type_=UTCDateTime))
    if until:
        query = query.where(security_events.c.at < bindparam("until", type_=UTCDateTime))
    if after:
        query = query.where(_BEFORE_POSITION)
    return (query.order_by(security_events.c.at.desc(), security_events.c.id.desc())
            .limit(bindparam("limit")))

# -- rate limits (when no Redis is configured) --------------------------------------------------------
# Reserve one attempt: count it if the key's window has passed (a new window starts now) or the key is
# under its limit; no row returned means refused. One statement: the row lock of ON CONFLICT (Postgres)
# or SQLite's single writer makes concurrent reservations count one by one, never past the limit.
_WINDOW_OVER = rate_limits.c.window_ends_at <= _NOW


def _reserve(dialect_insert: Callable[[Table], Any]) -> Executable:
    window_ends_at = bindparam("window_ends_at", type_=UTCDateTime)
    first = dialect_insert(rate_limits).values(key=bindparam("key"), window_ends_at=window_ends_at, hits=1)
    reserve: Executable = first.on_conflict_do_update(
        index_elements=[rate_limits.c.key],
        set_={"window_ends_at": case((_WINDOW_OVER, window_ends_at), else_=rate_limits.c.window_ends_at),
              "hits": case((_WINDOW_OVER, 1), else_=rate_limits.c.hits + 1)},
        where=or_(_WINDOW_OVER, rate_limits.c.hits < bindparam("max_hits")),
    ).returning(rate_limits.c.hits)
    return reserve


RESERVE_ATTEMPT: dict[str, Executable] = {"postgresql": _reserve(postgresql_insert), "sqlite": _reserve(sqlite_insert)}
RATE_LIMIT_WINDOW = select(rate_limits.c.window_ends_at).where(rate_limits.c.key == bindparam("key"))
RESET_RATE_LIMIT = delete(rate_limits).where(rate_limits.c.key == bindparam("key"))
PURGE_RATE_LIMITS = delete(rate_limits).where(_WINDOW_OVER)

# -- retention (domain/retention.py says what each kind lets go of) ---------------------------------

# One worker purges at a time: each batch's transaction first tries this advisory lock (Postgres; SQLite
# has one host and its write lock). A worker that does not get it yields the run to the one that did.
_RETENTION_LOCK_KEY = 0x6761_7465_7075_7267  # "gatepurg"
TRY_RETENTION_LOCK = select(func.pg_try_advisory_xact_lock(literal(_RETENTION_LOCK_KEY, BigInteger)))
# Each delete planned for its own cut-off: a generic plan of `< $1` (what a prepared statement may switch to)
# is a sequential scan, 100-330 ms a batch at a million rows instead of ~0.03 ms (bench --scale, plans.txt).
CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")
_BEFORE = bindparam("before", type_=UTCDateTime)
_BATCH = bindparam("limit", type_=Integer)
_SUCCESSOR_ROW = refresh_tokens.alias("successor")
_SPENT_BEFORE = (  # its successor was issued before the cut-off, and it is no session's live token
    select(refresh_tokens.c.digest)
    .where(refresh_tokens.c.issued_at < _BEFORE,
           exists().where(_SUCCESSOR_ROW.c.session_id == refresh_tokens.c.session_id,
                          _SUCCESSOR_ROW.c.issued_at > refresh_tokens.c.issued_at,
                          _SUCCESSOR_ROW.c.issued_at < _BEFORE),
           ~exists().where(sessions.c.current_token == refresh_tokens.c.digest))
    .limit(_BATCH))
_ENDED_BEFORE = (select(sessions.c.id)
                 .where(or_(sessions.c.revoked_at < _BEFORE, sessions.c.absolute_expires_at < _BEFORE)).limit(_BATCH))
# Spelled out, not `IN (…)`: an expanding list is rendered anew at every call; three index ranges either way.
_SETTLED = or_(*(notifications.c.status == literal(status.value) for status in
                 (NotificationStatus.DELIVERED, NotificationStatus.FAILED, NotificationStatus.WITHHELD)))
_SETTLED_BEFORE = (select(notifications.c.id)
                   .where(_SETTLED, notifications.c.created_at < _BEFORE).limit(_BATCH))
PURGE: dict[Purgeable, Executable] = {
    Purgeable.TOKEN_HISTORY: delete(refresh_tokens).where(refresh_tokens.c.digest.in_(_SPENT_BEFORE.scalar_subquery())),
    Purgeable.SESSIONS: delete(sessions).where(sessions.c.id.in_(_ENDED_BEFORE.scalar_subquery())),
    Purgeable.NOTIFICATIONS: delete(notifications).where(notifications.c.id.in_(_SETTLED_BEFORE.scalar_subquery())),
    Purgeable.ACCOUNT_TOKENS: delete(account_tokens).where(account_tokens.c.digest.in_(
        select(account_tokens.c.digest).where(account_tokens.c.expires_at < _BEFORE).limit(_BATCH)
        .scalar_subquery())),
    Purgeable.SECURITY_EVENTS: delete(security_events).where(security_events.c.id.in_(
        select(security_events.c.id).where(security_events.c.at < _BEFORE).limit(_BATCH).scalar_subquery())),
}
