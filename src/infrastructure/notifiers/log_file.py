"""The default notifier: one JSON line per notification appended to a file in the data directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio

from domain.notifications import Notification
from domain.ports import Notifier
from domain.user import Email
from infrastructure.utils.private_files import private_dir
from infrastructure.utils.timefmt import rfc3339


class LogFileNotifier(Notifier):
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = anyio.Lock()

    async def deliver(self, notification: Notification, recipient: Email) -> None:
        line = json.dumps({
            "id": str(notification.id), "to": recipient.value, "kind": notification.kind.value,
            "subject": notification.subject, "message": notification.message,
            "created_at": rfc3339(notification.created_at),
        }, ensure_ascii=False) + "\n"
        async with self._lock:
            # File writes block: run them in a worker thread, never on the event loop.
            await anyio.to_thread.run_sync(self._append, line)

    def _append(self, line: str) -> None:
        private_dir(self._path.parent)
        # O_APPEND: one write per line, so lines from several worker processes never interleave.
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
