"""What a process opened and must close when it stops, in one owner (no domain knowledge)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger("gatehouse")
R = TypeVar("R")


class Lifetime:
    """Closes what it was given, newest first, once. A container wraps each resource's provider in
    `own` (a new resource is one line there); the application's lifespan calls `aclose` at shutdown."""

    def __init__(self) -> None:
        self._closers: list[Callable[[], Awaitable[None]]] = []

    def own(self, resource: R) -> R:
        """Take `resource` (None: nothing to own); it closes with its `aclose()`, or `dispose()` (an
        SQLAlchemy engine)."""
        if resource is not None:
            close: Callable[[], Awaitable[None]] | None = getattr(resource, "aclose", None) or getattr(
                resource, "dispose", None)
            if close is None:
                raise TypeError(f"{type(resource).__name__} has neither aclose() nor dispose()")
            self._closers.append(close)
        return resource

    async def aclose(self) -> None:
        closers, self._closers = self._closers, []
        for close in reversed(closers):
            try:
                await close()
            except Exception:  # one failing close must not keep the others open
                log.exception("closing a resource at shutdown failed")
