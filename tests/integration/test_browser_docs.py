"""A person's path through the docs: headless Chromium opens /docs, uses *Authorize* with an email and
password, calls GET /users/me from the page and sees the account."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import PASSWORD, unique_email
from tests.live_server import live_server

CHROMIUM = os.environ.get("GATEHOUSE_TEST_CHROMIUM", "/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _browser_missing() -> str | None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM}: install Debian's chromium package (.ci/run does)"
    return None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with live_server(tmp_path) as running:
        yield running.base_url


async def test_swagger_authorize_then_users_me_shows_the_account(server: str) -> None:
    missing = _browser_missing()
    if missing:
        pytest.skip(f"browser test not run: {missing}")
    from playwright.async_api import async_playwright, expect

    email = unique_email("browser")
    async with httpx.AsyncClient(base_url=server) as client:
        created = await client.post("/auth/register", json={"email": email, "password": PASSWORD})
        assert created.status_code == 201

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{server}/docs")
            await page.locator("button.authorize").first.click()
            await expect(page.locator("#oauth_username")).to_be_visible()
            await expect(page.locator("#oauth_password")).to_be_visible()
            for unused in ("password_type", "client_id_password", "client_secret_password"):  # no client auth
                field = page.locator(f"#{unused}")
                await expect(field).to_have_count(1)  # Swagger UI renders it, so the check below means something
                await expect(field).to_be_hidden()
            await page.locator("#oauth_username").fill(email)
            await page.locator("#oauth_password").fill(PASSWORD)
            await page.locator(".auth-btn-wrapper button.authorize").click()
            await expect(page.locator(".auth-container").first).to_contain_text("Authorized")
            await page.locator(".auth-btn-wrapper button.btn-done").click()

            operation = page.locator(".opblock-get", has=page.locator("[data-path='/users/me']"))
            await operation.locator(".opblock-summary").click()
            await operation.locator("button.try-out__btn").click()
            await operation.locator("button.execute").click()
            result = operation.locator(".live-responses-table .response").first
            await expect(result.locator(".response-col_status")).to_contain_text("200", timeout=15_000)
            await expect(result.locator(".response-col_description")).to_contain_text(email)
        finally:
            await browser.close()
