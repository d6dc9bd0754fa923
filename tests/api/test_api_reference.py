"""docs/API.md stays true to the code: every operation the app serves is described there, and every
setting it names is one the service reads."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from infrastructure.settings import Settings

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "API.md"


async def test_every_operation_is_in_the_api_reference(client: httpx.AsyncClient) -> None:
    text = REFERENCE.read_text()
    spec = (await client.get("/openapi.json")).json()
    missing = []
    for path, operations in spec["paths"].items():
        written = re.sub(r"\{[^}]+\}", "{id}", path).rstrip("/") or "/"
        for method in operations:
            spelled = f"{method.upper()} {written}"
            if spelled not in re.sub(r"\{[^}]+\}", "{id}", text).replace("/ ", " ").replace("/`", "`"):
                missing.append(spelled)
    assert missing == []


def test_every_setting_the_reference_names_exists() -> None:
    named = set(re.findall(r"GATEHOUSE_([A-Z0-9_]+)", REFERENCE.read_text()))
    known = {name.upper() for name in Settings.model_fields}
    assert named - known == set()
