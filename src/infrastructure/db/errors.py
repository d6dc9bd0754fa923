"""What a driver failure means to the layers above: the database is unavailable (answered 503), a
constraint of the schema was broken, or a bug."""

from __future__ import annotations

import asyncio

from sqlalchemy import exc as sa_exc

# SQLSTATE classes/codes of an unavailable server: connection exceptions (08…), operator intervention
# (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now), too many connections (53300).
# Outages, and the transient conflicts Postgres resolves by aborting one transaction (a deadlock, a
# serialization failure): either way the request may simply be retried, so it is answered 503 + Retry-After.
_OUTAGE_STATES = ("08", "57P01", "57P02", "57P03", "53300", "40P01", "40001")
_OUTAGE_NAMES = {"ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError",
                 "TooManyConnectionsError", "AdminShutdownError", "CrashShutdownError", "InterfaceError",
                 "DeadlockDetectedError", "SerializationError"}


def is_outage(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return True  # TimeoutError: the pool stayed exhausted for pool_timeout seconds
    return any(_is_outage_cause(e) for e in chain_of(error))


def chain_of(error: BaseException) -> list[BaseException]:
    """The error and its causes, newest first."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _is_outage_cause(error: BaseException) -> bool:
    if isinstance(error, (OSError, asyncio.TimeoutError, ConnectionError)):
        return True
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(state, str) and state.startswith(_OUTAGE_STATES):
        return True
    # asyncpg's classes by name: importing them here would make SQLite-only installs load asyncpg
    return type(error).__name__ in _OUTAGE_NAMES


# A table or column this code uses is not there: the schema is older than the code (SQLSTATE 42P01
# undefined table, 42703 undefined column; SQLite says it in words).
_SCHEMA_STATES = ("42P01", "42703")
_SCHEMA_WORDS = ("no such table", "no such column", "has no column named")


def is_schema_missing(error: BaseException) -> bool:
    for cause in chain_of(error):
        state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(state, str) and state in _SCHEMA_STATES:
            return True
        if type(cause).__module__.split(".")[0] in ("sqlite3", "aiosqlite", "sqlalchemy") and any(
                words in str(cause) for words in _SCHEMA_WORDS):
            return True
    return False


def is_constraint_violation(error: BaseException) -> bool:
    """SQLSTATE class 23 (a unique key, a foreign key, NOT NULL…), from SQLAlchemy or asyncpg alike."""
    if isinstance(error, sa_exc.IntegrityError):
        return True
    state = getattr(error, "sqlstate", None)
    return isinstance(state, str) and state.startswith("23")


def constraint_of(error: BaseException) -> str:
    """Which constraint a violation broke, as far as the driver says (Postgres names it; SQLite does not)."""
    for cause in chain_of(error):
        name = getattr(cause, "constraint_name", None)
        if isinstance(name, str):
            return f"constraint {name} violated ({type(cause).__name__})"
    return f"a constraint was violated ({type(error).__name__})"


_DRIVER_PACKAGES = {"sqlalchemy", "asyncpg", "sqlite3", "aiosqlite"}


def is_driver_error(error: BaseException) -> bool:
    """Raised by SQLAlchemy or a database driver: its message may quote the statement's values (an
    address, a password hash) or the row a constraint found, so it is never logged as it is."""
    return type(error).__module__.split(".")[0] in _DRIVER_PACKAGES


def safe_description(error: BaseException) -> str:
    """What a driver error may say in a log: its class, SQLSTATE and constraint, never its message."""
    if not is_driver_error(error):
        return str(error)
    orig = getattr(error, "orig", None) or error
    facts = [f"{type(orig).__module__}.{type(orig).__name__}"] if orig is not error else []
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(state, str):
        facts.append(f"SQLSTATE {state}")
    name = getattr(orig, "constraint_name", None)
    if isinstance(name, str):
        facts.append(f"constraint {name}")
    return f"({'; '.join(facts)}) details hidden" if facts else "details hidden"
