"""dependency_injector, without the extras it loads whenever they are installed: PyYAML (for
`Container.from_yaml_schema`) and werkzeug (Flask's LocalProxy, for wiring). Gatehouse uses neither;
together they held ~4 MiB of every worker (measured at rest; PyYAML comes with the dev dependencies)."""

from __future__ import annotations

from infrastructure.utils.imports import without_optional_modules

with without_optional_modules("yaml", "werkzeug.local"):
    from dependency_injector import containers, providers

__all__ = ["containers", "providers"]
