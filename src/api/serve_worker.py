"""What `gatehouse serve` runs in its own place (api/cli.py): uvicorn with the options serve chose.

A fresh interpreter started with `-P` (no working directory on the import path: a file there named like a
module the app imports cannot stand in for it), importing uvicorn and the app only, so each worker holds
neither the command line's typer nor its settings checks. `uvicorn.run`, not uvicorn's command line: the
options are exactly these, whatever `UVICORN_*` variables the environment holds.

Why it is built this way: docs/adr/0009-request-path-at-default-settings.md.
"""

from __future__ import annotations

import json
import sys
from typing import Any

APP = "api.app:create_app_from_env"


def command(options: dict[str, Any]) -> list[str]:
    """The command line that runs uvicorn with `options` (uvicorn.run's keyword arguments)."""
    return [sys.executable, "-P", "-m", "api.serve_worker", json.dumps(options)]


def main(argv: list[str]) -> None:
    import uvicorn

    uvicorn.run(APP, factory=True, **json.loads(argv[1]))


if __name__ == "__main__":
    main(sys.argv)
