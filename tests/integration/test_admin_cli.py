"""`gatehouse users …` as real subprocesses, on the database of a live service (two workers) that runs meanwhile,
on SQLite (the embedded default in the working directory's data dir) and Postgres: contract v2,
"Administration" and the CLI rules of "Other services: introspection and service clients"."""

from __future__ import annotations

import base64
import json
import os
import pty
import select
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.helpers import PASSWORD, unique_email
from tests.api.mailbox import Mailbox
from tests.live_server import GATEHOUSE, LiveServer, free_port, live_server, process_environment
from tests.postgres import run_coroutine

CLI_SECONDS = 120.0  # a bound against a hung command, not a speed limit
ADMIN_USER_KEYS = {"id", "email", "full_name", "created_at", "email_verified", "roles", "status", "disabled_reason",
                   "last_login_at"}
# "a demoted or disabled admin is refused within a second": other workers may cache a session check for ≤ 1 s
WITHIN_SECONDS = 1.5

Result = subprocess.CompletedProcess[str]


def run_cli(workdir: Path, env: dict[str, str], *args: str, stdin: str = "") -> Result:
    return subprocess.run([str(GATEHOUSE), *args], input=stdin, capture_output=True, text=True, cwd=workdir,
                          env=env, timeout=CLI_SECONDS, check=False)


def said(result: Result) -> str:
    return f"exit {result.returncode}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"


def assert_ok(result: Result) -> Result:
    assert result.returncode == 0, said(result)
    assert "Traceback" not in result.stderr, said(result)
    return result


def assert_one_line_failure(result: Result, code: int = 1, mentioning: str = "") -> str:
    """Exit `code`, nothing on stdout, and exactly one line on stderr: `gatehouse: <reason>`."""
    assert result.returncode == code, said(result)
    assert "Traceback" not in result.stderr, said(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, said(result)
    assert lines[0].startswith("gatehouse: "), said(result)
    assert result.stdout == "", said(result)
    assert mentioning.lower() in lines[0].lower(), said(result)
    return lines[0]


def claims(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified: base64url without padding."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@dataclass
class Gatehouse:
    """A live service and the environment its CLI gets (the service's own)."""

    workdir: Path
    env: dict[str, str]
    server: LiveServer
    http: httpx.Client

    @property
    def mailbox(self) -> Mailbox:
        return Mailbox(self.workdir / "data" / "notifications.log")

    def cli(self, *args: str, stdin: str = "") -> Result:
        return run_cli(self.workdir, self.env, *args, stdin=stdin)

    def at_once(self, *calls: Callable[[], Result]) -> list[Result]:
        """Several commands at the same time (each costs an interpreter's start-up)."""
        with ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(lambda call: call(), calls))

    def create(self, email: str, *roles: str, password: str = PASSWORD) -> dict[str, Any]:
        role_options = [arg for role in roles for arg in ("--role", role)]
        result = assert_ok(self.cli("users", "create", email, *role_options, "--password-stdin", "--json",
                                    stdin=f"{password}\n"))
        return dict(json.loads(result.stdout))

    def register(self, email: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        response = self.http.post("/auth/register", json={"email": email, "password": password, **extra})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.http.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def fresh_get(self, path: str, tokens: dict[str, Any], **params: str) -> httpx.Response:
        """A GET on a new connection, so that successive ones may reach either worker."""
        return self.http.get(path, headers={**bearer(tokens), "Connection": "close"}, params=params)

    def eventually(self, path: str, tokens: dict[str, Any], status: int, since: float) -> None:
        """`path` answers `status` within WITHIN_SECONDS of `since` (when the command had exited), and from then
        on on every worker."""
        deadline = since + WITHIN_SECONDS
        while (answer := self.fresh_get(path, tokens)).status_code != status:
            assert time.monotonic() < deadline, f"still {answer.status_code} after {WITHIN_SECONDS} s: {answer.text}"
            time.sleep(0.05)
        time.sleep(max(0.0, deadline - time.monotonic()))
        assert [self.fresh_get(path, tokens).status_code for _ in range(8)] == [status] * 8


@pytest.fixture
def gatehouse(server_env: dict[str, str], tmp_path: Path) -> Iterator[Gatehouse]:
    port = free_port()
    env = {**server_env, "GATEHOUSE_ISSUER": f"http://localhost:{port}"}  # what `serve` sets for itself
    with live_server(tmp_path, port=port, workers=2, environment=env) as server, \
            httpx.Client(base_url=server.base_url, timeout=30) as http:
        yield Gatehouse(tmp_path, process_environment(tmp_path, env), server, http)


def test_create_with_password_stdin_makes_an_admin_who_logs_in_over_http(gatehouse: Gatehouse) -> None:
    email = unique_email("first-admin")
    result = assert_ok(gatehouse.cli("users", "create", email, "--role", "admin", "--password-stdin",
                                     stdin=f"{PASSWORD}\n"))
    assert email in result.stdout, said(result)
    assert PASSWORD not in result.stdout + result.stderr, said(result)

    tokens = gatehouse.login(email)
    assert claims(tokens["access_token"])["roles"] == ["admin"]
    users = gatehouse.http.get("/admin/users", headers=bearer(tokens))
    assert users.status_code == 200, users.text
    (me,) = [u for u in users.json()["users"] if u["email"] == email]
    assert me["roles"] == ["admin"]
    assert me["status"] == "active"


def test_create_refuses_a_taken_address_a_weak_password_and_an_invalid_email_in_one_line(
        gatehouse: Gatehouse) -> None:
    email = unique_email("taken")
    created = gatehouse.create(email, "admin")

    def create(address: str, password: str) -> Callable[[], Result]:
        return lambda: gatehouse.cli("users", "create", address, "--password-stdin", stdin=f"{password}\n")

    weak_email, bad_email = unique_email("weak"), "not-an-address"
    taken, weak, invalid = gatehouse.at_once(create(email, "another good passphrase"), create(weak_email, "short"),
                                             create(bad_email, PASSWORD))
    assert_one_line_failure(taken)
    assert_one_line_failure(weak)
    assert_one_line_failure(invalid)
    assert "another good passphrase" not in taken.stderr
    assert PASSWORD not in invalid.stderr

    listed = json.loads(assert_ok(gatehouse.cli("users", "list", "--json")).stdout)
    assert [u["email"] for u in listed] == [email]  # nothing was created, nothing changed
    assert listed[0]["id"] == created["id"]
    assert listed[0]["roles"] == ["admin"]
    gatehouse.login(email)  # the first password still holds
    refused = gatehouse.http.post("/auth/login", json={"email": email, "password": "another good passphrase"})
    assert refused.status_code == 401, refused.text


def test_create_without_a_terminal_asks_for_password_stdin(gatehouse: Gatehouse) -> None:
    """A prompt needs a terminal (tested below); piped input without --password-stdin is refused, one line."""
    email, password = unique_email("piped"), "a piped passphrase 42"
    refused = gatehouse.cli("users", "create", email, stdin=f"{password}\n{password}\n")
    assert_one_line_failure(refused, mentioning="--password-stdin")
    assert password not in refused.stderr, said(refused)
    listed = json.loads(assert_ok(gatehouse.cli("users", "list", "--json")).stdout)
    assert [u["email"] for u in listed] == []


def _read_until(fd: int, marker: bytes, seen: bytearray, seconds: float = CLI_SECONDS) -> None:
    """Read the terminal's output into `seen` until it holds `marker` (b"" for: until the other end closes)."""
    deadline = time.monotonic() + seconds
    while not (marker and marker in seen):
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} on the terminal: {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every descriptor of the terminal's other end is closed
            chunk = b""
        if not chunk:
            assert not marker, f"no {marker!r} on the terminal: {bytes(seen)!r}"
            return
        seen += chunk


def test_the_password_prompt_does_not_echo_on_a_terminal(gatehouse: Gatehouse) -> None:
    email, password = unique_email("terminal"), "typed on a terminal 7"
    controller, terminal = pty.openpty()
    # a session of its own: no controlling terminal, so getpass uses this one (stdin), never the test run's
    process = subprocess.Popen([str(GATEHOUSE), "users", "create", email], stdin=terminal, stdout=terminal,
                               stderr=terminal, cwd=gatehouse.workdir, env=gatehouse.env, start_new_session=True)
    os.close(terminal)
    seen = bytearray()
    try:
        # getpass turns echo off (discarding pending input) before it writes its prompt, the space after ':'
        _read_until(controller, b"Password: ", seen)
        os.write(controller, f"{password}\n".encode())
        _read_until(controller, b"confirmation: ", seen)
        os.write(controller, f"{password}\n".encode())
        _read_until(controller, b"", seen)
        assert process.wait(timeout=CLI_SECONDS) == 0, bytes(seen)
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert password.encode() not in seen, bytes(seen)
    assert email.encode() in seen, bytes(seen)
    gatehouse.login(email, password)


def test_list_prints_a_table_and_with_json_one_array_of_admin_users(gatehouse: Gatehouse) -> None:
    admin = unique_email("lister")
    gatehouse.create(admin, "admin")
    plain, named = unique_email("plain"), unique_email("named")
    gatehouse.register(plain)
    gatehouse.register(named, full_name="Ada Lovelace")
    tokens = gatehouse.login(admin)  # a last_login_at to show

    table, as_json, admins_only = gatehouse.at_once(lambda: gatehouse.cli("users", "list"),
                                                    lambda: gatehouse.cli("users", "list", "--json"),
                                                    lambda: gatehouse.cli("users", "list", "--role", "admin", "--json"))
    lines = assert_ok(table).stdout.splitlines()
    assert {"ID", "EMAIL", "STATUS", "ROLES"} <= set(lines[0].split()), said(table)
    assert len(lines) == 4, said(table)
    for email in (admin, plain, named):
        assert sum(email in line.split() for line in lines) == 1, said(table)
    (admin_line,) = [line for line in lines if admin in line.split()]
    assert "admin" in admin_line.split()
    assert "active" in admin_line.split()

    listed = json.loads(assert_ok(as_json).stdout)  # exactly one JSON document: the array
    assert isinstance(listed, list)
    assert len(listed) == 3
    for user in listed:
        assert set(user) == ADMIN_USER_KEYS, user
    by_email = {u["email"]: u for u in listed}
    assert set(by_email) == {admin, plain, named}
    assert by_email[admin]["roles"] == ["admin"]
    assert by_email[admin]["last_login_at"] is not None
    assert by_email[named]["full_name"] == "Ada Lovelace"
    assert by_email[plain]["roles"] == []
    assert all(u["status"] == "active" and u["disabled_reason"] is None for u in listed)
    assert [u["email"] for u in json.loads(assert_ok(admins_only).stdout)] == [admin]

    over_http = gatehouse.http.get("/admin/users", headers=bearer(tokens))
    assert over_http.status_code == 200, over_http.text
    assert listed == over_http.json()["users"]  # the same admin-user objects, in the same order


def test_set_roles_replaces_roles_keeps_the_last_admin_and_demotes_within_a_second(gatehouse: Gatehouse) -> None:
    first, second = unique_email("first"), unique_email("second")
    gatehouse.create(first, "admin")
    gatehouse.register(second)

    only_admin = gatehouse.cli("users", "set-roles", first)
    assert_one_line_failure(only_admin, mentioning="last active admin")

    promoted = assert_ok(gatehouse.cli("users", "set-roles", second, "admin", "support", "--json"))
    user = json.loads(promoted.stdout)
    assert set(user) == ADMIN_USER_KEYS
    assert user["email"] == second
    assert user["roles"] == ["admin", "support"]
    tokens = gatehouse.login(second)
    assert claims(tokens["access_token"])["roles"] == ["admin", "support"]
    assert gatehouse.fresh_get("/admin/users", tokens).status_code == 200

    demoted = assert_ok(gatehouse.cli("users", "set-roles", second, "--json"))
    exited = time.monotonic()
    assert json.loads(demoted.stdout)["roles"] == []
    gatehouse.eventually("/admin/users", tokens, 403, since=exited)  # the unexpired token is no admin's now

    admin_tokens = gatehouse.login(first)
    users = gatehouse.http.get("/admin/users", headers=bearer(admin_tokens)).json()["users"]
    assert {u["email"]: u["roles"] for u in users} == {first: ["admin"], second: []}


def test_disable_ends_sessions_and_blocks_login_until_enable(gatehouse: Gatehouse) -> None:
    admin, email = unique_email("keeper"), unique_email("laptop")
    gatehouse.create(admin, "admin")
    gatehouse.register(email)
    tokens = gatehouse.login(email)
    assert gatehouse.fresh_get("/users/me", tokens).status_code == 200

    disabled = assert_ok(gatehouse.cli("users", "disable", email, "--reason", "lost laptop", "--json"))
    exited = time.monotonic()
    user = json.loads(disabled.stdout)
    assert user["status"] == "disabled"
    assert user["disabled_reason"] == "lost laptop"
    gatehouse.eventually("/users/me", tokens, 401, since=exited)
    refresh = gatehouse.http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401, refresh.text
    right = gatehouse.http.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert (right.status_code, right.json()["code"]) == (403, "account_disabled"), right.text
    wrong = gatehouse.http.post("/auth/login", json={"email": email, "password": "not the password at all"})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials"), wrong.text
    assert gatehouse.mailbox.mails(email, "account_disabled")  # told before the command exited

    enabled = assert_ok(gatehouse.cli("users", "enable", email, "--json"))
    assert json.loads(enabled.stdout)["status"] == "active"
    again = gatehouse.login(email)
    assert gatehouse.fresh_get("/users/me", again).status_code == 200
    assert gatehouse.fresh_get("/users/me", tokens).status_code == 401  # no old session comes back
    old_refresh = gatehouse.http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert old_refresh.status_code == 401, old_refresh.text


def test_disable_refuses_the_last_active_admin_and_unknown_addresses(gatehouse: Gatehouse) -> None:
    admin = unique_email("sole")
    gatehouse.create(admin, "admin")
    nobody = unique_email("nobody")
    last, unknown, unknown_enable, unknown_roles = gatehouse.at_once(
        lambda: gatehouse.cli("users", "disable", admin),
        lambda: gatehouse.cli("users", "disable", nobody, "--reason", "who?"),
        lambda: gatehouse.cli("users", "enable", nobody),
        lambda: gatehouse.cli("users", "set-roles", nobody, "admin"))
    assert_one_line_failure(last, mentioning="last active admin")
    for result in (unknown, unknown_enable, unknown_roles):
        assert_one_line_failure(result, mentioning=nobody)
    tokens = gatehouse.login(admin)  # still active, still an admin
    users = gatehouse.http.get("/admin/users", headers=bearer(tokens))
    assert users.status_code == 200, users.text
    assert [u["email"] for u in users.json()["users"]] == [admin]


def test_cli_actions_are_security_events_of_the_system(gatehouse: Gatehouse) -> None:
    admin, email = unique_email("auditor"), unique_email("audited")
    gatehouse.create(admin, "admin")
    user_id = gatehouse.register(email)["id"]
    assert_ok(gatehouse.cli("users", "set-roles", email, "support"))
    assert_ok(gatehouse.cli("users", "disable", email, "--reason", "lost laptop"))
    assert_ok(gatehouse.cli("users", "enable", email))

    tokens = gatehouse.login(admin)
    answer = gatehouse.http.get("/admin/security-events", params={"user_id": user_id}, headers=bearer(tokens))
    assert answer.status_code == 200, answer.text
    events = answer.json()["events"]
    by_type = {e["type"]: e for e in events}
    assert [e["type"] for e in events if e["type"] in {"roles_changed", "user_disabled", "user_enabled"}] == [
        "user_enabled", "user_disabled", "roles_changed"]  # newest first, once each
    for kind in ("roles_changed", "user_disabled", "user_enabled"):
        event = by_type[kind]
        assert (event["actor"], event["actor_id"], event["user_id"]) == ("system", None, user_id), event
    assert "lost laptop" not in json.dumps([by_type["roles_changed"], by_type["user_enabled"]])


def _backdate_revocations(gatehouse: Gatehouse, days: int) -> None:
    """As if every ended session had ended `days` ago."""
    from sqlalchemy import select, update
    from sqlalchemy.ext.asyncio import create_async_engine

    from infrastructure.db.tables import sessions

    sqlite = f"sqlite+aiosqlite:///{gatehouse.workdir / 'data' / 'gatehouse.db'}"
    url = gatehouse.env.get("GATEHOUSE_DATABASE_URL") or sqlite

    async def backdate() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            ended = (await conn.execute(select(sessions.c.id, sessions.c.revoked_at)
                                        .where(sessions.c.revoked_at.is_not(None)))).all()
            for session_id, revoked_at in ended:
                await conn.execute(update(sessions).where(sessions.c.id == session_id)
                                   .values(revoked_at=revoked_at - timedelta(days=days)))
        await engine.dispose()

    run_coroutine(backdate())


def test_purge_deletes_what_retention_lets_go_of_once_however_many_run_it_at_once(gatehouse: Gatehouse) -> None:
    email = unique_email("purged")
    gatehouse.register(email)
    leaving, staying = gatehouse.login(email), gatehouse.login(email)
    assert gatehouse.http.post("/auth/logout", json={"refresh_token": leaving["refresh_token"]},
                               headers=bearer(leaving)).status_code == 204
    assert json.loads(assert_ok(gatehouse.cli("purge", "--json")).stdout)["sessions"] == 0
    _backdate_revocations(gatehouse, days=31)  # past the default session retention (30 days)

    results = gatehouse.at_once(*[lambda: gatehouse.cli("purge", "--json")] * 3)
    purged = 0
    for result in results:  # each says what it deleted; one that met another run purging says so and stops
        assert_ok(result)
        report = json.loads(result.stdout)
        purged += report["sessions"]
        assert ("another worker is purging" in result.stderr) == report["yielded"], said(result)
    assert purged == 1  # nothing deleted twice, nothing left
    refreshed = gatehouse.http.post("/auth/refresh", json={"refresh_token": staying["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    plain = assert_ok(gatehouse.cli("purge")).stdout
    assert "sessions: 0 deleted" in plain
    assert "security_events: 0 deleted" in plain


def test_purge_that_meets_another_worker_purging_says_so_and_stops(migrated_postgres: str, tmp_path: Path) -> None:
    import asyncio

    import asyncpg

    env = process_environment(tmp_path, {"GATEHOUSE_DATABASE_URL": migrated_postgres})

    async def while_another_purges() -> Result:
        conn = await asyncpg.connect(migrated_postgres.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            async with conn.transaction():  # the retention lock, as another worker's batch holds it
                await conn.execute("SELECT pg_advisory_xact_lock(x'6761746570757267'::bigint)")
                return await asyncio.to_thread(run_cli, tmp_path, env, "purge", "--json")
        finally:
            await conn.close()

    result = assert_ok(run_coroutine(while_another_purges()))
    report = json.loads(result.stdout)
    assert report.pop("yielded") is True
    assert report == dict.fromkeys(["refresh_token_history", "sessions", "notifications", "account_tokens",
                                    "security_events"], 0)
    assert result.stderr.strip() == "gatehouse: another worker is purging right now: stopped here, it goes on"


@pytest.mark.parametrize(("setting", "value", "code"), [
    ("GATEHOUSE_DATABASE_URL", "nonsense://x", 2),
    ("GATEHOUSE_ARGON2_TIME_COST", "lots", 2),
    # a valid URL where nothing answers: not a configuration error, but one line all the same
    ("GATEHOUSE_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/gatehouse", 1),
])
def test_a_bad_configuration_exits_non_zero_in_one_line(tmp_path: Path, setting: str, value: str,
                                                        code: int) -> None:
    env = process_environment(tmp_path, {setting: value})
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda args: run_cli(tmp_path, env, *args, stdin=f"{PASSWORD}\n"), [
            ("users", "list"), ("users", "disable", unique_email()),
            ("users", "create", unique_email(), "--password-stdin")]))
    for result in results:
        assert_one_line_failure(result, code=code)


@pytest.mark.postgres
def test_postgres_without_a_signing_key_exits_non_zero_in_one_line(migrated_postgres: str, tmp_path: Path) -> None:
    env = process_environment(tmp_path, {"GATEHOUSE_DATABASE_URL": migrated_postgres,
                                         "GATEHOUSE_JWT_PRIVATE_KEY": ""})
    env.pop("GATEHOUSE_JWT_PRIVATE_KEY")  # a development key is refused on Postgres
    assert_one_line_failure(run_cli(tmp_path, env, "users", "list"), code=2, mentioning="signing key")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def unmigrated_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """A database the service has never migrated: SQLite's embedded default without auto-migration, or an empty
    Postgres database."""
    if request.param == "sqlite":
        return {"GATEHOUSE_AUTO_MIGRATE": "false"}
    return {"GATEHOUSE_DATABASE_URL": str(request.getfixturevalue("empty_postgres"))}


def test_an_unmigrated_database_exits_non_zero_in_one_line(unmigrated_env: dict[str, str], tmp_path: Path) -> None:
    env = process_environment(tmp_path, unmigrated_env)
    first = run_cli(tmp_path, env, "users", "list")  # on SQLite, also announces the development key it made
    assert first.returncode == 1, said(first)
    assert_one_line_failure(run_cli(tmp_path, env, "users", "list"), mentioning="migrat")
