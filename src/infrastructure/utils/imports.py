"""Importing a library without the optional extras it would load just because they are installed."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def without_optional_modules(*names: str) -> Iterator[None]:
    """Within the block, `import NAME` raises ImportError for each of `names` not imported yet (a library
    that wraps an optional import in try/except does without it); afterwards they import as usual."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # None in sys.modules: ImportError on import
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
