"""/admin (contract v2, "Administration"): every row and rule, over HTTP, on SQLite and Postgres.

The first admin is made as an operator makes it: the `gatehouse users` commands' use case with the actor
`system` (the commands themselves are tested in tests/integration/test_admin_cli.py)."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.container import Container
from application.administration import SYSTEM
from tests.api.helpers import (
    PASSWORD,
    Account,
    account,
    assert_oauth_error,
    assert_problem,
    claims_of,
    login,
    password_grant,
    refresh,
    register,
    unique_email,
)
from tests.api.mailbox import Mailbox

ADMIN_USER_FIELDS = {"id", "email", "full_name", "created_at", "email_verified", "roles", "status",
                     "disabled_reason", "last_login_at"}
ADMIN_EVENT_FIELDS = {"id", "type", "at", "ip", "user_agent", "session_id", "actor", "user_id", "actor_id"}
NOBODY = "00000000-0000-4000-8000-000000000000"
# A cursor naming a time that does not exist in UTC (past year 9999 once converted)
OVERFLOWING_CURSOR = base64.urlsafe_b64encode(f"9999-12-31T23:59:59-05:00|{NOBODY}".encode()).decode().rstrip("=")


def container_of(app: FastAPI) -> Container:
    container: Container = app.state.container
    return container


async def make_admin(app: FastAPI, who: Account) -> None:
    """What `gatehouse users set-roles EMAIL admin` does."""
    await container_of(app).update_user().execute(SYSTEM, uuid.UUID(who.user["id"]), roles=("admin",))


async def admin(client: httpx.AsyncClient, app: FastAPI) -> Account:
    """An admin, logged in after being made one (so the access token says so too)."""
    boss = await account(client, unique_email("admin"))
    await make_admin(app, boss)
    boss.tokens = await login(client, boss.email)
    return boss


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def _events(client: httpx.AsyncClient, boss: Account, **query: Any) -> list[dict[str, Any]]:
    page = await _ok(await client.get("/admin/security-events", headers=boss.auth, params=query))
    return list(page["events"])


# -- who may use /admin ---------------------------------------------------------------------------

ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
          ("GET", "/admin/users", None), ("GET", f"/admin/users/{NOBODY}", None),
          ("PATCH", f"/admin/users/{NOBODY}", {"roles": []}), ("POST", f"/admin/users/{NOBODY}/disable", {}),
          ("POST", f"/admin/users/{NOBODY}/enable", None), ("GET", f"/admin/users/{NOBODY}/sessions", None),
          ("DELETE", f"/admin/users/{NOBODY}/sessions", None), ("POST", f"/admin/users/{NOBODY}/password-reset", None),
          ("DELETE", f"/admin/users/{NOBODY}", None), ("GET", "/admin/security-events", None)]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_every_admin_route_needs_a_token_and_the_admin_role(client: httpx.AsyncClient, method: str,
                                                                  path: str, body: Any) -> None:
    assert_problem(await client.request(method, path, json=body), 401, "not_authenticated")
    alice = await account(client)
    assert_problem(await client.request(method, path, json=body, headers=alice.auth), 403, "forbidden")
    # refused before the input is looked at: a non-admin learns nothing from validation either
    assert_problem(await client.request(method, path.replace(NOBODY, "not-a-uuid"), json=body,
                                        headers=alice.auth), 403, "forbidden")


async def test_a_demoted_admin_is_refused_from_the_next_request_on(client: httpx.AsyncClient, app: FastAPI) -> None:
    boss, other = await admin(client, app), await admin(client, app)
    assert (await client.get("/admin/users", headers=boss.auth)).status_code == 200
    await _ok(await client.patch(f"/admin/users/{boss.user['id']}", headers=other.auth, json={"roles": []}))
    assert claims_of(boss.tokens["access_token"])["roles"] == ["admin"]  # the token still says admin
    assert_problem(await client.get("/admin/users", headers=boss.auth), 403, "forbidden")


# -- roles: the user shape and the access token -----------------------------------------------------

async def test_roles_are_in_the_user_shape_and_reach_access_tokens_at_the_next_refresh(
        client: httpx.AsyncClient, app: FastAPI) -> None:
    boss = await admin(client, app)
    alice = await account(client)
    assert alice.user["roles"] == []
    assert claims_of(alice.tokens["access_token"])["roles"] == []
    changed = await _ok(await client.patch(f"/admin/users/{alice.user['id']}", headers=boss.auth,
                                           json={"roles": ["support", "billing", "support"]}))
    assert set(changed) == ADMIN_USER_FIELDS
    assert changed["roles"] == ["billing", "support"]  # sorted, each once
    assert (await _ok(await client.get("/users/me", headers=alice.auth)))["roles"] == ["billing", "support"]
    assert claims_of(alice.tokens["access_token"])["roles"] == []  # an old token keeps what it was minted with
    rotated = await _ok(await refresh(client, alice.tokens["refresh_token"]))
    assert claims_of(rotated["access_token"])["roles"] == ["billing", "support"]
    grant = await _ok(await password_grant(client, alice.email))
    assert claims_of(grant["access_token"])["roles"] == ["billing", "support"]


async def test_a_grace_retry_carries_the_roles_too(app_factory: Any) -> None:
    from tests.conftest import client_for

    app, container = await app_factory(refresh_grace_seconds=10)
    async with client_for(app) as client:
        alice = await account(client)
        await container.update_user().execute(SYSTEM, uuid.UUID(alice.user["id"]), roles=("editor",))
        first = await _ok(await refresh(client, alice.tokens["refresh_token"]))
        retry = await _ok(await refresh(client, alice.tokens["refresh_token"]))
    assert retry["refresh_token"] == first["refresh_token"]
    assert claims_of(retry["access_token"])["roles"] == ["editor"]


@pytest.mark.parametrize("roles", [["Admin"], ["has space"], [""], ["x" * 65], [f"r{n}" for n in range(21)], "admin",
                                   [1]])
async def test_bad_roles_are_a_validation_problem(client: httpx.AsyncClient, app: FastAPI, roles: Any) -> None:
    boss = await admin(client, app)
    answer = await client.patch(f"/admin/users/{boss.user['id']}", headers=boss.auth, json={"roles": roles})
    body = assert_problem(answer, 422, "validation_error")
    assert body["errors"][0]["loc"][:2] == ["body", "roles"]


async def test_patch_changes_only_what_is_sent(client: httpx.AsyncClient, app: FastAPI) -> None:
    boss = await admin(client, app)
    alice = await account(client)
    path = f"/admin/users/{alice.user['id']}"
    await _ok(await client.patch(path, headers=boss.auth, json={"roles": ["editor"]}))
    renamed = await _ok(await client.patch(path, headers=boss.auth, json={"full_name": "Alice A."}))
    assert (renamed["full_name"], renamed["roles"]) == ("Alice A.", ["editor"])
    cleared = await _ok(await client.patch(path, headers=boss.auth, json={"full_name": None}))
    assert (cleared["full_name"], cleared["roles"]) == (None, ["editor"])
    assert "password" not in str(await _ok(await client.patch(path, headers=boss.auth, json={})))
    refused = assert_problem(await client.patch(path, headers=boss.auth, json={"password": "admins never set one"}),
                             422, "validation_error")
    assert refused["errors"][0]["loc"] == ["body", "password"]


async def test_a_role_change_is_recorded_with_the_admin_as_actor(client: httpx.AsyncClient, app: FastAPI) -> None:
    boss = await admin(client, app)
    alice = await account(client)
    await _ok(await client.patch(f"/admin/users/{alice.user['id']}", headers=boss.auth, json={"roles": ["x"]}))
    [event] = await _events(client, boss, user_id=alice.user["id"], type="roles_changed")
    assert set(event) == ADMIN_EVENT_FIELDS
    assert (event["actor"], event["actor_id"], event["user_id"]) == ("admin", boss.user["id"], alice.user["id"])
    own = (await _ok(await client.get("/users/me/security-events", headers=alice.auth)))["events"]
    assert [e["actor"] for e in own if e["type"] == "roles_changed"] == ["admin"]
    assert "actor_id" not in own[0]  # the user's own view has neither
    assert "user_id" not in own[0]


# -- last_admin and cannot_act_on_self -------------------------------------------------------------

async def test_the_last_admin_keeps_the_role_and_cannot_delete_their_account(
        client: httpx.AsyncClient, app: FastAPI) -> None:
    boss = await admin(client, app)
    mine = f"/admin/users/{boss.user['id']}"
    assert_problem(await client.patch(mine, headers=boss.auth, json={"roles": []}), 409, "last_admin")
    assert_problem(await client.patch(mine, headers=boss.auth, json={"roles": ["support"]}), 409, "last_admin")
    await _ok(await client.patch(mine, headers=boss.auth, json={"roles": ["admin", "support"]}))  # keeps admin
    assert_problem(await client.request("DELETE", "/users/me", headers=boss.auth,
                                        json={"current_password": PASSWORD}), 409, "last_admin")
    assert (await _ok(await client.get(mine, headers=boss.auth)))["roles"] == ["admin", "support"]


async def test_with_another_admin_an_admin_may_give_up_the_role_or_delete_their_account(
        client: httpx.AsyncClient, app: FastAPI) -> None:
    boss, other = await admin(client, app), await admin(client, app)
    await _ok(await client.patch(f"/admin/users/{boss.user['id']}", headers=boss.auth, json={"roles": []}))
    await make_admin(app, boss)
    await _ok(await client.request("DELETE", "/users/me", headers=boss.auth, json={"current_password": PASSWORD}),
              204)
    assert_problem(await client.get(f"/admin/users/{boss.user['id']}", headers=other.auth), 404, "not_found")
    # now `other` is the last one
    assert_problem(await client.request("DELETE", "/users/me", headers=other.auth,
                                        json={"current_password": PASSWORD}), 409, "last_admin")


async def test_a_disabled_admin_does_not_count_as_one(client: httpx.AsyncClient, app: FastAPI) -> None:
    boss, other = await admin(client, app), await admin(client, app)
    await _ok(await client.post(f"/admin/users/{other.user['id']}/disable", headers=boss.auth))
    assert_problem(await client.patch(f"/admin/users/{boss.user['id']}", headers=boss.auth, json={"roles": []}),
                   409, "last_admin")


async def test_an_admin_cannot_disable_or_delete_their_own_account(client: httpx.AsyncClient, app: FastAPI) -> None:
    boss = await admin(client, app)  # the last admin, too: cannot_act_on_self wins
    mine = f"/admin/users/{boss.user['id']}"
    assert_problem(await client.post(f"{mine}/disable", headers=boss.auth), 409, "cannot_act_on_self")
    assert_problem(await client.delete(mine, headers=boss.auth), 409, "cannot_act_on_self")
    await admin(client, app)  # not the last any more: still not their own
    assert_problem(await client.post(f"{mine}/disable", headers=boss.auth, json={"reason": "x"}), 409,
                   "cannot_act_on_self")
    assert_problem(await client.delete(mine, headers=boss.auth), 409, "cannot_act_on_self")
    assert (await _ok(await client.get(mine, headers=boss.auth)))["status"] == "active"


async def test_the_operator_cannot_disable_the_last_admin_either(client: httpx.AsyncClient, app: FastAPI) -> None:
    from domain.errors import LastAdmin

    boss = await admin(client, app)
    with pytest.raises(LastAdmin):
        await container_of(app).disable_user().execute(SYSTEM, uuid.UUID(boss.user["id"]), "by the CLI")
    with pytest.raises(LastAdmin):
        await container_of(app).delete_user().execute(SYSTEM, uuid.UUID(boss.user["id"]))


# -- disabling and enabling -------------------------------------------------------------------------

async def test_disabling_ends_sessions_blocks_login_and_tells_the_user(
        client: httpx.AsyncClient, app: FastAPI, tmp_path: Path) -> None:
    boss = await admin(client, app)
    alice = await account(client)
    second = await login(client, alice.email)
    path = f"/admin/users/{alice.user['id']}"
    disabled = await _ok(await client.post(f"{path}/disable", headers=boss.auth, json={"reason": "stolen laptop"}))
    assert (disabled["status"], disabled["disabled_reason"]) == ("disabled", "stolen laptop")
    # every session ends at once
    assert_problem(await client.get("/users/me", headers=alice.auth), 401, "invalid_token")
    for tokens in (alice.tokens, second):
        assert_problem(await refresh(client, tokens["refresh_token"]), 401, "invalid_refresh_token")
    assert await _ok(await client.get(f"{path}/sessions", headers=boss.auth)) == []
    # the correct password learns it is disabled; a wrong one gets what it always got
    assert_problem(await client.post("/auth/login", json={"email": alice.email, "password": PASSWORD}), 403,
                   "account_disabled")
    assert_problem(await client.post("/auth/login", json={"email": alice.email, "password": "wrong password!"}),
                   401, "invalid_credentials")
    assert_oauth_error(await password_grant(client, alice.email), 400, "invalid_grant")
    # told, by mail (the development mailbox here)
    mails = Mailbox(tmp_path / "data" / "notifications.log").mails(alice.email, "account_disabled")
    assert len(mails) == 1
    assert "stolen laptop" not in mails[0]["body"]  # the reason is for admins
    [event] = await _events(client, boss, user_id=alice.user["id"], type="user_disabled")
    assert (event["actor"], event["actor_id"]) == ("admin", boss.user["id"])


async def test_a_disabled_account_gets_no_reset_mail_from_the_public_endpoint(
        client: httpx.AsyncClient, app: FastAPI, tmp_path: Path) -> None:
    boss = await admin(client, app)
    alice = await account(client)
    mailbox = Mailbox(tmp_path / "data" / "notifications.log")
    await client.post("/auth/password-reset", json={"email": alice.email})
    assert len(mailbox.mails(alice.email, "password_reset")) == 1
    early_link = mailbox.token(alice.email, "password_reset")
    await _ok(await client.post(f"/admin/users/{alice.user['id']}/disable", headers=boss.auth))
    answer = await client.post("/auth/password-reset", json={"email": alice.email})
    assert (answer.status_code, answer.json()) == (202, {"status": "accepted"})
    assert len(mailbox.mails(alice.email, "password_reset")) == 1  # nothing more sent
    # and the link sent before the disable is void
    assert_problem(await client.post("/auth/password-reset/confirm",
                                     json={"token": early_link, "new_password": "a brand new passphrase"}),
                   400, "invalid_reset_token")


async def test_enabling_lets_the_user_log_in_again_but_brings_no_session_back(
        client: httpx.AsyncClient, app: FastAPI) -> None:
    boss = await admin(client, app)
    alice = await account(client)
    path = f"/admin/users/{alice.user['id']}"
    await _ok(await client.post(f"{path}/disable", headers=boss.auth))
    again = await _ok(await client.post(f"{path}/disable", headers=boss.auth, json={"reason": "still"}))
    assert again["disabled_reason"] == "still"  # disabling twice changes the reason, nothing else
    enabled = await _ok(await client.post(f"{path}/enable", headers=boss.auth))
    assert (enabled["status"], enabled["disabled_reason"]) == ("active", None)
    assert_problem(await refresh(client, alice.tokens["refresh_token"]), 401, "invalid_refresh_token")
    assert_problem(await client.get("/users/me", headers=alice.auth), 401)
    await login(client, alice.email)
    types = [e["type"] for e in await _events(client, boss, user_id=alice.user["id"])]
    assert types[:3] == ["login_succeeded", "user_enabled", "user_disabled"]
    assert types.count("user_disabled") == 2  # the disable, and the change of its reason


# -- sessions, reset, delete -------------------------------------------------------------------------

async def test_an_admin_lists_and_ends_a_users_sessions(client: httpx.AsyncClient, app: FastAPI) -> None:
    boss = await admin(client, app)
    alice = await account(client)
    await login(client, alice.email, **{"User-Agent": "second device"})
    path = f"/admin/users/{alice.user['id']}/sessions"
    sessions = await _ok(await client.get(path, headers=boss.auth))
    assert len(sessions) == 2
    assert all(set(s) == {"id", "created_at", "last_used_at", "expires_at", "user_agent", "ip"} for s in sessions)
    assert await _ok(await client.delete(path, headers=boss.auth), 204) is None
    assert await _ok(await client.get(path, headers=boss.auth)) == []
    assert_problem(await refresh(client, alice.tokens["refresh_token"]), 401, "invalid_refresh_token")
    assert_problem(await client.get("/users/me", headers=alice.auth), 401, "invalid_token")
    assert (await client.get("/admin/users", headers=boss.auth)).status_code == 200  # the admin's own stay
    [event] = await _events(client, boss, type="sessions_ended_by_admin")
    assert (event["user_id"], event["actor_id"]) == (alice.user["id"], boss.user["id"])
    await login(client, alice.email)  # the account itself is untouched


async def test_an_admin_sends_a_reset_link_and_the_user_chooses_the_password(
        client: httpx.AsyncClient, app: FastAPI, tmp_path: Path) -> None:
    boss = await admin(client, app)
    alice = await account(client)
    answer = await client.post(f"/admin/users/{alice.user['id']}/password-reset", headers=boss.auth)
    assert (answer.status_code, answer.json()) == (202, {"status": "accepted"})
    mailbox = Mailbox(tmp_path / "data" / "notifications.log")
    [mail] = mailbox.mails(alice.email, "password_reset")
    assert "administrator" in mail["body"]
    token = mailbox.token(alice.email, "password_reset")
    await _ok(await client.post("/auth/password-reset/confirm",
                                json={"token": token, "new_password": "alice chose this one"}), 204)
    await login(client, alice.email, "alice chose this one")
    [event] = await _events(client, boss, user_id=alice.user["id"], type="password_reset_requested")
    assert (event["actor"], event["actor_id"]) == ("admin", boss.user["id"])


async def test_deleting_a_user_removes_what_it_owns_and_frees_the_address(
        client: httpx.AsyncClient, app: FastAPI) -> None:
    boss = await admin(client, app)
    alice = await account(client)
    await _ok(await client.post("/items/", headers=alice.auth, json={"title": "mine"}), 201)
    await _ok(await client.delete(f"/admin/users/{alice.user['id']}", headers=boss.auth), 204)
    assert_problem(await client.get("/users/me", headers=alice.auth), 401)
    assert_problem(await refresh(client, alice.tokens["refresh_token"]), 401, "invalid_refresh_token")
    assert_problem(await client.get(f"/admin/users/{alice.user['id']}", headers=boss.auth), 404, "not_found")
    assert_problem(await client.delete(f"/admin/users/{alice.user['id']}", headers=boss.auth), 404, "not_found")
    again = await register(client, alice.email)
    assert again["id"] != alice.user["id"]
    fresh = Account(alice.email, PASSWORD, again, await login(client, alice.email))
    assert (await _ok(await client.get("/items/", headers=fresh.auth)))["total"] == 0
    events = await _events(client, boss, user_id=alice.user["id"])
    assert events[0]["type"] == "user_deleted"
    assert (events[0]["actor"], events[0]["actor_id"]) == ("admin", boss.user["id"])
    assert "login_succeeded" in [e["type"] for e in events]  # the log outlives the account


@pytest.mark.parametrize(("method", "suffix"), [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/disable"),
                                                ("POST", "/enable"), ("GET", "/sessions"), ("DELETE", "/sessions"),
                                                ("POST", "/password-reset")])
async def test_unknown_ids_are_404_and_malformed_ones_422(client: httpx.AsyncClient, app: FastAPI, method: str,
                                                          suffix: str) -> None:
    boss = await admin(client, app)
    body: dict[str, Any] | None = {"roles": []} if method == "PATCH" else None
    assert_problem(await client.request(method, f"/admin/users/{NOBODY}{suffix}", headers=boss.auth, json=body), 404,
                   "not_found")
    assert_problem(await client.request(method, f"/admin/users/12345{suffix}", headers=boss.auth, json=body), 422,
                   "validation_error")


async def test_a_disable_reason_that_is_too_long_is_a_validation_problem(client: httpx.AsyncClient,
                                                                         app: FastAPI) -> None:
    boss = await admin(client, app)
    alice = await account(client)
    assert_problem(await client.post(f"/admin/users/{alice.user['id']}/disable", headers=boss.auth,
                                     json={"reason": "x" * 501}), 422, "validation_error")
    assert (await _ok(await client.get(f"/admin/users/{alice.user['id']}", headers=boss.auth)))["status"] == "active"


# -- the listing ------------------------------------------------------------------------------------

async def _listed(client: httpx.AsyncClient, boss: Account, **query: Any) -> list[str]:
    page = await _ok(await client.get("/admin/users", headers=boss.auth, params=query))
    assert set(page) == {"users", "next_cursor"}
    return [u["email"] for u in page["users"]]


async def test_the_listing_filters_combine(client: httpx.AsyncClient, app: FastAPI, tmp_path: Path) -> None:
    boss = await admin(client, app)
    tag = uuid.uuid4().hex[:6]
    emails = [f"{name}-{tag}@{domain}" for name, domain in
              (("ann", "shop.example"), ("bob", "shop.example"), ("cy", "other.example"), ("dee_x", "shop.example"))]
    people = {e: await account(client, e) for e in emails}
    ann, bob, cy, dee = emails
    await _ok(await client.patch(f"/admin/users/{people[ann].user['id']}", headers=boss.auth,
                                 json={"roles": ["support"]}))
    await _ok(await client.patch(f"/admin/users/{people[bob].user['id']}", headers=boss.auth,
                                 json={"roles": ["support", "billing"]}))
    await _ok(await client.post(f"/admin/users/{people[bob].user['id']}/disable", headers=boss.auth))
    token = Mailbox(tmp_path / "data" / "notifications.log").token(cy, "email_verification")
    await _ok(await client.post("/auth/email-verification/confirm", json={"token": token}))
    assert await _listed(client, boss, email=f"{tag}@SHOP") == [ann, bob, dee]  # any case
    assert await _listed(client, boss, email=f"{tag}@\uff53hop") == [ann, bob, dee]  # any spelling (NFKC)
    assert await _listed(client, boss, email=tag, role="support") == [ann, bob]
    assert await _listed(client, boss, email=tag, role="support", status="active") == [ann]
    assert await _listed(client, boss, email=tag, status="disabled") == [bob]
    assert await _listed(client, boss, email=tag, verified="true") == [cy]
    assert await _listed(client, boss, email=tag, verified="false", role="billing") == [bob]
    assert await _listed(client, boss, role="admin") == [boss.email]
    assert await _listed(client, boss, role="sup") == []  # a role is matched whole
    assert await _listed(client, boss, email="_x") == [dee]  # LIKE's wildcards are plain characters here
    assert await _listed(client, boss, email="%") == []
    page = await _ok(await client.get("/admin/users", headers=boss.auth, params={"email": cy}))
    assert set(page["users"][0]) == ADMIN_USER_FIELDS
    assert page["users"][0]["last_login_at"] is not None
    assert page["users"][0]["email_verified"] is True


async def test_paging_is_oldest_first_and_stable_under_concurrent_inserts(client: httpx.AsyncClient,
                                                                          app: FastAPI) -> None:
    boss = await admin(client, app)
    tag = uuid.uuid4().hex[:6]
    first = [f"p{n}-{tag}@example.com" for n in range(5)]
    for email in first:
        await register(client, email)
    seen: list[str] = []
    page = await _ok(await client.get("/admin/users", headers=boss.auth, params={"email": tag, "limit": 2}))
    while True:
        seen += [u["email"] for u in page["users"]]
        if len(seen) == 2:  # others register while the admin pages through
            await asyncio.gather(*(register(client, f"q{n}-{tag}@example.com") for n in range(3)))
        if page["next_cursor"] is None:
            break
        page = await _ok(await client.get("/admin/users", headers=boss.auth,
                                          params={"email": tag, "limit": 2, "cursor": page["next_cursor"]}))
    assert seen[:5] == first
    assert sorted(seen[5:]) == [f"q{n}-{tag}@example.com" for n in range(3)]
    assert len(seen) == len(set(seen)) == 8


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "not a cursor"},
                                   {"status": "gone"}, {"verified": "maybe"}, {"role": "Not A Role"},
                                   {"email": ""}, {"email": "x" * 321}, {"email": "a\x00b"},
                                   {"cursor": OVERFLOWING_CURSOR}])
async def test_bad_listing_queries_are_validation_problems(client: httpx.AsyncClient, app: FastAPI,
                                                           query: dict[str, Any]) -> None:
    boss = await admin(client, app)
    assert_problem(await client.get("/admin/users", headers=boss.auth, params=query), 422, "validation_error")


# -- the security log, for admins -------------------------------------------------------------------

async def test_the_admin_event_listing_filters_and_pages(client: httpx.AsyncClient, app: FastAPI) -> None:
    boss = await admin(client, app)
    alice = await account(client)
    for _ in range(3):
        await login(client, alice.email)
    mine = await _events(client, boss, user_id=alice.user["id"], type="login_succeeded")
    assert len(mine) == 4
    assert [e["at"] for e in mine] == sorted((e["at"] for e in mine), reverse=True)  # newest first
    assert {e["user_id"] for e in mine} == {alice.user["id"]}
    assert {e["actor_id"] for e in mine} == {None}
    everyone = await _events(client, boss, type="login_succeeded")
    assert {e["user_id"] for e in everyone} >= {alice.user["id"], boss.user["id"]}
    pivot = datetime.fromisoformat(mine[1]["at"])
    since = await _events(client, boss, user_id=alice.user["id"], since=pivot.isoformat())
    assert [e["id"] for e in since if e["type"] == "login_succeeded"] == [e["id"] for e in mine[:2]]
    until = await _events(client, boss, user_id=alice.user["id"], type="login_succeeded", until=pivot.isoformat())
    assert [e["id"] for e in until] == [e["id"] for e in mine[2:]]
    collected: list[str] = []
    cursor = None
    while True:
        query: dict[str, Any] = {"user_id": alice.user["id"], "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = await _ok(await client.get("/admin/security-events", headers=boss.auth, params=query))
        collected += [e["id"] for e in page["events"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert collected == [e["id"] for e in await _events(client, boss, user_id=alice.user["id"])]


@pytest.mark.parametrize("query", [{"type": "no_such_event"}, {"user_id": "12"}, {"since": "yesterday"},
                                   {"until": "2026-01-01T00:00:00"}, {"limit": 0}, {"cursor": "x"},
                                   {"since": "9999-12-31T23:59:59-05:00"}, {"until": "0001-01-01T00:00:00+05:00"},
                                   {"cursor": OVERFLOWING_CURSOR}])
async def test_bad_event_queries_are_validation_problems(client: httpx.AsyncClient, app: FastAPI,
                                                         query: dict[str, Any]) -> None:
    boss = await admin(client, app)
    assert_problem(await client.get("/admin/security-events", headers=boss.auth, params=query), 422,
                   "validation_error")


async def test_events_of_an_empty_window_are_an_empty_page(client: httpx.AsyncClient, app: FastAPI) -> None:
    boss = await admin(client, app)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert await _events(client, boss, since=later) == []
