"""`--scale`: the run's database seeded straight with SQL to production size, and the plans of the hot
statements on it.

`seed()` runs after the small-database scenarios, on the same database (Gatehouse keeps running on it: its
own users and sessions, registered and logged in over HTTP, stay and keep working). Every seeded row is
made by `INSERT … SELECT … FROM generate_series` on the server, values derived from the row number (ids
are `md5(…)::uuid`, token digests `sha256(…)` in hex as Gatehouse stores them, the spread of times and owners
from `hashint4`), so a run seeds the same shape every time, in about 2 minutes on this project's 2 cores:

- users `scale-<n>@example.com`, one real Argon2id hash for all, created over the past year, two thirds
  verified, 1 in 97 disabled, 2 % `support`, 1 in 100,000 `admin`, last login in the past 3 days;
- sessions, each with `REFRESH_PER_SESSION` refresh tokens in `refresh_tokens` (the session's current and
  previous tokens are its two newest), created 10 minutes to 3 days ago, 1 in 10 ended (logout);
- notifications in the past 3 days (delivered, a few failed or withheld, none queued: the delivery sweep
  has nothing to take), security events over the past 7 days, reset and verification tokens made in the
  past 12 hours (7 in 10 spent).

Every time is in the recent past, inside every retention period of the retention job (domain/retention.py:
token history 7 days, ended sessions and settled notifications 30 days, account tokens a day after expiry,
security events a year), so it finds nothing seeded to delete during the run.

While seeding, the indexes of each table are dropped and built again afterwards from their own definitions
(`pg_get_indexdef`, `pg_get_constraintdef`; only the two primary keys that foreign keys reference stay),
foreign-key triggers are off (`session_replication_role = replica`: the rows are consistent by
construction), and commits are asynchronous; then `VACUUM (ANALYZE)` of every table the run writes (the
visibility map and the statistics a database of that size would have; autovacuum may be off on the server),
and a `CHECKPOINT`, so that writing out the seeding's dirty pages is not spread over the measurements.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

from bench.common import BenchError, log

REFRESH_PER_SESSION = 10
# Rows seeded at --scale-factor 1, by table.
SIZES: dict[str, int] = {
    "users": 1_000_000,
    "sessions": 1_000_000,
    "refresh_tokens": REFRESH_PER_SESSION * 1_000_000,
    "notifications": 1_000_000,
    "security_events": 5_000_000,
    "account_tokens": 1_000_000,
}

# A uniform pseudo-random number in [0, m) from a row number and a salt (hashint4 is Postgres's own int hash).
_RAND = "((hashint4(({n})::int # {salt}) :: bigint + 2147483648) % ({m}))"


def _rand(n: str, salt: int, m: str | int) -> str:
    return _RAND.format(n=n, salt=salt, m=m)


def _user(n: str, salt: int) -> str:
    """The number of the seeded user a row of another table belongs to."""
    return f"(1 + {_rand(n, salt, ':users')})"


_USER_ID = "md5('scale-user-' || {u})::uuid"
_AGENTS = ("'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36'",
           "'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
           "Version/18.1 Mobile/15E148 Safari/604.1'",
           "'gatehouse-sdk/1.0 python-httpx/0.28'")


def _agent(n: str) -> str:
    return f"(ARRAY[{', '.join(_AGENTS)}])[1 + ({n}) % 3]"


def _ip(n: str) -> str:
    return (f"CASE WHEN ({n}) % 5 = 0 THEN '2001:db8::' || to_hex(({n}) % 65535) "
            f"ELSE '203.0.113.' || (1 + ({n}) % 254) END")


# Parameters, numbered in order by `_numbered`: :rows (of this table), :users and :sessions (how many were
# seeded), :hash (the password hash).
USERS = f"""
INSERT INTO users (id, email, password_hash, full_name, created_at, updated_at, credential_version, email_verified,
                   roles, status, disabled_reason, last_login_at)
SELECT {_USER_ID.format(u='n')}, 'scale-' || n || '@example.com', :hash,
       CASE WHEN n % 4 = 0 THEN NULL ELSE 'Scale User ' || n END,
       c.created, c.created + (c.age / 2) * interval '1 second', CASE WHEN n % 10 = 0 THEN 1 ELSE 0 END,
       n % 3 <> 0,
       CASE WHEN n % 100000 = 0 THEN 'admin' WHEN n % 50 = 0 THEN 'support' ELSE '' END,
       CASE WHEN n % 97 = 0 THEN 'disabled' ELSE 'active' END,
       CASE WHEN n % 97 = 0 THEN 'seeded by the scale bench' END,
       now() - (60 + {_rand('n', 11, 259200)}) * interval '1 second'
FROM generate_series(1, :rows) AS n,
     LATERAL (SELECT {_rand('n', 12, 31536000)} AS age) AS a,
     LATERAL (SELECT now() - interval '3 days' - a.age * interval '1 second' AS created, a.age) AS c
"""

# A session's age (seconds, 10 minutes to 3 days); token j of the session was issued at created + j * step,
# step = age / (per + 2) whole seconds; the newest (j = per - 1) is its current token, the one before it the
# previous; it was last used when the newest was issued.
_SESSION_AGE = f"(600 + {_rand('{k}', 21, 259200)})"


def _rt_digest(m: str) -> str:
    return f"encode(sha256(convert_to('scale-rt-' || ({m}), 'UTF8')), 'hex')"


SESSIONS = f"""
INSERT INTO sessions (id, user_id, created_at, last_used_at, absolute_expires_at, current_token, previous_token,
                      rotated_at, revoked_at, revoked_reason, user_agent, ip)
SELECT md5('scale-session-' || k)::uuid, {_USER_ID.format(u=_user('k', 22))},
       s.created, s.last_used, s.created + interval '30 days',
       {_rt_digest(f'k + {REFRESH_PER_SESSION - 1} * :rows')}, {_rt_digest(f'k + {REFRESH_PER_SESSION - 2} * :rows')},
       s.last_used,
       CASE WHEN k % 10 = 0 THEN s.last_used + interval '1 minute' END,
       CASE WHEN k % 10 = 0 THEN 'logout' END,
       {_agent('k')}, {_ip('k')}
FROM generate_series(1, :rows) AS k,
     LATERAL (SELECT {_SESSION_AGE.format(k='k')} AS age) AS a,
     LATERAL (SELECT now() - a.age * interval '1 second' AS created,
                     now() - (a.age - {REFRESH_PER_SESSION - 1} * (a.age / {REFRESH_PER_SESSION + 2}))
                             * interval '1 second' AS last_used) AS s
"""

# Row m (1 … per * sessions) is token j = (m - 1) / sessions of session k = 1 + (m - 1) % sessions.
REFRESH_TOKENS = f"""
INSERT INTO refresh_tokens (digest, session_id, issued_at)
SELECT {_rt_digest('m')}, md5('scale-session-' || r.k)::uuid,
       now() - (a.age - r.j * (a.age / {REFRESH_PER_SESSION + 2})) * interval '1 second'
FROM generate_series(1, :rows) AS m,
     LATERAL (SELECT 1 + (m - 1) % (:rows / {REFRESH_PER_SESSION}) AS k,
                     (m - 1) / (:rows / {REFRESH_PER_SESSION}) AS j) AS r,
     LATERAL (SELECT {_SESSION_AGE.format(k='r.k')} AS age) AS a
"""

_NOTIFICATION_KINDS = ("'new_login'",) * 12 + ("'password_reset'",) * 2 + ("'email_verification'",) * 2 + (
    "'password_changed'", "'message'", "'email_change_requested'", "'email_changed'")
NOTIFICATIONS = f"""
INSERT INTO notifications (id, user_id, kind, message, status, created_at, delivered_at, attempts, last_error,
                           claimed_until, recipient, recipient_verified, sealed_link)
SELECT md5('scale-notification-' || n)::uuid, {_USER_ID.format(u=_user('n', 31))}, x.kind,
       CASE x.kind WHEN 'new_login' THEN 'Your account was signed in to from 203.0.113.' || (1 + n % 254)
                       || ' with Chrome on Linux. If this was not you, change your password.'
                   WHEN 'message' THEN 'Seeded message ' || n
                   ELSE 'A notice about your account (seeded ' || n || ')' END,
       x.status, x.created,
       CASE WHEN x.status = 'delivered' THEN x.created + interval '2 seconds' END,
       CASE WHEN x.status = 'failed' THEN 3 ELSE 1 END,
       CASE WHEN x.status = 'failed' THEN 'SMTP 451 4.3.0 temporary failure (seeded)' END,
       NULL, NULL, NULL, NULL
FROM generate_series(1, :rows) AS n,
     LATERAL (SELECT (ARRAY[{', '.join(_NOTIFICATION_KINDS)}])[1 + n % {len(_NOTIFICATION_KINDS)}] AS kind,
                     CASE WHEN n % 50 = 7 THEN 'failed' WHEN n % 50 = 13 THEN 'withheld' ELSE 'delivered' END
                     AS status,
                     now() - (60 + {_rand('n', 32, 259200)}) * interval '1 second' AS created) AS x
"""

_EVENT_TYPES = ("'login_succeeded'",) * 12 + ("'login_failed'",) * 3 + ("'session_ended'",) * 2 + (
    "'password_changed'", "'password_reset_requested'", "'email_verified'")
SECURITY_EVENTS = f"""
INSERT INTO security_events (id, user_id, type, at, actor, actor_id, ip, user_agent, session_id)
SELECT md5('scale-event-' || n)::uuid, {_USER_ID.format(u=_user('n', 41))}, x.type,
       now() - (60 + {_rand('n', 42, 604800)}) * interval '1 second',
       CASE WHEN n % 1000 = 0 THEN 'admin' ELSE 'user' END,
       CASE WHEN n % 1000 = 0 THEN md5('scale-user-100000')::uuid END,
       {_ip('n')}, {_agent('n')},
       CASE WHEN x.type IN ('login_succeeded', 'session_ended')
            THEN md5('scale-session-' || (1 + {_rand('n', 43, ':sessions')}))::uuid END
FROM generate_series(1, :rows) AS n,
     LATERAL (SELECT CASE WHEN n % 1000 = 0 THEN 'roles_changed'
                          ELSE (ARRAY[{', '.join(_EVENT_TYPES)}])[1 + n % {len(_EVENT_TYPES)}] END AS type) AS x
"""

ACCOUNT_TOKENS = f"""
INSERT INTO account_tokens (digest, user_id, kind, email, created_at, expires_at, spent_at)
SELECT encode(sha256(convert_to('scale-at-' || n, 'UTF8')), 'hex'), {_USER_ID.format(u='x.u')}, x.kind,
       'scale-' || x.u || '@example.com', x.created,
       x.created + CASE WHEN x.kind = 'password_reset' THEN interval '30 minutes' ELSE interval '24 hours' END,
       CASE WHEN n % 10 < 7 THEN x.created + interval '3 minutes' END
FROM generate_series(1, :rows) AS n,
     LATERAL (SELECT {_user('n', 51)} AS u,
                     CASE WHEN n % 2 = 0 THEN 'password_reset' ELSE 'email_verification' END AS kind,
                     now() - (600 + {_rand('n', 52, 43200)}) * interval '1 second' AS created) AS x
"""

# Two connections at once (the machine has two cores), the work split about evenly.
LANES: tuple[tuple[str, ...], ...] = (("refresh_tokens",),
                                      ("users", "security_events", "sessions", "notifications", "account_tokens"))
INSERTS: dict[str, str] = {"users": USERS, "sessions": SESSIONS, "refresh_tokens": REFRESH_TOKENS,
                           "notifications": NOTIFICATIONS, "security_events": SECURITY_EVENTS,
                           "account_tokens": ACCOUNT_TOKENS}

SEED_SETTINGS = ("SET session_replication_role = replica", "SET synchronous_commit = off",
                 "SET maintenance_work_mem = '512MB'", "SET max_parallel_maintenance_workers = 1",
                 "SET work_mem = '64MB'")

# The table's indexes and the constraints behind them, except primary keys a foreign key references.
_DROPPABLE = """
SELECT c.conname AS name, 'constraint' AS kind, pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint c
WHERE c.conrelid = $1::regclass AND c.contype IN ('p', 'u')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)
UNION ALL
SELECT i.indexrelid::regclass::text, 'index', pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
"""


def _numbered(sql: str) -> tuple[str, list[str]]:
    """`:name` parameters as `$n` (typed where a bare parameter would be ambiguous), and the names in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match[1]
        if name not in names:
            names.append(name)
        cast = "" if name == "hash" else "::bigint"
        return f"${names.index(name) + 1}{cast}"

    return re.sub(r"(?<!:):(rows|users|sessions|hash)\b", number, sql), names


@dataclass
class Seeded:
    sizes: dict[str, int]
    seconds: dict[str, float]  # by table: insert, index rebuild; and "vacuum", "total"
    table_bytes: dict[str, int]  # by table: heap and indexes, after VACUUM


def sizes_at(factor: float) -> dict[str, int]:
    """The row counts at a fraction (or multiple) of the full size; refresh tokens stay a whole multiple."""
    sizes = {table: max(1, round(rows * factor)) for table, rows in SIZES.items()}
    sizes["refresh_tokens"] = REFRESH_PER_SESSION * sizes["sessions"]
    return sizes


async def _connect(dsn: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10, command_timeout=1800,
                                 server_settings={"application_name": "gatehouse-bench-seed"})
    for statement in SEED_SETTINGS:
        await conn.execute(statement)
    return conn


async def _seed_table(conn: Any, table: str, sizes: dict[str, int], password_hash: str,
                      seconds: dict[str, float]) -> None:
    droppable = await conn.fetch(_DROPPABLE, table)
    for item in droppable:
        if item["kind"] == "constraint":
            await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{item["name"]}"')
        else:
            await conn.execute(f"DROP INDEX {item['name']}")
    started = time.perf_counter()
    sql, names = _numbered(INSERTS[table])
    values = {"rows": sizes[table], "users": sizes["users"], "sessions": sizes["sessions"], "hash": password_hash}
    await conn.execute(sql, *(values[name] for name in names))
    seconds[f"{table} insert"] = time.perf_counter() - started
    started = time.perf_counter()
    for item in droppable:  # the same definitions, built once over all the rows
        if item["kind"] == "constraint":
            await conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{item["name"]}" {item["definition"]}')
        else:
            await conn.execute(item["definition"])
    seconds[f"{table} indexes"] = time.perf_counter() - started
    log(f"  seeded {sizes[table]:,} {table} in {seconds[f'{table} insert']:.1f} s "
        f"(+ {seconds[f'{table} indexes']:.1f} s rebuilding {len(droppable)} indexes)")


async def _lane(dsn: str, tables: tuple[str, ...], sizes: dict[str, int], password_hash: str,
                seconds: dict[str, float]) -> None:
    conn = await _connect(dsn)
    try:
        for table in tables:
            await _seed_table(conn, table, sizes, password_hash, seconds)
    finally:
        await conn.close()


async def _vacuum(dsn: str, table: str, seconds: dict[str, float]) -> None:
    conn = await _connect(dsn)
    try:
        started = time.perf_counter()
        await conn.execute(f"VACUUM (ANALYZE) {table}")
        seconds[f"{table} vacuum"] = time.perf_counter() - started
    finally:
        await conn.close()


async def _seed(dsn: str, sizes: dict[str, int], password_hash: str) -> Seeded:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    await asyncio.gather(*(_lane(dsn, lane, sizes, password_hash, seconds) for lane in LANES))
    seconds["insert"] = time.perf_counter() - started
    vacuum_started = time.perf_counter()
    # Every table the run writes (the seeded ones, and what the small phase wrote), two at a time.
    tables = [*SIZES, "rate_limits", "service_clients"]
    queue = list(tables)

    async def worker() -> None:
        while queue:
            await _vacuum(dsn, queue.pop(0), seconds)

    await asyncio.gather(worker(), worker())
    seconds["vacuum"] = time.perf_counter() - vacuum_started
    conn = await _connect(dsn)
    try:
        # The seeding's gigabytes of dirty pages written out now, not by a checkpoint spread over the
        # measurements that follow (a checkpoint in progress would be the seeding's cost, not the data's).
        checkpoint_started = time.perf_counter()
        await conn.execute("CHECKPOINT")
        seconds["checkpoint"] = time.perf_counter() - checkpoint_started
        seconds["total"] = time.perf_counter() - started
        rows = await conn.fetch("SELECT relname, pg_total_relation_size(oid) AS bytes FROM pg_class "
                                "WHERE relname = ANY($1::text[]) AND relkind = 'r' "
                                "AND relnamespace = 'public'::regnamespace", list(SIZES))
    finally:
        await conn.close()
    return Seeded(sizes=sizes, seconds=seconds, table_bytes={r["relname"]: r["bytes"] for r in rows})


def seed(dsn: str, sizes: dict[str, int], password_hash: str) -> Seeded:
    """Seed the database at `dsn` (migrated, Gatehouse's schema) with `sizes` rows; VACUUM (ANALYZE) after."""
    try:
        return asyncio.run(_seed(dsn, sizes, password_hash))
    except OSError as exc:
        raise BenchError(f"seeding the scale data failed: {exc}") from None


def password_hash() -> str:
    """One real Argon2id hash at Gatehouse's default parameters (no seeded account's password is ever tried)."""
    from argon2 import PasswordHasher, Type

    from infrastructure.settings import Settings

    fields = Settings.model_fields
    hasher = PasswordHasher(time_cost=fields["argon2_time_cost"].default,
                            memory_cost=fields["argon2_memory_kib"].default,
                            parallelism=fields["argon2_parallelism"].default, type=Type.ID)
    return hasher.hash("scale bench: no one logs in with this")



# ----------------------------------------------------------------------------------------------------------
# the plans of the hot statements


@dataclass
class Plan:
    title: str
    custom: str  # EXPLAIN (ANALYZE, BUFFERS) with the parameters bound (a custom plan)
    generic: str  # the same under plan_cache_mode = force_generic_plan: what a prepared statement may switch to
    custom_ms: float | None
    generic_ms: float | None
    sql: str
    params: dict[str, Any]

    @staticmethod
    def top(text: str) -> str:
        """What the summary names: a sequential scan if the plan has one, else its first index access."""
        nodes = [line.strip().removeprefix("->").strip().split("  (")[0] for line in text.splitlines()]
        for wanted in ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Index Scan", " Scan"):
            found = next((node for node in nodes if wanted in node), None)
            if found:
                return found
        return nodes[0] if nodes else ""


def _execution_ms(text: str) -> float | None:
    found = re.search(r"Execution Time: ([0-9.]+) ms", text)
    return float(found[1]) if found else None


async def _explain(conn: Any, sql: str, args: list[Any], generic: bool) -> str:
    """EXPLAIN (ANALYZE, BUFFERS), twice, each in a transaction that is rolled back (the rotation writes: the
    second run finds the same row the first did); the second is kept, the pages it reads in memory as under
    load. Generic: the statement PREPAREd and EXECUTEd under plan_cache_mode = force_generic_plan, the plan a
    prepared statement (asyncpg prepares every statement) may switch to after five executions."""
    if generic:  # EXECUTE takes no parameters of its own: the same values, as literals
        literals = [await conn.fetchval("SELECT quote_nullable($1::text)", None if a is None else str(a))
                    for a in args]
        statement = f"EXECUTE bench_probe({', '.join(literals)})" if args else "EXECUTE bench_probe"
        args = []
    else:
        statement = sql
    rows: list[Any] = []
    for _ in range(2):
        transaction = conn.transaction()
        await transaction.start()
        try:
            if generic:
                await conn.execute(f"PREPARE bench_probe AS {sql}")
                await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *args)
        finally:
            await transaction.rollback()
            if generic:
                await conn.execute("DEALLOCATE bench_probe")
    return "\n".join(row[0] for row in rows)


def _probes(context: dict[str, Any]) -> list[tuple[str, Any, dict[str, Any]]]:
    """(title, statement, parameters) of each hot statement, as the service sends it, with parameters of a
    real row: Gatehouse's own statements (src/infrastructure/db/statements.py), imported."""
    import datetime as dt

    from infrastructure.db import statements as sql

    now = dt.datetime.now(dt.UTC)
    idle_cutoff = now - dt.timedelta(days=7)
    probes: list[tuple[str, Any, dict[str, Any]]] = [
        ("refresh: the rotation (ROTATE_AND_REMEMBER), a seeded live session's current token", sql.ROTATE_AND_REMEMBER,
         {"presented": context["seeded_token"], "successor": "0" * 64, "now": now, "idle_cutoff": idle_cutoff}),
        ("refresh: the rotation, a bench session's current token", sql.ROTATE_AND_REMEMBER,
         {"presented": context["bench_token"], "successor": "1" * 64, "now": now, "idle_cutoff": idle_cutoff}),
        ("password grant: the account by address (USER_BY_EMAIL), a seeded account", sql.USER_BY_EMAIL,
         {"email": context["seeded_email"]}),
        ("password grant: the account by address, a bench account", sql.USER_BY_EMAIL,
         {"email": context["bench_email"]}),
        ("password grant: the session cap after the login (REVOKE_SESSIONS_BEYOND), a bench account",
         sql.REVOKE_SESSIONS_BEYOND, {"user": context["bench_user_id"], "keep": 100, "now": now,
                                      "idle_cutoff": idle_cutoff, "reason": "session_limit"}),
        ("password grant: the last login (RECORD_LOGIN)", sql.RECORD_LOGIN, {"user_id": context["bench_user_id"],
                                                                            "now": now}),
        ("/users/me: the session-liveness read (SESSION_BY_ID)", sql.SESSION_BY_ID,
         {"session_id": context["bench_session_id"]}),
        ("/users/me and every /admin request: the account (USER_BY_ID)", sql.USER_BY_ID,
         {"user_id": context["bench_user_id"]}),
    ]
    search = sql.users_page(email=True, role=False, status=False, verified=False, after=False)
    for piece, what in ((context["admin_piece"], "the bench's own prefix (the scenario's search)"),
                        ("scale-12345", "`scale-12345` (11 seeded accounts; trigrams every seeded address has)"),
                        ("77777@", "`77777@` (1 seeded account)"),
                        ("example.com", "`example.com` (every account)")):
        probes.append((f"/admin/users?email=: the search (users_page), {what}", search,
                       {"email_pattern": sql.like_pattern(piece.lower()), "limit": 51}))
    probes += [
        ("/users/me/security-events: the first page (FIRST_EVENTS), a bench account", sql.FIRST_EVENTS,
         {"user_id": context["bench_user_id"], "limit": 51}),
        ("/users/me/security-events: the first page, a seeded account", sql.FIRST_EVENTS,
         {"user_id": context["seeded_user_id"], "limit": 51}),
        ("notification delivery sweep (CLAIM_STALE; runs in the background)", sql.CLAIM_STALE,
         {"created_before": now - dt.timedelta(seconds=30), "now": now, "lease_until": now + dt.timedelta(minutes=1),
          "limit": 50}),
    ]
    purge = getattr(sql, "PURGE", None)  # the retention job's deletes (once it exists), each a batch of 1,000
    if isinstance(purge, dict):
        cutoffs = {"refresh_token_history": 7, "sessions": 30, "notifications": 30, "account_tokens": 1,
                   "security_events": 365}
        for kind, statement in purge.items():
            days = cutoffs.get(str(kind), 30)
            probes.append((f"retention job: purge {kind} (a batch, cut-off {days} days ago)", statement,
                           {"before": now - dt.timedelta(days=days), "limit": 1000}))
    return probes


async def _context(conn: Any, bench_email: str, admin_piece: str) -> dict[str, Any]:
    bench = await conn.fetchrow(
        "SELECT u.id AS user_id, s.id AS session_id, s.current_token FROM users u JOIN sessions s ON s.user_id = u.id "
        "WHERE u.email = $1 AND s.revoked_at IS NULL ORDER BY s.last_used_at DESC LIMIT 1", bench_email)
    seeded = await conn.fetchrow(
        "SELECT s.user_id, s.current_token, u.email FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.id = md5('scale-session-' || 7)::uuid")
    if bench is None or seeded is None:
        raise BenchError("plans: no live bench session or no seeded session 7 to take parameters from")
    return {"bench_email": bench_email, "bench_user_id": bench["user_id"], "bench_session_id": bench["session_id"],
            "bench_token": bench["current_token"], "seeded_token": seeded["current_token"],
            "seeded_email": seeded["email"], "seeded_user_id": seeded["user_id"], "admin_piece": admin_piece}


async def _plans(dsn: str, bench_email: str, admin_piece: str) -> list[Plan]:
    import asyncpg

    from infrastructure.db.asyncpg_runner import compile_for_asyncpg

    conn = await asyncpg.connect(dsn, timeout=10, command_timeout=300)
    plans: list[Plan] = []
    try:
        context = await _context(conn, bench_email, admin_piece)
        for title, statement, params in _probes(context):
            compiled = compile_for_asyncpg(statement)
            if "__[POSTCOMPILE" in compiled.sql:  # an IN list SQLAlchemy expands per call: not one text to explain
                plans.append(Plan(title, "(not captured: an IN list SQLAlchemy expands at execution)", "", None, None,
                                  compiled.sql, params))
                continue
            args = compiled.args(params)
            custom = await _explain(conn, compiled.sql, args, generic=False)
            generic = await _explain(conn, compiled.sql, args, generic=True)
            plans.append(Plan(title, custom, generic, _execution_ms(custom), _execution_ms(generic), compiled.sql,
                              params))
    finally:
        await conn.close()
    return plans


def plans(dsn: str, bench_email: str, admin_piece: str) -> list[Plan]:
    """EXPLAIN (ANALYZE, BUFFERS) of each hot statement on the seeded database, custom and generic plans."""
    return asyncio.run(_plans(dsn, bench_email, admin_piece))


def plans_text(found: list[Plan], header: str) -> str:
    out = [header, ""]
    for plan in found:
        params = ", ".join(f"{k}={v!r}" for k, v in plan.params.items())
        out += ["=" * 110, plan.title, "-" * 110, plan.sql, f"-- parameters: {params}", "",
                "-- custom plan (the parameters bound, as the first executions of a prepared statement):",
                plan.custom, "", "-- generic plan (plan_cache_mode = force_generic_plan: what a prepared statement "
                "may switch to after five executions):", plan.generic, ""]
    return "\n".join(out) + "\n"
