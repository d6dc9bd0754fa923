"""The development mailbox: the `log` notifier's file, read as a mailbox (what a user would find there)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LINK = re.compile(r"^(https?://\S+#token=([A-Za-z0-9_-]+))$", re.MULTILINE)


@dataclass
class Mailbox:
    path: Path

    def mails(self, to: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        found = [json.loads(line) for line in self.path.read_text().splitlines() if line]
        return [m for m in found if (to is None or m["to"] == to) and (kind is None or m["kind"] == kind)]

    def token(self, to: str, kind: str) -> str:
        """The token of the newest link of this kind mailed to `to`."""
        mails = self.mails(to, kind)
        assert mails, f"no {kind} mail to {to}"
        match = LINK.search(mails[-1]["body"])
        assert match, mails[-1]["body"]
        return match.group(2)

    def link(self, to: str, kind: str) -> str:
        match = LINK.search(self.mails(to, kind)[-1]["body"])
        assert match
        return match.group(1)
