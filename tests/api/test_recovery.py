"""Contract v2, "Account recovery and verification": password reset, proof and change of address, and
deleting one's own account, over HTTP on SQLite and Postgres. Links are read from the development
mailbox (the `log` notifier's file); real SMTP is tested in tests/integration/test_recovery_mail.py."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from infrastructure.db.tables import account_tokens, notifications, security_events
from tests.api.conftest import ClockedApp
from tests.api.helpers import PASSWORD, Account, account, assert_problem, login, unique_email
from tests.api.mailbox import Mailbox
from tests.conftest import AppFactory, client_for

NEW_PASSWORD = "a brand new passphrase 42"
RESET = "password_reset"
VERIFY = "email_verification"


@pytest.fixture
def mailbox(tmp_path: Path) -> Mailbox:
    return Mailbox(tmp_path / "data" / "notifications.log")


async def _reset_link_for(client: httpx.AsyncClient, mailbox: Mailbox, email: str) -> str:
    response = await client.post("/auth/password-reset", json={"email": email})
    assert response.status_code == 202, response.text
    return mailbox.token(email, RESET)


async def _confirm_reset(client: httpx.AsyncClient, token: str, password: str = NEW_PASSWORD) -> httpx.Response:
    return await client.post("/auth/password-reset/confirm", json={"token": token, "new_password": password})


# --- the reset request ---------------------------------------------------------------------------

async def test_a_reset_request_answers_the_same_for_registered_and_unknown_addresses(
        client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    known = await client.post("/auth/password-reset", json={"email": alice.email})
    unknown = await client.post("/auth/password-reset", json={"email": unique_email("nobody")})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (202, {"status": "accepted"})
    varying = {"date", "x-request-id"}
    assert ({k: v for k, v in known.headers.items() if k not in varying}
            == {k: v for k, v in unknown.headers.items() if k not in varying})
    assert len(mailbox.mails(alice.email, RESET)) == 1
    assert mailbox.mails(kind=RESET) == mailbox.mails(alice.email, RESET)  # nothing to the unknown address


async def test_the_reset_link_points_at_the_reset_page_with_the_token_in_the_fragment(
        client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    token = await _reset_link_for(client, mailbox, alice.email)
    assert mailbox.link(alice.email, RESET) == f"http://gatehouse.test/reset-password#token={token}"
    assert len(token) >= 43  # 256 bits, base64url
    mail = mailbox.mails(alice.email, RESET)[-1]
    assert "If this was not you" in mail["body"]
    assert "UTC" in mail["body"]
    listed = (await client.get("/notifications", headers=alice.auth)).json()
    assert all(token not in n["message"] for n in listed)
    assert any(n["kind"] == RESET for n in listed)


async def test_a_reset_request_is_a_422_for_a_malformed_address(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/auth/password-reset", json={"email": "not an address"}), 422,
                   "validation_error")
    assert_problem(await client.post("/auth/password-reset", json={}), 422, "validation_error")


async def test_reset_requests_are_limited_per_client_address(app_factory: AppFactory) -> None:
    app, _ = await app_factory(password_reset_max_per_ip=2)
    async with client_for(app) as client, client_for(app, client=("198.51.100.1", 1)) as elsewhere:
        for _ in range(2):
            assert (await client.post("/auth/password-reset", json={"email": unique_email()})).status_code == 202
        limited = await client.post("/auth/password-reset", json={"email": unique_email()})
        assert_problem(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) > 0
        assert (await elsewhere.post("/auth/password-reset", json={"email": unique_email()})).status_code == 202


async def test_at_most_three_reset_mails_per_address_an_hour_and_the_fourth_voids_nothing(
        client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    for _ in range(3):
        await _reset_link_for(client, mailbox, alice.email)
    third = mailbox.token(alice.email, RESET)
    fourth = await client.post("/auth/password-reset", json={"email": alice.email})
    assert (fourth.status_code, fourth.json()) == (202, {"status": "accepted"})
    assert len(mailbox.mails(alice.email, RESET)) == 3
    assert (await _confirm_reset(client, third)).status_code == 204


# --- confirming a reset -------------------------------------------------------------------------

async def test_a_confirmed_reset_sets_the_password_and_ends_every_session(
        client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    other = await login(client, alice.email)
    token = await _reset_link_for(client, mailbox, alice.email)

    assert (await _confirm_reset(client, token)).status_code == 204

    for session in (alice.tokens, other):
        assert_problem(await client.post("/auth/refresh", json={"refresh_token": session["refresh_token"]}), 401,
                       "invalid_refresh_token")
        me = await client.get("/users/me", headers={"Authorization": f"Bearer {session['access_token']}"})
        assert_problem(me, 401, "invalid_token")
    assert_problem(await client.post("/auth/login", json={"email": alice.email, "password": PASSWORD}), 401)
    fresh = await login(client, alice.email, NEW_PASSWORD)
    auth = {"Authorization": f"Bearer {fresh['access_token']}"}
    me = (await client.get("/users/me", headers=auth)).json()
    assert me["email_verified"] is True  # the link reached the address
    kinds = [n["kind"] for n in (await client.get("/notifications", headers=auth)).json()]
    assert "password_changed" in kinds
    events = [e["type"] for e in (await client.get("/users/me/security-events", headers=auth)).json()["events"]]
    assert "password_reset_completed" in events
    assert "password_reset_requested" in events


async def test_a_reset_link_works_once(client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    token = await _reset_link_for(client, mailbox, alice.email)
    assert (await _confirm_reset(client, token)).status_code == 204
    assert_problem(await _confirm_reset(client, token, "yet another passphrase 7"), 400, "invalid_reset_token")
    await login(client, alice.email, NEW_PASSWORD)  # the second attempt changed nothing


async def test_a_newer_reset_link_voids_the_older_one(client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    older = await _reset_link_for(client, mailbox, alice.email)
    newer = await _reset_link_for(client, mailbox, alice.email)
    assert older != newer
    assert_problem(await _confirm_reset(client, older), 400, "invalid_reset_token")
    assert (await _confirm_reset(client, newer)).status_code == 204


async def test_a_password_change_voids_outstanding_reset_links(client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    token = await _reset_link_for(client, mailbox, alice.email)
    changed = await client.post("/users/me/password", headers=alice.auth,
                                json={"current_password": PASSWORD, "new_password": "changed by hand 123"})
    assert changed.status_code == 204
    assert_problem(await _confirm_reset(client, token), 400, "invalid_reset_token")


async def test_a_weak_password_is_a_422_and_leaves_the_link_usable(client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    token = await _reset_link_for(client, mailbox, alice.email)
    weak = assert_problem(await _confirm_reset(client, token, "short"), 422, "validation_error")
    assert weak["errors"][0]["loc"] == ["body", "new_password"]
    assert_problem(await _confirm_reset(client, token, "password123"), 422, "validation_error")  # common
    assert (await _confirm_reset(client, token)).status_code == 204


async def test_an_unknown_or_malformed_reset_token_is_refused(client: httpx.AsyncClient) -> None:
    assert_problem(await _confirm_reset(client, "A" * 43), 400, "invalid_reset_token")
    assert_problem(await client.post("/auth/password-reset/confirm", json={"new_password": NEW_PASSWORD}), 422)
    assert_problem(await _confirm_reset(client, ""), 422, "validation_error")


async def test_a_reset_link_expires_after_thirty_minutes(clocked_app: ClockedApp, tmp_path: Path) -> None:
    app, clock = await clocked_app()
    mailbox = Mailbox(tmp_path / "data" / "notifications.log")
    async with client_for(app) as client:
        alice = await account(client)
        token = await _reset_link_for(client, mailbox, alice.email)
        clock.advance(minutes=30, seconds=1)
        assert_problem(await _confirm_reset(client, token), 400, "invalid_reset_token")


async def test_the_database_holds_no_reset_token_in_clear(app_factory: AppFactory, tmp_path: Path) -> None:
    app, container = await app_factory()
    mailbox = Mailbox(tmp_path / "data" / "notifications.log")
    async with client_for(app) as client:
        alice = await account(client)
        token = await _reset_link_for(client, mailbox, alice.email)
    async with container.engine().connect() as conn:
        stored = [str(v) for table in (account_tokens, notifications, security_events)
                  for row in (await conn.execute(select(table))).all() for v in row]
    assert stored
    assert not any(token in value for value in stored)
    async with container.engine().connect() as conn:
        sealed = (await conn.execute(select(notifications.c.sealed_link))).scalars().all()
    assert sealed == [None] * len(sealed)  # dropped once the mail was sent


# --- verification --------------------------------------------------------------------------------

async def _confirm_email(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/auth/email-verification/confirm", json={"token": token})


async def test_registering_mails_a_verification_link_that_proves_the_address(
        client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    assert (await client.get("/users/me", headers=alice.auth)).json()["email_verified"] is False
    token = mailbox.token(alice.email, VERIFY)
    assert mailbox.link(alice.email, VERIFY) == f"http://gatehouse.test/verify-email#token={token}"
    confirmed = await _confirm_email(client, token)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email_verified"] is True
    assert confirmed.json()["email"] == alice.email
    assert (await client.get("/users/me", headers=alice.auth)).json()["email_verified"] is True
    assert_problem(await _confirm_email(client, token), 400, "invalid_verification_token")
    events = (await client.get("/users/me/security-events", headers=alice.auth)).json()["events"]
    assert events[0]["type"] == "email_verified"


async def test_a_new_verification_link_voids_the_older_and_a_verified_address_gets_409(
        client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    older = mailbox.token(alice.email, VERIFY)
    resent = await client.post("/users/me/email-verification", headers=alice.auth)
    assert (resent.status_code, resent.json()) == (202, {"status": "accepted"})
    newer = mailbox.token(alice.email, VERIFY)
    assert newer != older
    assert_problem(await _confirm_email(client, older), 400, "invalid_verification_token")
    assert (await _confirm_email(client, newer)).status_code == 200
    assert_problem(await client.post("/users/me/email-verification", headers=alice.auth), 409, "already_verified")


async def test_verification_mail_is_capped_per_address(client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)  # the registration's mail is the first of three
    for _ in range(3):
        assert (await client.post("/users/me/email-verification", headers=alice.auth)).status_code == 202
    assert len(mailbox.mails(alice.email, VERIFY)) == 3


async def test_a_verification_link_that_was_never_issued_is_refused(client: httpx.AsyncClient) -> None:
    assert_problem(await _confirm_email(client, "B" * 43), 400, "invalid_verification_token")
    assert_problem(await client.post("/users/me/email-verification"), 401, "not_authenticated")


async def test_login_requires_a_verified_address_when_configured(app_factory: AppFactory, tmp_path: Path) -> None:
    app, _ = await app_factory(require_verified_email=True)
    mailbox = Mailbox(tmp_path / "data" / "notifications.log")
    async with client_for(app) as client:
        email = unique_email()
        assert (await client.post("/auth/register", json={"email": email, "password": PASSWORD})).status_code == 201
        assert_problem(await client.post("/auth/login", json={"email": email, "password": PASSWORD}), 403,
                       "email_not_verified")
        assert_problem(await client.post("/auth/login", json={"email": email, "password": "wrong one!"}), 401,
                       "invalid_credentials")
        grant = await client.post("/auth/token", data={"grant_type": "password", "username": email,
                                                        "password": PASSWORD})
        assert (grant.status_code, grant.json()["error"]) == (400, "invalid_grant")
        assert (await _confirm_email(client, mailbox.token(email, VERIFY))).status_code == 200
        await login(client, email)


# --- change of address ---------------------------------------------------------------------------

async def _change(client: httpx.AsyncClient, who: Account, new_email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/users/me/email", headers=who.auth,
                             json={"new_email": new_email, "current_password": password})


async def test_a_change_of_address_takes_effect_when_the_new_address_confirms(
        client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    new = unique_email("moved")
    changed = await _change(client, alice, new)
    assert (changed.status_code, changed.json()) == (202, {"status": "accepted"})
    assert [m["kind"] for m in mailbox.mails(alice.email)][-1] == "email_change_requested"
    token = mailbox.token(new, VERIFY)
    await login(client, alice.email)  # until confirmed, the old address logs in
    confirmed = await _confirm_email(client, token)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email"] == new
    assert confirmed.json()["email_verified"] is True
    assert mailbox.mails(alice.email, "email_changed")  # the old address is told
    assert_problem(await client.post("/auth/login", json={"email": alice.email, "password": PASSWORD}), 401)
    await login(client, new)


async def test_a_change_of_address_needs_the_current_password(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert_problem(await _change(client, alice, unique_email(), "not my password"), 400, "invalid_credentials")
    taken = await account(client)
    assert_problem(await _change(client, alice, taken.email), 409, "email_taken")
    assert_problem(await _change(client, alice, "nonsense"), 422, "validation_error")


async def test_a_change_whose_new_address_was_taken_meanwhile_is_409_and_changes_nothing(
        client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    new = unique_email("contested")
    assert (await _change(client, alice, new)).status_code == 202
    token = mailbox.token(new, VERIFY)
    await account(client, new)  # someone registers the address first
    assert_problem(await _confirm_email(client, token), 409, "email_taken")
    assert (await client.get("/users/me", headers=alice.auth)).json()["email"] == alice.email


async def test_password_checks_of_every_kind_share_one_counter(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    for _ in range(2):
        assert_problem(await _change(client, alice, unique_email(), "wrong"), 400)
    for _ in range(2):
        assert_problem(await client.request("DELETE", "/users/me", headers=alice.auth,
                                            json={"current_password": "wrong"}), 400)
    assert_problem(await client.post("/users/me/password", headers=alice.auth,
                                     json={"current_password": "wrong", "new_password": NEW_PASSWORD}), 400)
    limited = await _change(client, alice, unique_email(), PASSWORD)  # the correct password, after five
    assert_problem(limited, 429, "rate_limited")
    assert "retry-after" in limited.headers


# --- deleting one's own account -----------------------------------------------------------------

async def test_deleting_my_account_ends_everything_and_frees_the_address(
        app_factory: AppFactory) -> None:
    app, container = await app_factory()
    async with client_for(app) as client:
        alice = await account(client)
        await client.post("/items/", json={"title": "mine"}, headers=alice.auth)
        assert_problem(await client.request("DELETE", "/users/me", headers=alice.auth,
                                            json={"current_password": "wrong"}), 400, "invalid_credentials")
        deleted = await client.request("DELETE", "/users/me", headers=alice.auth,
                                       json={"current_password": PASSWORD})
        assert deleted.status_code == 204, deleted.text
        assert_problem(await client.get("/users/me", headers=alice.auth), 401, "invalid_token")
        assert_problem(await client.post("/auth/refresh", json={"refresh_token": alice.tokens["refresh_token"]}),
                       401)
        again = await account(client, alice.email)
        assert again.user["id"] != alice.user["id"]
    async with container.engine().connect() as conn:
        kept = (await conn.execute(select(security_events.c.type)
                                   .where(security_events.c.user_id == uuid.UUID(alice.user["id"])))).scalars().all()
    assert "user_deleted" in kept
    assert "login_succeeded" in kept


async def test_deleting_needs_a_body_with_the_current_password(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert_problem(await client.request("DELETE", "/users/me", headers=alice.auth), 422, "validation_error")
    assert_problem(await client.request("DELETE", "/users/me", json={"current_password": PASSWORD}), 401)


async def test_a_pending_change_of_address_does_not_survive_a_password_reset(
        client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    thief = unique_email("thief")
    assert (await _change(client, alice, thief)).status_code == 202  # someone who knew the password
    stolen = mailbox.token(thief, VERIFY)
    assert (await _confirm_reset(client, await _reset_link_for(client, mailbox, alice.email))).status_code == 204
    assert_problem(await _confirm_email(client, stolen), 400, "invalid_verification_token")
    await login(client, alice.email, NEW_PASSWORD)


async def test_a_pending_change_of_address_does_not_survive_a_password_change(
        client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    thief = unique_email("thief")
    assert (await _change(client, alice, thief)).status_code == 202
    changed = await client.post("/users/me/password", headers=alice.auth,
                                json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 204
    assert_problem(await _confirm_email(client, mailbox.token(thief, VERIFY)), 400, "invalid_verification_token")


async def test_refused_registrations_do_not_spend_the_addresses_verification_mail(
        client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    for _ in range(3):
        assert_problem(await client.post("/auth/register", json={"email": alice.email, "password": PASSWORD}), 409)
    for _ in range(2):
        assert (await client.post("/users/me/email-verification", headers=alice.auth)).status_code == 202
    assert len(mailbox.mails(alice.email, VERIFY)) == 3  # the registration's and both requested


async def test_one_account_cannot_mail_verification_links_to_any_number_of_addresses(
        client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    alice = await account(client)
    targets = [unique_email("target") for _ in range(5)]
    for target in targets:
        assert (await _change(client, alice, target)).status_code == 202
    assert sum(len(mailbox.mails(target, VERIFY)) for target in targets) == 3


async def test_asking_to_change_to_the_current_address_names_the_field(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    problem = assert_problem(await _change(client, alice, alice.email), 422, "validation_error")
    assert problem["errors"][0]["loc"] == ["body", "new_email"]
