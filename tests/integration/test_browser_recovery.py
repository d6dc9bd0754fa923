"""A person's path from a mail to a new password or a confirmed address: a real server mails the links
to a real SMTP server in this process, and headless Chromium opens them, as someone clicking in their
mail would. Also: what the two pages answer to anyone (headers, no external assets)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.api.helpers import PASSWORD, bearer, login, unique_email
from tests.integration.test_browser_docs import BROWSER_ARGS, CHROMIUM, _browser_missing
from tests.live_server import free_port, live_server

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, Request, Route

NEW_PASSWORD = "a brand new passphrase 42"
MAIL_SECONDS = 10.0
PAGES = ("/reset-password", "/verify-email")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), mail))
        return "250 OK"

    async def wait_for(self, to: str, subject_end: str) -> EmailMessage:
        """The newest mail to `to` whose subject ends so; it is sent just after the HTTP answer."""
        deadline = time.monotonic() + MAIL_SECONDS
        while time.monotonic() < deadline:
            for recipients, mail in self.messages[::-1]:
                if to in recipients and str(mail["Subject"]).endswith(subject_end):
                    return mail
            await asyncio.sleep(0.1)
        raise AssertionError(f"no mail {subject_end!r} to {to} within {MAIL_SECONDS} s: "
                             f"{[(r, m['Subject']) for r, m in self.messages]}")


@pytest.fixture(scope="module")
def smtp_inbox() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=60)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, smtp_inbox: tuple[int, Inbox]) -> Iterator[str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"  # the issuer, so the links in mail point at this server
    with live_server(tmp_path_factory.mktemp("recovery"), port=port, GATEHOUSE_ISSUER=base_url,
                     GATEHOUSE_NOTIFIER="smtp", GATEHOUSE_SMTP_HOST="127.0.0.1",
                     GATEHOUSE_SMTP_PORT=str(smtp_inbox[0]), GATEHOUSE_SMTP_TLS="none") as running:
        assert running.base_url == base_url
        yield base_url


@pytest.fixture
def inbox(smtp_inbox: tuple[int, Inbox]) -> Inbox:
    return smtp_inbox[1]


def link_in(mail: EmailMessage, base_url: str, path: str) -> str:
    """The one link of the mail: alone on its own line of the decoded text body."""
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None, mail
    text: str = cast(EmailMessage, body).get_content()
    pattern = re.compile(rf"{re.escape(base_url + path)}#token=[A-Za-z0-9_-]{{43,}}")
    links = [line for line in text.splitlines() if pattern.fullmatch(line)]  # the whole line, nothing else
    assert len(links) == 1, text
    return links[0]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    missing = _browser_missing()
    if missing:
        pytest.skip(f"browser test not run: {missing}")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


def posts_of(page: Page) -> list[str]:
    """The URLs the page POSTs to, recorded as they are made."""
    posts: list[str] = []

    def record(request: Request) -> None:
        if request.method == "POST":
            posts.append(request.url)

    page.on("request", record)
    return posts


async def held(page: Page, path: str) -> Callable[[], Awaitable[None]]:
    """Holds the page's requests to `path` until the returned function is awaited (to see the page in flight)."""
    release = asyncio.Event()

    async def hold(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await page.route(f"**{path}", hold)

    async def let_go() -> None:
        release.set()  # this request and any later one go on

    return let_go


async def verified(client: httpx.AsyncClient, access_token: str) -> bool:
    me = await client.get("/users/me", headers=bearer(access_token))
    assert me.status_code == 200, me.text
    return bool(me.json()["email_verified"])


async def test_a_reset_link_from_the_mail_sets_a_new_password_once(server: str, inbox: Inbox) -> None:
    from playwright.async_api import expect

    email = unique_email("reset-page")
    async with httpx.AsyncClient(base_url=server) as client:
        assert (await client.post("/auth/register", json={"email": email, "password": PASSWORD})).status_code == 201
        old_refresh = (await login(client, email))["refresh_token"]
        asked = await client.post("/auth/password-reset", json={"email": email})
        assert (asked.status_code, asked.json()) == (202, {"status": "accepted"})
    link = link_in(await inbox.wait_for(email, "Reset your password"), server, "/reset-password")

    async with chromium() as browser:
        page = await browser.new_page()
        posts = posts_of(page)
        await page.goto(link)
        field = page.get_by_label("New password")
        await expect(field).to_be_visible()
        assert page.url == f"{server}/reset-password"  # the token left the address bar (and the history entry)
        assert await page.evaluate("location.hash") == ""
        assert (await field.get_attribute("type"), await field.get_attribute("autocomplete")) == (
            "password", "new-password")
        status = page.get_by_role("status")

        await field.fill("short")
        await field.press("Enter")  # the browser itself refuses it (minlength): nothing is sent
        assert await field.evaluate("element => element.validity.tooShort")
        await page.wait_for_timeout(300)
        assert posts == []

        await field.fill("password")  # long enough, but on the list of leaked passwords: the server's 422
        await field.press("Enter")
        await expect(status).to_contain_text("too common")
        await expect(status).to_contain_text("try again")
        await expect(status).to_be_focused()
        assert len(posts) == 1

        await field.fill(NEW_PASSWORD)  # the same link, a second try: Enter submits it
        let_go = await held(page, "/auth/password-reset/confirm")
        await field.press("Enter")
        await expect(page.get_by_role("button", name="Set new password")).to_be_disabled()
        await let_go()
        await expect(status).to_contain_text("password was changed")
        await expect(status).to_contain_text("every session of your account was signed out")
        await expect(status).to_contain_text("You can now sign in")
        await expect(status).to_be_focused()
        await expect(field).to_be_hidden()

        async with httpx.AsyncClient(base_url=server) as client:
            await login(client, email, NEW_PASSWORD)
            old = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
            assert old.status_code == 401, old.text
            refreshed = await client.post("/auth/refresh", json={"refresh_token": old_refresh})
            assert refreshed.status_code == 401, refreshed.text

        again = await browser.new_page()
        await again.goto(link)
        await again.get_by_label("New password").fill("another fine passphrase 7")
        await again.get_by_role("button", name="Set new password").click()
        await expect(again.get_by_role("status")).to_contain_text("expired, already used")
        await expect(again.get_by_role("status")).to_contain_text("Request a new password reset")

    async with httpx.AsyncClient(base_url=server) as client:
        await login(client, email, NEW_PASSWORD)  # the used link changed nothing


async def test_a_verification_link_confirms_only_when_the_person_presses_confirm(server: str, inbox: Inbox) -> None:
    from playwright.async_api import expect

    email = unique_email("verify-page")
    async with httpx.AsyncClient(base_url=server) as client:
        assert (await client.post("/auth/register", json={"email": email, "password": PASSWORD})).status_code == 201
        access = (await login(client, email))["access_token"]
        link = link_in(await inbox.wait_for(email, "Confirm your email address"), server, "/verify-email")

        async with chromium() as browser:
            page = await browser.new_page()
            posts = posts_of(page)
            await page.goto(link)
            confirm = page.get_by_role("button", name="Confirm")
            await expect(confirm).to_be_visible()  # the script ran, as a scanner's would
            assert page.url == f"{server}/verify-email"
            await page.wait_for_load_state("networkidle")
            assert posts == []
            assert not await verified(client, access)  # loading the page spent nothing

            await confirm.click()
            status = page.get_by_role("status")
            await expect(status).to_have_text(f"Your address {email} is confirmed.")
            await expect(status).to_be_focused()
            await expect(confirm).to_be_hidden()
            assert await verified(client, access)

            again = await browser.new_page()
            await again.goto(link)
            await again.get_by_role("button", name="Confirm").press("Enter")  # the keyboard alone
            await expect(again.get_by_role("status")).to_contain_text("expired, already used")


async def test_a_link_without_its_token_says_it_is_incomplete(server: str) -> None:
    from playwright.async_api import expect

    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{server}/reset-password")
        await expect(page.get_by_role("status")).to_contain_text("link is incomplete")
        await expect(page.get_by_label("New password")).to_be_hidden()
        await page.goto(f"{server}/verify-email#token=")
        await expect(page.get_by_role("status")).to_contain_text("link is incomplete")
        await expect(page.get_by_role("button", name="Confirm")).to_be_hidden()


def _inline_hashes(html: str, tag: str) -> set[str]:
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.DOTALL)
    assert blocks, html
    return {"'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'" for b in blocks}


@pytest.mark.parametrize("path", PAGES)
async def test_the_pages_are_self_contained_under_a_strict_policy(server: str, path: str) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        page = await client.get(path)
        schema = (await client.get("/openapi.json")).json()
    assert page.status_code == 200
    headers = page.headers
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    directives = dict(d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";"))
    assert directives["default-src"] == "'none'"
    assert (directives["form-action"], directives["base-uri"], directives["frame-ancestors"]) == ("'none'",) * 3
    assert directives["connect-src"] == "'self'"
    assert set(directives["script-src"].split()) == _inline_hashes(page.text, "script")  # exactly its own
    assert set(directives["style-src"].split()) == _inline_hashes(page.text, "style")
    html = page.text
    assert '<html lang="en">' in html
    assert not re.search(r"\b(src|href|action)\s*=", html, re.IGNORECASE), "an asset or a link elsewhere"
    for elsewhere in ("//", "url(", "@import"):
        assert elsewhere not in html
    assert path not in schema["paths"]
