"""Tabs of one browser refreshing at once, against a real two-worker `gatehouse serve` (SQLite's file and
Postgres): every tab presents the same refresh cookie; inside the browser grace window they all get its one
successor and the session lives on (the API tests show reuse outside the window ending it)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from tests.api.helpers import PASSWORD, set_cookies, unique_email
from tests.live_server import live_server

APP = "http://app.gatehouse.test"
REFRESH, CSRF, ACCESS = "__Secure-gatehouse_refresh", "__Host-gatehouse_csrf", "__Host-gatehouse_access"


def test_tabs_refreshing_at_once_converge_on_one_successor_across_workers(
        server_env: dict[str, str], tmp_path: Path) -> None:
    env = {**server_env, "GATEHOUSE_ALLOWED_ORIGINS": json.dumps([APP]),
           "GATEHOUSE_BROWSER_REFRESH_GRACE_SECONDS": "10"}
    with live_server(tmp_path, workers=2, environment=env) as server:
        async def scenario() -> None:
            email = unique_email("tabs")
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                assert (await client.post("/auth/register", json={"email": email, "password": PASSWORD})
                        ).status_code == 201
                login = await client.post("/auth/browser/login", headers={"Origin": APP},
                                          json={"email": email, "password": PASSWORD})
                assert login.status_code == 200, login.text
            jar = {name: c["value"] for name, c in set_cookies(login).items()}
            csrf = login.json()["csrf_token"]

            async def tab(cookies: dict[str, str]) -> httpx.Response:
                headers = {"Origin": APP, "X-CSRF-Token": csrf,
                           "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
                async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as own:  # its own connection
                    return await own.post("/auth/browser/refresh", headers=headers)

            answers = await asyncio.gather(*(tab(jar) for _ in range(8)))
            assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
            successors = {set_cookies(a)[REFRESH]["value"] for a in answers}
            assert len(successors) == 1  # one successor for all the tabs
            assert {a.json()["csrf_token"] for a in answers} == {csrf}  # the session's token, unchanged
            converged = {**jar, REFRESH: successors.pop(), ACCESS: set_cookies(answers[0])[ACCESS]["value"]}
            onward = await tab(converged)
            assert onward.status_code == 200  # the session lives on
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                me = await client.get("/users/me", headers={
                    "Cookie": f"{ACCESS}={set_cookies(onward)[ACCESS]['value']}"})
            assert me.json()["email"] == email

        asyncio.run(scenario())
