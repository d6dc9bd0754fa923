"""Browsers: cookies with CSRF protection, as the contract's "Browsers" section says (httpx against the app; the
Chromium test drives a real browser)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from api.routers.browser import router as browser_router
from tests.api.helpers import PASSWORD, assert_problem, claims_of, register, set_cookies, unique_email
from tests.conftest import AppFactory, client_for

APP = "http://app.gatehouse.test"
ACCESS, REFRESH, CSRF = "__Host-gatehouse_access", "__Secure-gatehouse_refresh", "__Host-gatehouse_csrf"


class Browser:
    """A cookie jar as a browser keeps it for Gatehouse's origin, with the page's Origin on every request."""

    def __init__(self, client: httpx.AsyncClient, origin: str = APP) -> None:
        self.client, self.origin = client, origin
        self.jar: dict[str, dict[str, str]] = {}
        self.csrf = ""

    def cookie_header(self, path: str) -> str:
        return "; ".join(f"{n}={c['value']}" for n, c in self.jar.items() if path.startswith(c.get("Path", "/")))

    async def request(self, method: str, path: str, *, csrf: str | None = None, origin: str | None = None,
                      **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if origin != "":
            headers["Origin"] = origin or self.origin
        cookies = self.cookie_header(path)
        if cookies:
            headers["Cookie"] = cookies
        token = self.csrf if csrf is None else csrf
        if token:
            headers["X-CSRF-Token"] = token
        response = await self.client.request(method, path, headers=headers, **kwargs)
        for name, cookie in set_cookies(response).items():
            if cookie.get("Max-Age") == "0":
                self.jar.pop(name, None)
            else:
                self.jar[name] = cookie
        if response.headers.get("content-type", "").startswith("application/json") and response.status_code == 200:
            self.csrf = response.json().get("csrf_token", self.csrf) if isinstance(response.json(), dict) else self.csrf
        return response

    async def log_in(self, email: str) -> httpx.Response:
        answer = await self.request("POST", "/auth/browser/login", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return answer


async def signed_in(client: httpx.AsyncClient) -> tuple[Browser, str]:
    """A new account, signed in through /auth/browser/login from the allowed app: its browser and address."""
    email = unique_email("browser")
    await register(client, email)
    browser = Browser(client)
    await browser.log_in(email)
    return browser, email


async def _app(app_factory: AppFactory, **overrides: Any) -> httpx.AsyncClient:
    app, _ = await app_factory(allowed_origins=[APP], **overrides)
    return client_for(app)


async def test_login_sets_the_three_cookies_exactly_as_the_contract_says(app_factory: AppFactory) -> None:
    async with await _app(app_factory) as client:
        email = unique_email("browser")
        await register(client, email)
        answer = await Browser(client).log_in(email)
        body = answer.json()
        assert set(body) == {"user", "expires_in", "csrf_token"}  # no access or refresh token in the body
        assert body["user"]["email"] == email
        assert answer.headers["cache-control"] == "no-store"
        cookies = set_cookies(answer)
        assert set(cookies) == {ACCESS, REFRESH, CSRF}
        common = {"Secure": "", "Max-Age": cookies[ACCESS]["Max-Age"]}
        assert {k: v for k, v in cookies[ACCESS].items() if k != "value"} == {
            "HttpOnly": "", **common, "SameSite": "Lax", "Path": "/"}
        assert int(cookies[ACCESS]["Max-Age"]) == body["expires_in"]
        assert {k for k in cookies[REFRESH] if k != "value"} == {"HttpOnly", "Secure", "SameSite", "Path", "Max-Age"}
        assert (cookies[REFRESH]["SameSite"], cookies[REFRESH]["Path"]) == ("Strict", "/auth/browser")
        assert "Domain" not in cookies[REFRESH]
        assert {k for k in cookies[CSRF] if k != "value"} == {"Secure", "SameSite", "Path", "Max-Age"}  # readable
        assert (cookies[CSRF]["SameSite"], cookies[CSRF]["Path"], cookies[CSRF]["value"]) == (
            "Strict", "/", body["csrf_token"])


async def test_login_from_no_or_another_origin_is_refused_and_sets_nothing(app_factory: AppFactory) -> None:
    async with await _app(app_factory) as client:
        email = unique_email("browser")
        await register(client, email)
        for origin in ("", "http://evil.test", "http://app.gatehouse.test.evil.test", "null"):
            answer = await Browser(client).request("POST", "/auth/browser/login", origin=origin,
                                                   json={"email": email, "password": PASSWORD})
            assert_problem(answer, 403, "csrf_failed")
            assert "set-cookie" not in answer.headers
        own = await Browser(client, origin="http://gatehouse.test").log_in(email)  # the service's own origin
        assert own.status_code == 200
        wrong = await Browser(client).request("POST", "/auth/browser/login", json={"email": email, "password": "x"})
        assert_problem(wrong, 401)  # as /auth/login


async def test_the_access_cookie_works_on_every_route_and_an_authorization_header_wins(
        app_factory: AppFactory) -> None:
    async with await _app(app_factory) as client:
        alice, bob = unique_email("alice"), unique_email("bob")
        await register(client, alice)
        await register(client, bob)
        browser = Browser(client)
        await browser.log_in(alice)
        me = await browser.request("GET", "/users/me")
        assert me.json()["email"] == alice
        bob_tokens = (await client.post("/auth/login", json={"email": bob, "password": PASSWORD})).json()
        as_bob = {"Authorization": f"Bearer {bob_tokens['access_token']}"}
        both = await browser.request("GET", "/users/me", headers=as_bob)
        assert both.json()["email"] == bob
        basic = await browser.request("GET", "/users/me", headers={"Authorization": "Basic eDp5"})
        assert_problem(basic, 401)  # the header is used, and it is not a bearer token: no fall-back to cookies
        sessions = await browser.request("GET", "/auth/sessions")
        assert sessions.status_code == 200


async def test_a_cookie_write_needs_the_origin_and_the_csrf_token_of_its_session(app_factory: AppFactory) -> None:
    async with await _app(app_factory) as client:
        alice, bob = unique_email("alice"), unique_email("bob")
        await register(client, alice)
        await register(client, bob)
        browser, other = Browser(client), Browser(client)
        await browser.log_in(alice)
        await other.log_in(alice)  # another session of the same user: another CSRF token
        item = {"title": "from the browser"}
        refused = {
            "no CSRF header": await browser.request("POST", "/items", csrf="", json=item),
            "a wrong token": await browser.request("POST", "/items", csrf="x" * 43, json=item),
            "no Origin": await browser.request("POST", "/items", origin="", json=item),
            "another origin": await browser.request("POST", "/items", origin="http://evil.test", json=item),
        }
        # the header and the cookie agree, but the token is another session's (a forged CSRF cookie)
        browser.jar[CSRF] = {**browser.jar[CSRF], "value": other.csrf}
        refused["another session's token"] = await browser.request("POST", "/items", csrf=other.csrf, json=item)
        for what, answer in refused.items():
            assert answer.status_code == 403, what
            assert answer.json()["code"] == "csrf_failed", what
        browser.jar[CSRF] = {**browser.jar[CSRF], "value": browser.csrf}
        assert (await browser.request("GET", "/items")).json()["items"] == []  # nothing was written
        made = await browser.request("POST", "/items", json=item)
        assert made.status_code == 201, made.text
        assert (await browser.request("DELETE", f"/items/{made.json()['id']}", csrf="")).status_code == 403
        assert (await browser.request("GET", "/items")).json()["items"][0]["title"] == "from the browser"


async def test_a_reloaded_page_gets_its_csrf_token_back_from_either_cookie(app_factory: AppFactory) -> None:
    async with await _app(app_factory) as client:
        email = unique_email("browser")
        await register(client, email)
        browser = Browser(client)
        login = (await browser.log_in(email)).json()
        by_access = await browser.request("GET", "/auth/browser/session")
        assert by_access.status_code == 200
        assert by_access.json()["csrf_token"] == login["csrf_token"]
        assert 0 < by_access.json()["expires_in"] <= login["expires_in"]
        del browser.jar[ACCESS]  # the access cookie has expired
        by_refresh = await browser.request("GET", "/auth/browser/session")
        assert (by_refresh.json()["csrf_token"], by_refresh.json()["expires_in"]) == (login["csrf_token"], 0)
        assert by_refresh.json()["user"]["email"] == email
        browser.jar.clear()
        assert (await browser.request("GET", "/auth/browser/session")).status_code == 401


async def test_refresh_rotates_the_cookies_and_a_refused_one_changes_nothing(app_factory: AppFactory) -> None:
    async with await _app(app_factory) as client:
        browser, email = await signed_in(client)
        first = browser.jar[REFRESH]["value"]
        for csrf, origin in (("", None), ("nope", None), (None, "http://evil.test"), (None, "")):
            refused = await browser.request("POST", "/auth/browser/refresh", csrf=csrf, origin=origin)
            assert_problem(refused, 403, "csrf_failed")
            assert "set-cookie" not in refused.headers
        assert browser.jar[REFRESH]["value"] == first
        rotated = await browser.request("POST", "/auth/browser/refresh")
        assert rotated.status_code == 200, rotated.text
        assert set(rotated.json()) == {"user", "expires_in", "csrf_token"}
        assert set(set_cookies(rotated)) == {ACCESS, REFRESH, CSRF}
        assert browser.jar[REFRESH]["value"] != first
        assert (await browser.request("GET", "/users/me")).json()["email"] == email
        # the same cookie presented again by a tab that has not seen the answer: the same successor
        tab = Browser(client)
        tab.jar = {**browser.jar, REFRESH: {**browser.jar[REFRESH], "value": first}}
        tab.csrf = browser.csrf
        again = await tab.request("POST", "/auth/browser/refresh")
        assert again.status_code == 200
        assert tab.jar[REFRESH]["value"] == browser.jar[REFRESH]["value"]


async def test_reuse_outside_the_browser_window_ends_the_session(app_factory: AppFactory) -> None:
    async with await _app(app_factory, browser_refresh_grace_seconds=0) as client:
        browser, _email = await signed_in(client)
        first = browser.jar[REFRESH]["value"]
        assert (await browser.request("POST", "/auth/browser/refresh")).status_code == 200
        thief = Browser(client)
        thief.jar = {**browser.jar, REFRESH: {**browser.jar[REFRESH], "value": first}}
        thief.csrf = browser.csrf
        assert_problem(await thief.request("POST", "/auth/browser/refresh"), 401, "invalid_refresh_token")
        assert (await browser.request("POST", "/auth/browser/refresh")).status_code == 401  # the session ended
        assert (await browser.request("GET", "/users/me")).status_code == 401


async def test_a_browser_refresh_token_at_auth_refresh_gets_that_endpoints_window(app_factory: AppFactory) -> None:
    async with await _app(app_factory) as client:  # /auth/refresh: no grace window by default
        browser, _email = await signed_in(client)
        first = browser.jar[REFRESH]["value"]
        assert (await client.post("/auth/refresh", json={"refresh_token": first})).status_code == 200
        reused = await client.post("/auth/refresh", json={"refresh_token": first})
        assert reused.status_code == 401
        assert (await browser.request("GET", "/users/me")).status_code == 401  # reuse ended the session


async def test_logout_ends_the_session_and_clears_the_cookies(app_factory: AppFactory) -> None:
    async with await _app(app_factory) as client:
        browser, _email = await signed_in(client)
        kept = dict(browser.jar)
        assert_problem(await browser.request("POST", "/auth/browser/logout", csrf=""), 403, "csrf_failed")
        assert (await browser.request("GET", "/users/me")).status_code == 200  # the refused logout did nothing
        out = await browser.request("POST", "/auth/browser/logout")
        assert out.status_code == 204
        cleared = set_cookies(out)
        assert set(cleared) == {ACCESS, REFRESH, CSRF}
        for name, path in ((ACCESS, "/"), (REFRESH, "/auth/browser"), (CSRF, "/")):
            assert (cleared[name]["value"], cleared[name]["Max-Age"], cleared[name]["Path"]) == ("", "0", path)
            assert "Secure" in cleared[name]
        assert "Clear-Site-Data" not in out.headers
        browser.jar = kept  # a copy of the cookies taken before: refused
        assert (await browser.request("GET", "/users/me")).status_code == 401
        assert (await browser.request("POST", "/auth/browser/refresh")).status_code == 401
        empty = Browser(client)
        empty.jar = {CSRF: kept[CSRF]}
        empty.csrf = kept[CSRF]["value"]
        nothing = await empty.request("POST", "/auth/browser/logout")
        assert nothing.status_code == 204  # no refresh cookie: 204, and nothing happens
        assert "set-cookie" not in nothing.headers


async def test_cors_with_credentials_for_exactly_the_allowed_origins(app_factory: AppFactory) -> None:
    async with await _app(app_factory) as client:
        preflight = await client.options("/auth/browser/refresh", headers={
            "Origin": APP, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-csrf-token, content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == APP
        assert preflight.headers["access-control-allow-credentials"] == "true"
        assert "x-csrf-token" in preflight.headers["access-control-allow-headers"].lower()
        simple = await client.get("/health", headers={"Origin": APP})
        assert simple.headers["access-control-allow-origin"] == APP
        for other in ("http://evil.test", "http://gatehouse.test.evil.test"):
            refused = await client.options("/auth/browser/refresh", headers={
                "Origin": other, "Access-Control-Request-Method": "POST"})
            assert "access-control-allow-origin" not in refused.headers
            assert "access-control-allow-origin" not in (await client.get("/health", headers={"Origin": other})).headers


async def test_without_allowed_origins_no_cors_headers_at_all(app_factory: AppFactory) -> None:
    app, _ = await app_factory()
    async with client_for(app) as client:
        answer = await client.get("/health", headers={"Origin": APP})
        assert "access-control-allow-origin" not in answer.headers


async def test_cookie_secure_false_drops_secure_and_the_prefixes(app_factory: AppFactory) -> None:
    async with await _app(app_factory, cookie_secure=False) as client:
        email = unique_email("browser")
        await register(client, email)
        cookies = set_cookies(await Browser(client).log_in(email))
        assert set(cookies) == {"gatehouse_access", "gatehouse_refresh", "gatehouse_csrf"}
        assert not any("Secure" in c for c in cookies.values())


async def test_concurrent_refreshes_of_one_cookie_converge_on_one_successor(app_factory: AppFactory) -> None:
    async with await _app(app_factory) as client:
        browser, _email = await signed_in(client)
        tabs = []
        for _ in range(6):
            tab = Browser(client)
            tab.jar, tab.csrf = dict(browser.jar), browser.csrf
            tabs.append(tab)
        answers = await asyncio.gather(*(t.request("POST", "/auth/browser/refresh") for t in tabs))
        assert [a.status_code for a in answers] == [200] * 6
        assert len({t.jar[REFRESH]["value"] for t in tabs}) == 1
        assert (await tabs[0].request("GET", "/users/me")).status_code == 200


def test_the_browser_routes_are_the_contracts() -> None:
    assert sorted((options["methods"][0], browser_router.prefix + path)
                  for path, _, options in browser_router.declared) == [
        ("GET", "/auth/browser/session"), ("POST", "/auth/browser/login"), ("POST", "/auth/browser/logout"),
        ("POST", "/auth/browser/refresh")]



async def test_a_bearer_sessions_token_gets_no_browser_window_at_the_browser_endpoints(
        app_factory: AppFactory) -> None:
    """A bearer client's just-rotated refresh token, stolen and presented as a refresh cookie within the browser
    window — even with the session's own CSRF token — is judged by the bearer rules: reuse, the session ends, and
    its successor is not handed out."""
    app, container = await app_factory(allowed_origins=[APP])
    async with client_for(app) as client:
        email = unique_email("bearer")
        await register(client, email)
        tokens = (await client.post("/auth/login", json={"email": email, "password": PASSWORD})).json()
        rotated = (await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).json()
        thief = Browser(client)
        thief.jar = {REFRESH: {"value": tokens["refresh_token"], "Path": "/auth/browser"}}
        assert (await thief.request("GET", "/auth/browser/session")).status_code == 401  # no CSRF token for it
        session_id = uuid.UUID(claims_of(rotated["access_token"])["sid"])
        csrf = container.csrf_tokens().for_session(session_id)  # suppose the thief had it anyway
        attempt = await client.post("/auth/browser/refresh", headers={
            "Origin": APP, "X-CSRF-Token": csrf, "Cookie": f"{REFRESH}={tokens['refresh_token']}; {CSRF}={csrf}"})
        assert_problem(attempt, 401, "invalid_refresh_token")
        assert "set-cookie" not in attempt.headers
        me = await client.get("/users/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
        assert me.status_code == 401  # reuse detection ended the session, as at /auth/refresh
        browser, _ = await signed_in(client)
        assert browser.jar[REFRESH]["value"].startswith("b.")  # a browser session's tokens carry the mark
        assert not tokens["refresh_token"].startswith("b.")
