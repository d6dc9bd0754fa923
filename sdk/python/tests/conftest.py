"""Fixtures for gatehouse-verify's own tests (offline: a LocalIssuer stands in for Gatehouse)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from gatehouse_verify.testing import LocalIssuer
from verify_helpers import sibling_app


@pytest.fixture
def issuer() -> LocalIssuer:
    return LocalIssuer()


@pytest_asyncio.fixture
async def guarded(issuer: LocalIssuer) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the sibling app, its verifier talking to `issuer` (not strict)."""
    verifier = issuer.verifier()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sibling_app(verifier)),
                                 base_url="http://sibling") as client:
        yield client
    await verifier.aclose()
