"""Recovery under real concurrency: many confirms of one reset link at once, over HTTP against two worker
processes sharing Postgres (and SQLite's file, one writer at a time): exactly one wins."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx

from tests.api.helpers import PASSWORD, unique_email
from tests.api.mailbox import Mailbox
from tests.live_server import live_server

CONFIRMS = 20


async def _wait_for_token(mailbox: Mailbox, email: str) -> str:
    for _ in range(200):
        if mailbox.mails(email, "password_reset"):
            return mailbox.token(email, "password_reset")
        await asyncio.sleep(0.05)
    raise AssertionError("no reset mail")


def test_of_twenty_concurrent_confirms_of_one_reset_link_exactly_one_wins(
        server_env: dict[str, str], tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path / "data" / "notifications.log")
    with live_server(tmp_path, workers=2, environment=server_env) as server:
        email = unique_email("race")

        async def race() -> tuple[Counter[int], list[int]]:
            limits = httpx.Limits(max_connections=CONFIRMS)
            async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60) as client:
                assert (await client.post("/auth/register", json={"email": email, "password": PASSWORD})
                        ).status_code == 201
                assert (await client.post("/auth/password-reset", json={"email": email})).status_code == 202
                token = await _wait_for_token(mailbox, email)
                answers = await asyncio.gather(*(
                    client.post("/auth/password-reset/confirm",
                                json={"token": token, "new_password": f"new passphrase number {n}"})
                    for n in range(CONFIRMS)))
                winner = next(n for n, a in enumerate(answers) if a.status_code == 204)
                logins = [(await client.post("/auth/login", json={"email": email, "password": password})).status_code
                          for password in (f"new passphrase number {winner}", PASSWORD)]
                return Counter(a.status_code for a in answers), logins

        codes, logins = asyncio.run(race())
    assert codes == Counter({204: 1, 400: CONFIRMS - 1})
    assert logins == [200, 401]  # the winner's password is the password; nobody else's was written
