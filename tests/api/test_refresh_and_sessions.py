"""POST /auth/refresh (rotation, reuse detection, grace window, expiry), GET and DELETE /auth/sessions."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx

from tests.api.conftest import ClockedApp
from tests.api.helpers import (
    PASSWORD,
    Account,
    account,
    assert_invalid_token,
    assert_problem,
    assert_token_response,
    bearer,
    claims_of,
    kinds,
    login,
    notifications_of,
    parse_time,
    refresh,
    token_grant,
    unique_email,
)
from tests.conftest import AppFactory, client_for

SESSION_FIELDS = {"id", "created_at", "last_used_at", "expires_at", "user_agent", "ip", "current"}


def _assert_refused(response: httpx.Response) -> None:
    assert_problem(response, 401, "invalid_refresh_token")
    assert "access_token" not in response.text


# --- rotation ------------------------------------------------------------------------------------

async def test_refreshing_returns_a_new_token_pair_that_is_not_cached(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    tokens = assert_token_response(await refresh(client, alice.tokens["refresh_token"]))
    assert tokens["refresh_token"] != alice.tokens["refresh_token"]
    assert tokens["access_token"] != alice.tokens["access_token"]
    me = await client.get("/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == alice.user["id"]


async def test_a_refresh_keeps_the_session_id(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    sid = claims_of(alice.tokens["access_token"])["sid"]
    token = alice.tokens["refresh_token"]
    for _ in range(3):
        tokens = assert_token_response(await refresh(client, token))
        assert claims_of(tokens["access_token"])["sid"] == sid
        token = tokens["refresh_token"]
    sessions = (await client.get("/auth/sessions", headers=bearer(tokens["access_token"]))).json()
    assert [s["id"] for s in sessions] == [sid]


async def test_the_old_access_token_still_works_after_a_refresh(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert_token_response(await refresh(client, alice.tokens["refresh_token"]))
    assert (await client.get("/users/me", headers=alice.auth)).status_code == 200


async def test_an_unknown_refresh_token_is_401_invalid_refresh_token(client: httpx.AsyncClient) -> None:
    await account(client)
    _assert_refused(await refresh(client, "A" * 43))


async def test_a_refresh_without_a_token_field_is_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/auth/refresh", json={}), 422, "validation_error")


async def test_an_empty_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await refresh(client, "")
    assert response.status_code in (401, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_an_access_token_is_not_accepted_as_a_refresh_token(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    _assert_refused(await refresh(client, alice.tokens["access_token"]))


async def test_a_refresh_token_from_auth_login_works_at_the_token_endpoint(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    tokens = assert_token_response(await token_grant(client, grant_type="refresh_token",
                                                     refresh_token=alice.tokens["refresh_token"]))
    assert claims_of(tokens["access_token"])["sid"] == claims_of(alice.tokens["access_token"])["sid"]


# --- reuse ---------------------------------------------------------------------------------------

async def test_reusing_a_spent_refresh_token_revokes_the_whole_session(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    spent = alice.tokens["refresh_token"]
    winner = assert_token_response(await refresh(client, spent))
    assert (await client.get("/users/me", headers=bearer(winner["access_token"]))).status_code == 200

    _assert_refused(await refresh(client, spent))

    _assert_refused(await refresh(client, winner["refresh_token"]))  # the newest token stops working
    assert_invalid_token(await client.get("/users/me", headers=bearer(winner["access_token"])))
    assert_invalid_token(await client.get("/users/me", headers=alice.auth))


async def test_reusing_a_refresh_token_notifies_the_user(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    spent = alice.tokens["refresh_token"]
    await refresh(client, spent)
    _assert_refused(await refresh(client, spent))
    again = Account(alice.email, alice.password, alice.user, await login(client, alice.email))
    notes = await notifications_of(client, again)
    reuse = [n for n in notes if n["kind"] == "refresh_token_reuse"]
    assert len(reuse) == 1, notes
    assert reuse[0]["status"] == "delivered"
    assert reuse[0]["message"]


async def test_reuse_ends_only_the_session_the_token_belongs_to(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    other = await login(client, alice.email)
    spent = alice.tokens["refresh_token"]
    await refresh(client, spent)
    _assert_refused(await refresh(client, spent))
    assert (await client.get("/users/me", headers=bearer(other["access_token"]))).status_code == 200
    assert_token_response(await refresh(client, other["refresh_token"]))


async def test_presenting_a_token_of_an_ended_session_again_sends_no_second_notification(
        client: httpx.AsyncClient) -> None:
    alice = await account(client)
    spent = alice.tokens["refresh_token"]
    await refresh(client, spent)
    for _ in range(3):
        _assert_refused(await refresh(client, spent))
    again = Account(alice.email, alice.password, alice.user, await login(client, alice.email))
    assert kinds(await notifications_of(client, again)).count("refresh_token_reuse") == 1


async def test_of_concurrent_refreshes_with_one_token_exactly_one_succeeds_and_the_session_ends(
        client: httpx.AsyncClient) -> None:
    alice = await account(client)
    token = alice.tokens["refresh_token"]
    responses = await asyncio.gather(*(refresh(client, token) for _ in range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 401, 401, 401, 401], [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 200)
    _assert_refused(await refresh(client, winner["refresh_token"]))
    assert_invalid_token(await client.get("/users/me", headers=bearer(winner["access_token"])))


# --- grace window --------------------------------------------------------------------------------

async def test_within_the_grace_window_a_retry_gets_the_same_successor(app_factory: AppFactory) -> None:
    app, _ = await app_factory(refresh_grace_seconds=30)
    async with client_for(app) as client:
        alice = await account(client)
        previous = alice.tokens["refresh_token"]
        first = assert_token_response(await refresh(client, previous))
        retry = assert_token_response(await refresh(client, previous))
        assert retry["refresh_token"] == first["refresh_token"]
        assert retry["access_token"] != first["access_token"]  # a fresh access token
        assert claims_of(retry["access_token"])["sid"] == claims_of(first["access_token"])["sid"]
        for tokens in (first, retry):
            assert (await client.get("/users/me", headers=bearer(tokens["access_token"]))).status_code == 200
        # the branch goes on from the shared successor
        assert_token_response(await refresh(client, first["refresh_token"]))


async def test_within_the_grace_window_a_retry_at_the_token_endpoint_gets_the_same_successor(
        app_factory: AppFactory) -> None:
    app, _ = await app_factory(refresh_grace_seconds=30)
    async with client_for(app) as client:
        alice = await account(client)
        previous = alice.tokens["refresh_token"]
        grant = {"grant_type": "refresh_token", "refresh_token": previous}
        first = assert_token_response(await token_grant(client, **grant))
        retry = assert_token_response(await token_grant(client, **grant))
        assert retry["refresh_token"] == first["refresh_token"]


async def test_parallel_refreshes_within_the_grace_window_converge_on_one_branch(app_factory: AppFactory) -> None:
    app, _ = await app_factory(refresh_grace_seconds=30)
    async with client_for(app) as client:
        alice = await account(client)
        responses = await asyncio.gather(*(refresh(client, alice.tokens["refresh_token"]) for _ in range(4)))
        assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
        assert len({r.json()["refresh_token"] for r in responses}) == 1
        assert_token_response(await refresh(client, responses[0].json()["refresh_token"]))


async def test_with_a_grace_window_an_older_token_is_still_reuse(app_factory: AppFactory) -> None:
    app, _ = await app_factory(refresh_grace_seconds=30)
    async with client_for(app) as client:
        alice = await account(client)
        oldest = alice.tokens["refresh_token"]
        middle = assert_token_response(await refresh(client, oldest))
        newest = assert_token_response(await refresh(client, middle["refresh_token"]))
        _assert_refused(await refresh(client, oldest))
        _assert_refused(await refresh(client, newest["refresh_token"]))
        assert_invalid_token(await client.get("/users/me", headers=bearer(newest["access_token"])))


async def test_after_the_grace_window_the_previous_token_is_reuse(clocked_app: ClockedApp) -> None:
    app, clock = await clocked_app(refresh_grace_seconds=30)
    async with client_for(app) as client:
        alice = await account(client)
        previous = alice.tokens["refresh_token"]
        successor = assert_token_response(await refresh(client, previous))
        clock.advance(seconds=31)
        _assert_refused(await refresh(client, previous))
        _assert_refused(await refresh(client, successor["refresh_token"]))
        assert_invalid_token(await client.get("/users/me", headers=alice.auth))


async def test_without_a_grace_window_an_immediate_retry_is_reuse(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    previous = alice.tokens["refresh_token"]
    successor = assert_token_response(await refresh(client, previous))
    _assert_refused(await refresh(client, previous))
    _assert_refused(await refresh(client, successor["refresh_token"]))


# --- expiry --------------------------------------------------------------------------------------

async def test_a_session_ends_after_seven_idle_days(clocked_app: ClockedApp) -> None:
    app, clock = await clocked_app()
    async with client_for(app) as client:
        alice = await account(client)
        clock.advance(days=7, seconds=1)
        _assert_refused(await refresh(client, alice.tokens["refresh_token"]))
        assert_invalid_token(await client.get("/users/me", headers=alice.auth))


async def test_refreshing_within_the_idle_period_keeps_the_session_alive(clocked_app: ClockedApp) -> None:
    app, clock = await clocked_app()
    async with client_for(app) as client:
        alice = await account(client)
        token = alice.tokens["refresh_token"]
        for _ in range(3):  # 18 days in all, never 7 idle
            clock.advance(days=6)
            token = assert_token_response(await refresh(client, token))["refresh_token"]
        clock.advance(days=7, seconds=1)
        _assert_refused(await refresh(client, token))


async def test_a_session_ends_thirty_days_after_login_however_often_it_is_refreshed(
        clocked_app: ClockedApp) -> None:
    app, clock = await clocked_app()
    async with client_for(app) as client:
        alice = await account(client)
        token = alice.tokens["refresh_token"]
        for _ in range(4):  # day 24
            clock.advance(days=6)
            token = assert_token_response(await refresh(client, token))["refresh_token"]
        clock.advance(days=5, hours=23)  # day 29.96: still inside
        token = assert_token_response(await refresh(client, token))["refresh_token"]
        clock.advance(hours=1, seconds=1)  # past day 30
        _assert_refused(await refresh(client, token))


async def test_the_access_token_lifetime_never_outlives_the_session(app_factory: AppFactory) -> None:
    app, _ = await app_factory(session_absolute_lifetime_seconds=120)
    async with client_for(app) as client:
        alice = await account(client)
        assert 0 < alice.tokens["expires_in"] <= 120
        claims = claims_of(alice.tokens["access_token"])
        assert claims["exp"] - claims["iat"] <= 120


# --- GET /auth/sessions --------------------------------------------------------------------------

async def test_listing_sessions_shows_each_active_session_with_its_details(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    phone = await login(client, alice.email, **{"User-Agent": "GatehouseTestPhone/1.0"})
    response = await client.get("/auth/sessions", headers=alice.auth)
    assert response.status_code == 200, response.text
    sessions = response.json()
    assert len(sessions) == 2
    for session in sessions:
        assert set(session) == SESSION_FIELDS
        uuid.UUID(session["id"])
        created, last_used, expires = (parse_time(session[k]) for k in ("created_at", "last_used_at", "expires_at"))
        assert created <= last_used < expires
        assert session["ip"] == "203.0.113.7"
    by_id = {s["id"]: s for s in sessions}
    mine = by_id[claims_of(alice.tokens["access_token"])["sid"]]
    theirs = by_id[claims_of(phone["access_token"])["sid"]]
    assert mine["current"] is True
    assert theirs["current"] is False
    assert theirs["user_agent"] == "GatehouseTestPhone/1.0"


async def test_current_marks_the_session_of_the_calling_token(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    phone = await login(client, alice.email)
    sessions = (await client.get("/auth/sessions", headers=bearer(phone["access_token"]))).json()
    current = [s["id"] for s in sessions if s["current"]]
    assert current == [claims_of(phone["access_token"])["sid"]]


async def test_the_session_list_omits_ended_sessions(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    ended = await login(client, alice.email)
    assert (await client.post("/auth/logout", json={"refresh_token": ended["refresh_token"]})).status_code == 204
    sessions = (await client.get("/auth/sessions", headers=alice.auth)).json()
    assert [s["id"] for s in sessions] == [claims_of(alice.tokens["access_token"])["sid"]]


async def test_the_session_list_holds_only_the_callers_sessions(client: httpx.AsyncClient) -> None:
    alice, bob = await account(client), await account(client)
    sessions = (await client.get("/auth/sessions", headers=bob.auth)).json()
    assert [s["id"] for s in sessions] == [claims_of(bob.tokens["access_token"])["sid"]]
    assert claims_of(alice.tokens["access_token"])["sid"] not in {s["id"] for s in sessions}


async def test_the_session_list_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/auth/sessions"), 401, "not_authenticated")


async def test_last_used_at_follows_logins_and_refreshes_and_expires_at_the_idle_limit(
        clocked_app: ClockedApp) -> None:
    app, clock = await clocked_app()
    started = clock.now()
    async with client_for(app) as client:
        alice = await account(client)
        [session] = (await client.get("/auth/sessions", headers=alice.auth)).json()
        assert parse_time(session["created_at"]) == started
        assert parse_time(session["last_used_at"]) == started
        assert parse_time(session["expires_at"]) == started + timedelta(days=7)

        clock.advance(days=2)
        assert_token_response(await refresh(client, alice.tokens["refresh_token"]))
        [session] = (await client.get("/auth/sessions", headers=alice.auth)).json()
        assert parse_time(session["created_at"]) == started
        assert parse_time(session["last_used_at"]) == started + timedelta(days=2)
        assert parse_time(session["expires_at"]) == started + timedelta(days=9)


async def test_expires_at_is_the_absolute_expiry_when_that_comes_first(clocked_app: ClockedApp) -> None:
    app, clock = await clocked_app()
    started = clock.now()
    async with client_for(app) as client:
        alice = await account(client)
        token = alice.tokens["refresh_token"]
        for _ in range(4):  # refreshed every 6 days: idle expiry day 31, absolute expiry day 30
            clock.advance(days=6)
            token = assert_token_response(await refresh(client, token))["refresh_token"]
        [session] = (await client.get("/auth/sessions", headers=alice.auth)).json()
        assert parse_time(session["last_used_at"]) == started + timedelta(days=24)
        assert parse_time(session["expires_at"]) == started + timedelta(days=30)


# --- DELETE /auth/sessions/{id} ------------------------------------------------------------------

async def test_ending_another_of_ones_sessions_is_204_and_its_tokens_stop_working(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    laptop = await login(client, alice.email)
    laptop_sid = claims_of(laptop["access_token"])["sid"]
    response = await client.delete(f"/auth/sessions/{laptop_sid}", headers=alice.auth)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_invalid_token(await client.get("/users/me", headers=bearer(laptop["access_token"])))
    _assert_refused(await refresh(client, laptop["refresh_token"]))
    assert (await client.get("/users/me", headers=alice.auth)).status_code == 200


async def test_ending_ones_current_session_refuses_its_token_from_the_next_request(
        client: httpx.AsyncClient) -> None:
    alice = await account(client)
    sid = claims_of(alice.tokens["access_token"])["sid"]
    assert (await client.delete(f"/auth/sessions/{sid}", headers=alice.auth)).status_code == 204
    assert_invalid_token(await client.get("/users/me", headers=alice.auth))


async def test_ending_another_users_session_is_404_and_leaves_it_alone(client: httpx.AsyncClient) -> None:
    alice, mallory = await account(client), await account(client)
    alice_sid = claims_of(alice.tokens["access_token"])["sid"]
    response = await client.delete(f"/auth/sessions/{alice_sid}", headers=mallory.auth)
    body = assert_problem(response, 404, "not_found")
    nonexistent = await client.delete(f"/auth/sessions/{uuid.uuid4()}", headers=mallory.auth)
    assert assert_problem(nonexistent, 404, "not_found") == body
    assert (await client.get("/users/me", headers=alice.auth)).status_code == 200
    assert_token_response(await refresh(client, alice.tokens["refresh_token"]))


async def test_ending_a_session_that_does_not_exist_is_404_not_found(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert_problem(await client.delete(f"/auth/sessions/{uuid.uuid4()}", headers=alice.auth), 404, "not_found")


async def test_ending_a_session_with_a_non_uuid_id_is_422(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert_problem(await client.delete("/auth/sessions/not-a-uuid", headers=alice.auth), 422, "validation_error")


async def test_ending_a_session_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"/auth/sessions/{uuid.uuid4()}")
    assert_problem(response, 401, "not_authenticated")


async def test_logging_in_again_after_ending_every_session_works(client: httpx.AsyncClient) -> None:
    email = unique_email()
    alice = await account(client, email)
    assert (await client.post("/auth/logout-all", headers=alice.auth)).status_code == 204
    tokens = await login(client, email, PASSWORD)
    assert (await client.get("/users/me", headers=bearer(tokens["access_token"]))).status_code == 200


async def test_a_login_beyond_the_session_limit_ends_the_least_recently_used_session(
        app_factory: AppFactory) -> None:
    app, _ = await app_factory(max_sessions_per_user=2)
    async with client_for(app) as client:
        alice = await account(client)  # its first session
        second, third = await login(client, alice.email), await login(client, alice.email)
        assert_problem(await refresh(client, alice.tokens["refresh_token"]), 401, "invalid_refresh_token")
        assert_invalid_token(await client.get("/users/me", headers=alice.auth))
        listed = (await client.get("/auth/sessions", headers=bearer(third["access_token"]))).json()
        assert {s["id"] for s in listed} == {claims_of(t["access_token"])["sid"] for t in (second, third)}
        events = (await client.get("/users/me/security-events", headers=bearer(third["access_token"]))).json()
        ended = [e for e in events["events"] if e["type"] == "session_ended"]
        assert [(e["session_id"], e["actor"]) for e in ended] == [(claims_of(alice.tokens["access_token"])["sid"],
                                                                   "system")]
