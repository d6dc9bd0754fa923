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
    """A development mailbox: it mails nobody (so it delivers every kind, to proven addresses or not), and it
    holds each mail as a mailbox would, the secret link of a reset or verification included."""

    mails_people = False

    def __init__(self, path: Path, product_name: str = "Gatehouse") -> None:
        self._path = path
        self._product = product_name
        self._lock = anyio.Lock()

    async def deliver(self, notification: Notification, recipient: Email, link: str | None = None) -> None:
        line = json.dumps({
            "id": str(notification.id), "to": recipient.value, "kind": notification.kind.value,
            "subject": f"{self._product}: {notification.subject}", "message": notification.message,
            "body": notification.mail_text(link), "created_at": rfc3339(notification.created_at),
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
