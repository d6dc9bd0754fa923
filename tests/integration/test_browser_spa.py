"""The browser integration a person uses, in headless Chromium: docs/examples/spa.html served on
app.gatehouse.test, Gatehouse on auth.gatehouse.test (another host of the same site, not only another port:
cookies ignore ports), both mapped to 127.0.0.1 by Chromium's host resolver. The page signs in with cookies,
reads and writes with the CSRF token, survives a reload, refreshes from two tabs at once, signs out; and a page
of another site (evil.test) tries a cross-site form POST and a fetch, both refused, nothing written."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import PASSWORD, unique_email
from tests.integration.test_browser_docs import BROWSER_ARGS, CHROMIUM, _browser_missing
from tests.live_server import free_port, live_server

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "spa.html"

EVIL_PAGE = """<!doctype html><html><body>
<form id="attack" method="POST" action="{gatehouse}/items" enctype="text/plain">
  <input name='{{"title":"forged by a form","x":"' value='"}}'>
</form>
<script>
async function fetchAttack() {{
  const tries = [
    fetch("{gatehouse}/items", {{method: "POST", credentials: "include",
                                 headers: {{"Content-Type": "application/json"}},
                                 body: JSON.stringify({{title: "forged by fetch"}})}}),
    fetch("{gatehouse}/items", {{method: "POST", credentials: "include", mode: "no-cors",
                                 headers: {{"Content-Type": "text/plain"}}, body: '{{"title": "forged, no-cors"}}'}}),
    fetch("{gatehouse}/users/me", {{credentials: "include"}}),
  ];
  return (await Promise.allSettled(tries)).map(r => r.status === "fulfilled" ? r.value.type + ":" + r.value.status
                                                                           : "refused");
}}
</script></body></html>"""


@contextlib.contextmanager
def static_site(root: Path) -> Iterator[int]:
    """A plain HTTP server of `root` on loopback (every host name Chromium maps here reaches it)."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # the base class's signature
        pass


async def _titles(gatehouse: str, email: str) -> list[str]:
    """The account's items as the API has them (a bearer client, outside the browser)."""
    async with httpx.AsyncClient(base_url=gatehouse) as client:
        tokens = (await client.post("/auth/login", json={"email": email, "password": PASSWORD})).json()
        page = (await client.get("/items", headers={"Authorization": f"Bearer {tokens['access_token']}"})).json()
    return sorted(item["title"] for item in page["items"])


def test_a_single_page_app_on_another_host_of_the_site_signs_in_with_cookies(tmp_path: Path) -> None:
    missing = _browser_missing()
    if missing:
        pytest.skip(f"browser test not run: {missing}")
    site = tmp_path / "site"
    site.mkdir()
    (site / "spa.html").write_text(EXAMPLE.read_text())
    port = free_port()
    with static_site(site) as site_port:
        app_origin = f"http://app.gatehouse.test:{site_port}"
        gatehouse = f"http://auth.gatehouse.test:{port}"
        (site / "evil.html").write_text(EVIL_PAGE.format(gatehouse=gatehouse))
        env = {"GATEHOUSE_ISSUER": gatehouse, "GATEHOUSE_ALLOWED_ORIGINS": json.dumps([app_origin]),
               "GATEHOUSE_COOKIE_SECURE": "false"}
        with live_server(tmp_path, port=port, environment=env) as server:
            asyncio.run(_scenario(server.base_url, gatehouse, app_origin, f"http://evil.test:{site_port}"))
        assert "GATEHOUSE_COOKIE_SECURE=false" in (tmp_path / "server.log").read_text()  # the start-up warning


async def _scenario(direct: str, gatehouse: str, app_origin: str, evil_origin: str) -> None:
    from playwright.async_api import async_playwright, expect

    email = unique_email("spa")
    async with httpx.AsyncClient(base_url=direct) as client:
        assert (await client.post("/auth/register", json={"email": email, "password": PASSWORD})).status_code == 201
    spa = f"{app_origin}/spa.html?gatehouse={gatehouse}"
    rules = "MAP *.gatehouse.test 127.0.0.1, MAP evil.test 127.0.0.1"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM,
                                           args=[*BROWSER_ARGS, f"--host-resolver-rules={rules}"])
        try:
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(spa)
            status = page.locator("#status")
            await expect(status).to_have_text("Signed out")
            await page.locator("#email").fill(email)
            await page.locator("#password").fill(PASSWORD)
            await page.locator("#sign-in-button").click()
            await expect(status).to_have_text(f"Signed in as {email}")
            assert await page.evaluate("document.cookie") == ""  # nothing of Gatehouse's is readable here
            cookies = {c["name"]: c for c in await context.cookies(gatehouse)}
            assert set(cookies) == {"gatehouse_access", "gatehouse_csrf"}  # the refresh cookie: /auth/browser only
            assert cookies["gatehouse_access"]["httpOnly"] is True

            await page.locator("#whoami-button").click()
            await expect(page.locator("#message")).to_have_text(f"You are {email}")
            await page.locator("#title").fill("first")
            await page.locator("#add-button").click()
            await expect(page.locator("#items li")).to_have_text(["first"])

            await page.reload()  # the CSRF token is gone from memory; the page asks for it again
            await expect(status).to_have_text(f"Signed in as {email}")
            await expect(page.locator("#items li")).to_have_text(["first"])
            await page.locator("#title").fill("after the reload")
            await page.locator("#add-button").click()
            await expect(page.locator("#items li")).to_have_count(2)

            second = await context.new_page()  # another tab: the same cookie jar
            await second.goto(spa)
            await expect(second.locator("#status")).to_have_text(f"Signed in as {email}")
            tokens = await asyncio.gather(page.evaluate("refresh()"), second.evaluate("refresh()"))
            assert tokens[0] == tokens[1]  # one session, one CSRF token
            for tab in (page, second):
                await tab.locator("#refresh-button").click()
                await expect(tab.locator("#message")).to_have_text("Session refreshed")
                await tab.locator("#whoami-button").click()
                await expect(tab.locator("#message")).to_have_text(f"You are {email}")

            await page.locator("#sign-out-button").click()
            await expect(status).to_have_text("Signed out")
            await expect(page.locator("#message")).to_have_text("Not signed in (401)")
            await second.reload()
            await expect(second.locator("#status")).to_have_text("Signed out")

            # signed in again, the user visits another site, which tries to act on Gatehouse's cookies
            await page.locator("#email").fill(email)
            await page.locator("#password").fill(PASSWORD)
            await page.locator("#sign-in-button").click()
            await expect(status).to_have_text(f"Signed in as {email}")
            evil = await context.new_page()
            await evil.goto(f"{evil_origin}/evil.html")
            outcomes = await evil.evaluate("fetchAttack()")
            assert outcomes[0] == "refused"  # the preflight gets no CORS answer: the POST is never sent
            assert outcomes[2] == "refused"  # a credentialed read from another origin: CORS says no
            assert outcomes[1] == "opaque:0"  # sent blind (a "simple" request): refused below, nothing written
            async with evil.expect_navigation() as navigation:
                await evil.locator("#attack").evaluate("form => form.submit()")
            answer = await navigation.value
            assert answer is not None
            # SameSite=Lax keeps the access cookie off a cross-site POST; were it sent, the Origin check refuses
            assert (answer.status, (await answer.json())["code"]) == (401, "not_authenticated")
        finally:
            await browser.close()
    assert await _titles(direct, email) == ["after the reload", "first"]  # nothing forged was written
