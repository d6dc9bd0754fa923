"""SQLAlchemy's asyncio engine, without the ORM that its package's `__init__` imports.

`import sqlalchemy.ext.asyncio` runs that `__init__`, which imports `AsyncSession` and with it all of
`sqlalchemy.orm`: ~6 MiB of every worker (measured at rest), for a session Gatehouse never uses (it runs
Core statements on connections). So the package is registered un-run, and only its `engine` module is
imported; the first time anything else is asked of the package (alembic's environment, a test using
`AsyncSession`), its real `__init__` runs, so every other importer still gets the whole package. Kept
honest by tests/unit/test_lean_imports.py, which fails if an upgrade of SQLAlchemy breaks either half.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

_PACKAGE = "sqlalchemy.ext.asyncio"

if _PACKAGE not in sys.modules:
    _spec = importlib.util.find_spec(_PACKAGE)
    if _spec is None or _spec.loader is None:  # pragma: no cover - SQLAlchemy without asyncio support
        raise ImportError(f"{_PACKAGE} is missing")
    _package = importlib.util.module_from_spec(_spec)
    _loader = _spec.loader

    def _complete(name: str) -> Any:
        """PEP 562: an attribute the package does not have yet."""
        if importlib.util.find_spec(f"{_PACKAGE}.{name}") is not None:
            raise AttributeError(name)  # a submodule (`from . import exc`): the import system loads it
        del _package.__dict__["__getattr__"]
        _loader.exec_module(_package)  # the real __init__, once
        return getattr(_package, name)

    vars(_package)["__getattr__"] = _complete
    sys.modules[_PACKAGE] = _package
    vars(importlib.import_module("sqlalchemy.ext"))["asyncio"] = _package  # as an import would

from sqlalchemy.ext.asyncio.engine import AsyncConnection, AsyncEngine, create_async_engine  # noqa: E402

__all__ = ["AsyncConnection", "AsyncEngine", "create_async_engine"]
