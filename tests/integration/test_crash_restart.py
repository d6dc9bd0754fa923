"""kill -9 under traffic: after a restart every acknowledged user, session and notification is there,
and notifications the dead process never delivered are delivered by the new one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.api.helpers import PASSWORD, unique_email
from tests.live_server import live_server


async def _one_account(client: httpx.AsyncClient, acked: dict[str, list]) -> None:  # type: ignore[type-arg]
    email = unique_email("crash")
    if (await client.post("/auth/register", json={"email": email, "password": PASSWORD})).status_code != 201:
        return
    acked["users"].append(email)
    login = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    if login.status_code != 200:
        return
    tokens = login.json()
    acked["sessions"].append(tokens["refresh_token"])
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    sent = await client.post("/notifications", json={"message": f"for {email}"}, headers=auth)
    if sent.status_code == 202:
        acked["notifications"].append((email, tokens["refresh_token"], sent.json()["id"]))


async def _traffic(base_url: str, acked: dict[str, list], stop: asyncio.Event) -> None:  # type: ignore[type-arg]
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        while not stop.is_set():
            try:
                await _one_account(client, acked)
            except httpx.TransportError:
                return  # the server died under us: that is the point


async def test_a_killed_server_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    acked: dict[str, list] = {"users": [], "sessions": [], "notifications": []}  # type: ignore[type-arg]
    # The first process cannot deliver (its mailbox file cannot be created: a file stands where its
    # directory should be) and retries slowly, so its notifications are still queued when it is killed;
    # the second delivers to the log file. (Not SMTP: it would withhold mail to these unverified addresses.)
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    with live_server(tmp_path, GATEHOUSE_NOTIFICATION_LOG_FILE=str(blocker / "notifications.log"),
                     GATEHOUSE_NOTIFY_BACKOFF_SECONDS="2", GATEHOUSE_SMTP_TIMEOUT_SECONDS="1",
                     GATEHOUSE_NOTIFY_LEASE_SECONDS="3") as first:
        stop = asyncio.Event()
        workers = [asyncio.create_task(_traffic(first.base_url, acked, stop)) for _ in range(4)]
        while len(acked["notifications"]) < 12:
            await asyncio.sleep(0.01)
        first.kill()  # mid-traffic: requests are in flight
        stop.set()
        await asyncio.gather(*workers)

    with live_server(tmp_path, GATEHOUSE_NOTIFY_STALE_AFTER_SECONDS="0",
                     GATEHOUSE_NOTIFY_SWEEP_INTERVAL_SECONDS="0.2") as second:
        async with httpx.AsyncClient(base_url=second.base_url, timeout=10) as client:
            for email in acked["users"]:
                login = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
                assert login.status_code == 200, email
            for email, refresh_token, notification_id in acked["notifications"]:
                refreshed = await client.post("/auth/refresh", json={"refresh_token": refresh_token})
                assert refreshed.status_code == 200, email
                auth = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
                status = None
                for _ in range(200):
                    listed = (await client.get("/notifications", headers=auth)).json()
                    status = {n["id"]: n["status"] for n in listed}.get(notification_id)
                    if status == "delivered":
                        break
                    await asyncio.sleep(0.05)
                assert status == "delivered", (email, status)
            others = {token for _, token, _ in acked["notifications"]}
            for refresh_token in acked["sessions"]:
                if refresh_token not in others:
                    refreshed = await client.post("/auth/refresh", json={"refresh_token": refresh_token})
                    assert refreshed.status_code == 200
