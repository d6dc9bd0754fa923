"""Backstop cleanup for bench/run.py, in a session of its own.

run.py stops what it started in `finally`. But `python3 tasks.py bench` waits only a moment for it on
Ctrl-C before killing it outright (subprocess.call), and nothing runs after SIGKILL. So run.py
starts this process first and tells it, one line each on its stdin, about every process group and
database it creates or removes:

    pg PGID | unpg PGID | db ADMIN_DSN NAME | undb NAME | dir PATH | undir PATH | bye

When stdin ends (run.py exited, however it exited), this kills every process group still listed,
drops every database still listed and removes every temporary directory still listed. SIGINT is
ignored: a Ctrl-C must not stop the cleaner.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys


async def drop_database(admin_dsn: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    groups: set[int] = set()
    databases: dict[str, str] = {}
    directories: set[str] = set()
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "pg":
            groups.add(int(words[1]))
        elif words[0] == "unpg":
            groups.discard(int(words[1]))
        elif words[0] == "db":
            databases[words[2]] = words[1]
        elif words[0] == "undb":
            databases.pop(words[1], None)
        elif words[0] == "dir":
            directories.add(line.split(" ", 1)[1].rstrip("\n"))
        elif words[0] == "undir":
            directories.discard(line.split(" ", 1)[1].rstrip("\n"))
        elif words[0] == "bye":
            break
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    for name, dsn in databases.items():
        try:
            asyncio.run(asyncio.wait_for(drop_database(dsn, name), 30))
        except Exception as exc:
            print(f"bench reaper: could not drop database {name}: {exc!r}", file=sys.stderr)
    for directory in directories:
        if os.path.basename(directory).startswith("gatehouse-bench-"):  # only run.py's own mkdtemp()s
            shutil.rmtree(directory, ignore_errors=True)
    if groups or databases:
        print(f"bench reaper: cleaned up {len(groups)} process group(s), {len(databases)} database(s)",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
