"""Every decision record the code points at exists, and the index lists every record."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADR = ROOT / "docs" / "adr"


def test_every_record_the_code_names_exists() -> None:
    named = {match for path in (ROOT / "src").rglob("*.py")
             for match in re.findall(r"docs/adr/(\d{4}-[a-z0-9-]+\.md)", path.read_text(encoding="utf-8"))}
    assert named  # the code does point at them
    assert sorted(name for name in named if not (ADR / name).is_file()) == []


def test_the_index_lists_every_record() -> None:
    records = sorted(p.name for p in ADR.glob("[0-9][0-9][0-9][0-9]-*.md"))
    listed = sorted(set(re.findall(r"\]\((\d{4}-[a-z0-9-]+\.md)\)", (ADR / "README.md").read_text(encoding="utf-8"))))
    assert records == listed
