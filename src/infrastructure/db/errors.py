"""Which driver failures mean "the database is unavailable" (answered 503) rather than a bug."""

from __future__ import annotations

import asyncio

from sqlalchemy import exc as sa_exc


def is_outage(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        return isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError)) or _is_outage_cause(error)
    if isinstance(error, sa_exc.TimeoutError):  # pool exhausted for pool_timeout seconds
        return True
    return isinstance(error, (OSError, asyncio.TimeoutError, ConnectionError)) or _is_outage_cause(error)


def _is_outage_cause(error: BaseException) -> bool:
    cause = error.__cause__ or error.__context__
    name = type(cause).__name__ if cause is not None else ""
    # asyncpg's connection-level failures (its classes are not imported to keep SQLite installs light)
    return name in {"ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError",
                    "InterfaceError", "TooManyConnectionsError", "AdminShutdownError",
                    "CrashShutdownError", "ConnectionRefusedError"} or isinstance(cause, OSError)
