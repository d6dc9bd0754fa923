"""Notifications end to end: after the response, through SMTP, failures recorded, nothing lost."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import select, update

from api.container import Container
from infrastructure.db.tables import notifications, users
from tests.api.helpers import account
from tests.conftest import AppFactory, client_for
from tests.integration.test_notifiers import Inbox
from tests.live_server import free_port


class GatedInbox(Inbox):
    """Holds every DATA command until the test opens the gate: a mail server that hangs."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 20)
        return await super().handle_DATA(server, session, envelope)


class RefusingInbox(Inbox):
    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        return "550 5.1.1 mailbox unavailable"


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """The app behind a real uvicorn server on loopback (its lifespan is already running)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def proven(container: Container, email: str) -> None:
    """Mark the address verified (these tests are about delivery; mail to an unproven address is withheld,
    and proving it through its link is tested in test_recovery_mail.py)."""
    async with container.engine().begin() as conn:
        await conn.execute(update(users).where(users.c.email == email).values(email_verified=True))


async def _statuses(client: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, str]:
    response = await client.get("/notifications", headers=auth)
    return {n["id"]: n["status"] for n in response.json()}


async def test_a_hanging_mail_server_does_not_hold_up_the_response(app_factory: AppFactory) -> None:
    inbox = GatedInbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        app, container = await app_factory(notifier="smtp", smtp_host="127.0.0.1", smtp_port=smtp.port,
                                           smtp_tls="none")
        async with serving(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            alice = await account(client)
            await proven(container, alice.email)
            response = await client.post("/notifications", json={"message": "ping"}, headers=alice.auth)
            # The answer came while the mail server was still holding every message.
            assert response.status_code == 202
            assert response.json()["status"] == "queued"
            assert all(mail["Subject"].endswith("Confirm your email address") for _, mail in inbox.messages)
            inbox.gate.set()
            for _ in range(200):
                if (await _statuses(client, alice.auth)).get(response.json()["id"]) == "delivered":
                    break
                await asyncio.sleep(0.05)
            assert (await _statuses(client, alice.auth))[response.json()["id"]] == "delivered"
            delivered_to = [rcpt for rcpt, _ in inbox.messages]
            assert [alice.email] in delivered_to
    finally:
        inbox.gate.set()
        smtp.stop()


async def test_a_refusing_mail_server_leaves_the_notification_failed_with_the_reason(
        app_factory: AppFactory) -> None:
    smtp = Controller(RefusingInbox(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        app, container = await app_factory(notifier="smtp", smtp_host="127.0.0.1", smtp_port=smtp.port,
                                           smtp_tls="none", notify_max_attempts=3)
        async with client_for(app) as client:
            alice = await account(client)
            await proven(container, alice.email)
            response = await client.post("/notifications", json={"message": "ping"}, headers=alice.auth)
            assert response.status_code == 202
            assert (await _statuses(client, alice.auth))[response.json()["id"]] == "failed"
        async with container.engine().connect() as conn:
            row = (await conn.execute(select(notifications.c.attempts, notifications.c.last_error)
                                      .where(notifications.c.id == uuid.UUID(response.json()["id"])))).one()
        assert row.attempts == 3
        assert "550" in row.last_error
    finally:
        smtp.stop()


async def test_a_notification_left_queued_by_a_dead_process_is_delivered_after_restart(
        app_factory: AppFactory, tmp_path: Any) -> None:
    # First process: records the notification (claimed by it for 3 s), then "dies" before its
    # background task runs.
    first, first_container = await app_factory(notify_lease_seconds=3, smtp_timeout_seconds=1)
    async with client_for(first) as client:
        alice = await account(client)
        principal = await first_container.authenticate().execute(alice.tokens["access_token"])
        orphan = await first_container.send_message().execute(principal, "left behind")
        assert (await _statuses(client, alice.auth))[str(orphan.id)] == "queued"
    # Second process on the same database: its sweep picks the orphan up once that claim has run out.
    second, _ = await app_factory(notify_stale_after_seconds=0, notify_sweep_interval_seconds=0.2)
    async with client_for(second) as client:
        for _ in range(200):
            if (await _statuses(client, alice.auth)).get(str(orphan.id)) == "delivered":
                break
            await asyncio.sleep(0.05)
        assert (await _statuses(client, alice.auth))[str(orphan.id)] == "delivered"
    log_file = tmp_path / "data" / "notifications.log"
    assert log_file.read_text().count(str(orphan.id)) == 1


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_twenty_concurrent_refreshes_of_one_token_give_exactly_one_success(app_factory: AppFactory) -> None:
    app, _ = await app_factory()
    async with client_for(app) as client:
        alice = await account(client)
        token = alice.tokens["refresh_token"]
        responses = await asyncio.gather(*(client.post("/auth/refresh", json={"refresh_token": token})
                                           for _ in range(20)))
        codes = sorted(r.status_code for r in responses)
        assert codes == [200] + [401] * 19
        # default grace 0: the losers are reuse, so the winner's new tokens stop working too
        winner = next(r.json() for r in responses if r.status_code == 200)
        again = await client.post("/auth/refresh", json={"refresh_token": winner["refresh_token"]})
        assert again.status_code == 401
        me = await client.get("/users/me", headers={"Authorization": f"Bearer {winner['access_token']}"})
        assert me.status_code == 401
