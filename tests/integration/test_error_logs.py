"""An unexpected database error is logged without what the driver would quote: the statement's values
(a password hash, an address) and the row a constraint found."""

from __future__ import annotations

import io
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.logging_setup import JsonFormatter
from domain.user import Email, PasswordHash, User
from infrastructure.db.asyncpg_runner import AsyncpgRunner
from infrastructure.db.engine import create_engine
from infrastructure.db.mappers import user_values
from infrastructure.db.statements import INSERT_USER
from tests.conftest import make_settings

HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0c2FsdA$c2VjcmV0aGFzaHNlY3JldGhhc2g"


@pytest.fixture(params=["sqlite", "postgres via SQLAlchemy", "postgres via asyncpg"])
def url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    request.applymarker(pytest.mark.postgres)
    return str(request.getfixturevalue("migrated_postgres"))


def _row(email: str) -> dict[str, object]:
    now = datetime.now(UTC)
    return user_values(User(id=uuid.uuid4(), email=Email(email), password_hash=PasswordHash(HASH), full_name=None,
                            created_at=now, updated_at=now))


def _logged(error: BaseException) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(f"test-error-logs-{uuid.uuid4()}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.error("unhandled error", exc_info=error)
    return stream.getvalue()


async def test_a_driver_error_is_logged_without_values_or_the_conflicting_row(
        url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    email = f"leaky.{uuid.uuid4().hex[:8]}@example.com"
    settings = make_settings(tmp_path, url)
    engine = create_engine(settings)
    runner = AsyncpgRunner(settings) if request.node.callspec.id.endswith("asyncpg") else None
    try:
        async with engine.begin() as conn:
            await conn.execute(INSERT_USER, _row(email))
        caught: BaseException | None = None
        try:
            if runner is not None:
                await runner.run(INSERT_USER, _row(email))
            else:
                async with engine.begin() as conn:
                    await conn.execute(INSERT_USER, _row(email))  # the same address again
        except Exception as exc:
            caught = exc
        assert caught is not None
        text = _logged(caught)
        assert "Traceback" in text
        assert "details hidden" in text
        for secret in (email, HASH, "c2VjcmV0"):
            assert secret not in text, text
    finally:
        if runner is not None:
            await runner.aclose()
        await engine.dispose()


def test_other_errors_are_logged_as_python_prints_them() -> None:
    with pytest.raises(ValueError, match="ordinary") as caught:
        raise ValueError("an ordinary message")
    assert "ValueError: an ordinary message" in _logged(caught.value)
