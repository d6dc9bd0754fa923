"""GET /metrics of `gatehouse serve --workers 2` after real traffic: whichever worker a scrape reaches, it
adds up both workers' counts (prometheus-client's multiprocess mode), and the numbers add up to the
requests that were made. On SQLite and on Postgres."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.api.helpers import PASSWORD, unique_email
from tests.api.test_metrics import TOKEN, samples, value
from tests.live_server import live_server

LOGINS, WRONG, READS = 12, 3, 10


def test_a_scrape_of_either_worker_adds_up_both_workers_counts(server_env: dict[str, str], tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left by an earlier run")  # wiped at start
    env = {**server_env, "GATEHOUSE_METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with live_server(tmp_path, workers=2, environment=env) as server, \
            httpx.Client(base_url=server.base_url, timeout=30, headers={"Connection": "close"}) as http:
        emails = [unique_email("scraped") for _ in range(3)]
        for email in emails:
            assert http.post("/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
        # At least LOGINS, and on until both workers have served some (which worker accepts a new connection
        # is the kernel's choice: a run of a dozen can all reach the one that started first).
        tokens: list[dict[str, str]] = []
        while len(tokens) < LOGINS or sum(_logins_in(p) > 0 for p in metrics_dir.glob("counter_*.db")) < 2:
            assert len(tokens) < 300, "every login reached the same worker"
            tokens.append(http.post("/auth/login", json={"email": emails[len(tokens) % 3], "password": PASSWORD}
                                    ).json())
        logins = len(tokens)
        for _ in range(WRONG):
            assert http.post("/auth/login", json={"email": emails[0], "password": "wrong guess"}).status_code == 401
        for i in range(READS):
            assert http.get("/users/me", headers={"Authorization": f"Bearer {tokens[i]['access_token']}"}
                            ).status_code == 200
        refreshed = http.post("/auth/refresh", json={"refresh_token": tokens[0]["refresh_token"]})
        assert refreshed.status_code == 200

        scrapes = []
        for _ in range(6):  # a new connection each: both workers answer some
            answer = http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert answer.status_code == 200, answer.text
            scrapes.append(samples(answer.text))
        logins_by_worker = {path.name: _logins_in(path) for path in metrics_dir.glob("counter_*.db")}

    assert "counter_999999.db" not in logins_by_worker  # the earlier run's file was removed at start
    assert len(logins_by_worker) == 2
    assert all(logins > 0 for logins in logins_by_worker.values()), logins_by_worker  # both served logins
    assert sum(logins_by_worker.values()) == logins
    for scraped in scrapes:
        assert value(scraped, "gatehouse_logins_total", result="success") == logins
        assert value(scraped, "gatehouse_logins_total", result="invalid_credentials") == WRONG
        assert value(scraped, "gatehouse_token_verifications_total", result="valid") == READS
        assert value(scraped, "gatehouse_refreshes_total", result="rotated") == 1
        assert value(scraped, "gatehouse_request_duration_seconds_count", method="POST",
                     route="/auth/login") == logins + WRONG
        assert value(scraped, "gatehouse_request_duration_seconds_count", method="POST",
                     route="/auth/register") == 3
        assert value(scraped, "gatehouse_password_hash_seconds_count") == 3 + logins + WRONG
        assert value(scraped, "gatehouse_outbox_queued") >= 0


def _logins_in(path: Path) -> float:
    """The successful logins one worker's own file holds."""
    from prometheus_client.multiprocess import MultiProcessCollector

    return sum(sample.value for metric in MultiProcessCollector.merge([str(path)])  # type: ignore[no-untyped-call]
               for sample in metric.samples
               if sample.name == "gatehouse_logins_total" and sample.labels.get("result") == "success")
