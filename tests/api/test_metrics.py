"""GET /metrics in one process: off unless configured, only with its bearer secret, and the counts follow
what happened (login results, refresh results, token checks, rate-limit hits, deliveries, hashing time,
latency by route template, the outbox backlog). The two-worker scrape is tests/integration/test_metrics_live.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from infrastructure.db.tables import notifications
from tests.api.helpers import (
    PASSWORD,
    account,
    assert_problem,
    assert_token_response,
    bearer,
    login,
    refresh,
    register,
    unique_email,
)
from tests.conftest import AppFactory, client_for

TOKEN = "m" * 40
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample: (name, labels) → value."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = await client.get("/metrics", headers=SCRAPE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(answer.text)


async def test_without_a_metrics_token_there_is_no_metrics_path(client: httpx.AsyncClient) -> None:
    for method in ("GET", "POST", "DELETE"):
        assert_problem(await client.request(method, "/metrics"), 404, "not_found")
    assert_problem(await client.get("/metrics", headers=SCRAPE), 404, "not_found")
    assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]


async def test_metrics_need_the_configured_bearer_secret(app_factory: AppFactory) -> None:
    app, _ = await app_factory(metrics_token=TOKEN)
    async with client_for(app) as client:
        for headers in ({}, {"Authorization": f"Basic {TOKEN}"}):
            answer = await client.get("/metrics", headers=headers)
            assert_problem(answer, 401, "not_authenticated")
            assert answer.headers["www-authenticate"] == "Bearer"
        alice = await account(client)  # a user's own access token is not the metrics secret
        for token in ("x" * 40, alice.tokens["access_token"]):
            answer = await client.get("/metrics", headers=bearer(token))
            assert_problem(answer, 401, "invalid_token")
            assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]


async def test_the_counts_are_answered_while_the_database_is_not(app_factory: AppFactory,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = await app_factory(metrics_token=TOKEN)

    async def unreachable(*_: object) -> None:
        raise ConnectionRefusedError

    monkeypatch.setattr("api.routers.metrics.outbox_backlog", unreachable)
    async with client_for(app) as client:
        scraped = await scrape(client)
    assert ("gatehouse_logins_total", frozenset({("result", "success")})) in scraped
    assert not any(name.startswith("gatehouse_outbox") for name, _ in scraped)


async def test_a_method_outside_the_usual_ones_is_counted_as_other(app_factory: AppFactory) -> None:
    app, _ = await app_factory(metrics_token=TOKEN)
    async with client_for(app) as client:
        await client.request("BREW", "/users/me")
        scraped = await scrape(client)
    assert value(scraped, "gatehouse_request_duration_seconds_count", method="other", route="/users/me") == 1
    assert not any(("method", "BREW") in labels for _, labels in scraped)


async def test_the_counts_follow_what_happened(app_factory: AppFactory) -> None:
    app, _ = await app_factory(metrics_token=TOKEN, login_max_failures=2)
    async with client_for(app) as client:
        before = await scrape(client)
        email = unique_email()
        await register(client, email)
        tokens = await login(client, email)
        for _ in range(2):
            assert_problem(await client.post("/auth/login", json={"email": email, "password": "wrong guess"}), 401)
        assert_problem(await client.post("/auth/login", json={"email": email, "password": PASSWORD}), 429)
        other = await account(client)
        rotated = assert_token_response(await refresh(client, other.tokens["refresh_token"]))
        assert_problem(await refresh(client, other.tokens["refresh_token"]), 401)  # reuse: the session ends
        assert_problem(await refresh(client, "not a token"), 401)
        assert (await client.get("/users/me", headers=bearer(tokens["access_token"]))).status_code == 200
        assert (await client.get("/users/me", headers=bearer("x.y.z"))).status_code == 401
        assert (await client.get("/users/me", headers=bearer(rotated["access_token"]))).status_code == 401
        after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("gatehouse_logins_total", result="success") == 2  # tokens, and other's account()
    assert grew("gatehouse_logins_total", result="invalid_credentials") == 2
    assert grew("gatehouse_logins_total", result="rate_limited") == 1
    assert grew("gatehouse_rate_limit_hits_total", limit="login") == 1
    assert grew("gatehouse_refreshes_total", result="rotated") == 1
    assert grew("gatehouse_refreshes_total", result="reuse_detected") == 1
    assert grew("gatehouse_refreshes_total", result="invalid") == 1
    assert grew("gatehouse_token_verifications_total", result="valid") == 1
    assert grew("gatehouse_token_verifications_total", result="invalid") == 1
    assert grew("gatehouse_token_verifications_total", result="session_ended") == 1
    # registration hashes twice (two accounts), each login verifies once (the refused 429 verifies nothing)
    assert grew("gatehouse_password_hash_seconds_count") == 2 + 4
    assert grew("gatehouse_request_duration_seconds_count", method="POST", route="/auth/login") == 5
    assert grew("gatehouse_request_duration_seconds_count", method="GET", route="/users/me") == 3
    # new-login notices and the reuse warning were delivered after their responses (the log notifier)
    assert grew("gatehouse_notifications_total", kind="new_login", outcome="delivered") == 2
    assert grew("gatehouse_notifications_total", kind="refresh_token_reuse", outcome="delivered") == 1
    assert value(after, "gatehouse_outbox_queued") == 0
    assert value(after, "gatehouse_outbox_oldest_queued_age_seconds") == 0
    labels = {label for (_, pairs) in after for pair in pairs for label in pair}
    assert email not in labels
    assert tokens["access_token"] not in labels


async def test_the_outbox_gauges_show_what_waits_and_for_how_long(app_factory: AppFactory) -> None:
    app, container = await app_factory(metrics_token=TOKEN)
    async with client_for(app) as client:
        alice = await account(client)
        async with container.engine().begin() as conn:  # as if its delivery had not happened yet
            await conn.execute(insert(notifications).values(
                id=uuid4(), user_id=UUID(alice.user["id"]), kind="message", message="hi", status="queued",
                created_at=datetime.now(UTC) - timedelta(minutes=5), attempts=0))
        scraped = await scrape(client)
    assert value(scraped, "gatehouse_outbox_queued") == 1
    assert 300 <= value(scraped, "gatehouse_outbox_oldest_queued_age_seconds") < 400
