"""POST and GET /notifications, and the security notifications the service sends by itself."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from tests.api.helpers import (
    PASSWORD,
    account,
    assert_problem,
    assert_token_response,
    kinds,
    notifications_of,
    parse_time,
    password_grant,
)
from tests.conftest import AppFactory, client_for
from tests.fakes import FakeNotifier

NOTIFICATION_FIELDS = {"id", "kind", "message", "status", "created_at", "delivered_at"}


async def test_sending_a_message_is_202_queued(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await client.post("/notifications", json={"message": "hello me"}, headers=alice.auth)
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"id", "status"}
    uuid.UUID(body["id"])
    assert body["status"] == "queued"


async def test_a_sent_message_is_delivered_after_the_response(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    queued = (await client.post("/notifications", json={"message": "hello me"}, headers=alice.auth)).json()
    listed = {n["id"]: n for n in await notifications_of(client, alice)}
    note = listed[queued["id"]]
    assert set(note) == NOTIFICATION_FIELDS
    assert note["kind"] == "message"
    assert note["message"] == "hello me"
    assert note["status"] == "delivered"
    assert parse_time(note["delivered_at"]) >= parse_time(note["created_at"])


async def test_notifications_are_listed_newest_first(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    ids = [(await client.post("/notifications", json={"message": f"m{n}"}, headers=alice.auth)).json()["id"]
           for n in range(3)]
    listed = await notifications_of(client, alice)
    assert [n["id"] for n in listed][:3] == list(reversed(ids))
    times = [parse_time(n["created_at"]) for n in listed]
    assert times == sorted(times, reverse=True)


async def test_every_password_login_sends_a_new_login_notification(client: httpx.AsyncClient) -> None:
    alice = await account(client)  # one login
    assert kinds(await notifications_of(client, alice)) == ["new_login", "email_verification"]
    await client.post("/auth/login", json={"email": alice.email, "password": PASSWORD})
    assert_token_response(await password_grant(client, alice.email))
    notes = await notifications_of(client, alice)
    assert kinds(notes) == ["new_login"] * 3 + ["email_verification"]  # the registration's link first
    assert all(n["status"] == "delivered" and n["delivered_at"] for n in notes), notes


async def test_a_failed_login_sends_no_notification(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    await client.post("/auth/login", json={"email": alice.email, "password": "wrong password"})
    await password_grant(client, alice.email, "wrong password")
    assert kinds(await notifications_of(client, alice)) == ["new_login", "email_verification"]


async def test_changing_the_password_sends_a_password_changed_notification(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await client.post("/users/me/password", headers=alice.auth,
                                 json={"current_password": PASSWORD, "new_password": "another fine passphrase"})
    assert response.status_code == 204, response.text
    notes = await notifications_of(client, alice)
    assert kinds(notes) == ["password_changed", "new_login", "email_verification"]
    assert notes[0]["status"] == "delivered"


async def test_a_refused_password_change_sends_no_notification(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    await client.post("/users/me/password", headers=alice.auth,
                      json={"current_password": "wrong", "new_password": "another fine passphrase"})
    assert kinds(await notifications_of(client, alice)) == ["new_login", "email_verification"]


async def test_users_cannot_see_each_others_notifications(client: httpx.AsyncClient) -> None:
    alice, bob = await account(client), await account(client)
    secret = (await client.post("/notifications", json={"message": "alice only"}, headers=alice.auth)).json()
    bobs = await notifications_of(client, bob)
    assert secret["id"] not in {n["id"] for n in bobs}
    assert "alice only" not in str(bobs)
    assert kinds(bobs) == ["new_login", "email_verification"]


@pytest.mark.parametrize("body", [{}, {"message": ""}, {"message": "   "}, {"message": "\x1f"}, {"message": 5},
                                  {"message": None},
                                  {"message": "nul\x00"}, {"message": "x" * 100_000}])
async def test_sending_an_invalid_message_is_422(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    alice = await account(client)
    response = await client.post("/notifications", json=body, headers=alice.auth)
    assert_problem(response, 422, "validation_error")
    assert kinds(await notifications_of(client, alice)) == ["new_login", "email_verification"]


async def test_notifications_need_a_bearer_token(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/notifications"), 401, "not_authenticated")
    assert_problem(await client.post("/notifications", json={"message": "x"}), 401, "not_authenticated")


async def test_security_notifications_go_to_the_users_normalised_address(app_factory: AppFactory) -> None:
    notifier = FakeNotifier(mails_people=False)  # delivers to unverified addresses too, as the log notifier does
    app, _ = await app_factory(container_setup=lambda c: c.notifier.override(providers.Object(notifier)))
    async with client_for(app) as client:
        alice = await account(client, " Alice@Example.COM ")
        await client.post("/notifications", json={"message": "note to self"}, headers=alice.auth)
    assert [(n.kind.value, to.value) for n, to in notifier.sent] == [("email_verification", "alice@example.com"),
                                                                     ("new_login", "alice@example.com"),
                                                                     ("message", "alice@example.com")]


async def test_a_notification_that_cannot_be_delivered_ends_failed_without_touching_the_request(
        app_factory: AppFactory) -> None:
    notifier = FakeNotifier(fail_times=1_000, mails_people=False)
    app, _ = await app_factory(container_setup=lambda c: c.notifier.override(providers.Object(notifier)),
                               notify_max_attempts=2)
    async with client_for(app) as client:
        alice = await account(client)
        response = await client.post("/notifications", json={"message": "into the void"}, headers=alice.auth)
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "queued"
        notes = {n["id"]: n for n in await notifications_of(client, alice)}
    note = notes[response.json()["id"]]
    assert note["status"] == "failed"
    assert note["delivered_at"] is None


async def test_the_eleventh_message_in_an_hour_is_429_and_is_not_recorded(client: httpx.AsyncClient) -> None:
    alice, bob = await account(client), await account(client)
    for n in range(10):
        response = await client.post("/notifications", json={"message": f"note {n}"}, headers=alice.auth)
        assert response.status_code == 202, response.text

    response = await client.post("/notifications", json={"message": "one too many"}, headers=alice.auth)

    body = assert_problem(response, 429, "rate_limited")
    assert 3500 <= int(response.headers["Retry-After"]) <= 3600
    assert "messages" in body["detail"]
    assert kinds(await notifications_of(client, alice)).count("message") == 10
    assert (await client.post("/notifications", json={"message": "hi"}, headers=bob.auth)).status_code == 202


async def test_the_message_limit_is_configurable(app_factory: AppFactory) -> None:
    app, _ = await app_factory(messages_per_hour=2)
    async with client_for(app) as client:
        alice = await account(client)
        for _ in range(2):
            assert (await client.post("/notifications", json={"message": "x"}, headers=alice.auth)).status_code == 202
        assert_problem(await client.post("/notifications", json={"message": "x"}, headers=alice.auth), 429,
                       "rate_limited")
