"""Prometheus metrics with prometheus-client (the Metrics port), safe with several workers.

Off by default. When `GATEHOUSE_METRICS_TOKEN` is set, `gatehouse serve` gives its workers a fresh
PROMETHEUS_MULTIPROC_DIR: each worker writes its counts to its own files there, and a scrape on any
worker adds up every worker's (prometheus-client's multiprocess mode). Without that directory (one
process, the tests) the counts are the process's own. prometheus-client is imported only when metrics
are on.

Labels come from fixed sets only (domain/observations.py, and route templates): never a user id, an
address or a token.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from domain.notifications import NotificationKind
from domain.observations import DeliveryOutcome, LoginResult, RateLimit, RefreshResult, VerificationResult
from domain.ports import Metrics
from infrastructure.db import statements as sql
from infrastructure.db.unit_of_work import SqlUnitOfWorkFactory

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_HASH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class PrometheusMetrics(Metrics):
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self._registry = CollectorRegistry(auto_describe=True)  # its own: apps built side by side never collide
        reg = self._registry

        def by(counter: Any, values: Any) -> dict[Any, Any]:  # every child made now: a series from zero
            return {value: counter.labels(value.value) for value in values}

        self._logins = by(Counter("gatehouse_logins", "Password logins by result", ["result"], registry=reg),
                          LoginResult)
        self._refreshes = by(Counter("gatehouse_refreshes", "Refresh-token presentations by result", ["result"],
                                     registry=reg), RefreshResult)
        self._verifications = by(Counter("gatehouse_token_verifications", "Access-token checks by result",
                                         ["result"], registry=reg), VerificationResult)
        self._limits = by(Counter("gatehouse_rate_limit_hits", "Attempts refused by a rate limit", ["limit"],
                                  registry=reg), RateLimit)
        notifications = Counter("gatehouse_notifications", "Delivery attempts by kind and outcome",
                                ["kind", "outcome"], registry=reg)
        self._notifications = {(kind, outcome): notifications.labels(kind.value, outcome.value)
                               for kind in NotificationKind for outcome in DeliveryOutcome}
        self._hashes = Histogram("gatehouse_password_hash_seconds", "Time of one Argon2id hash or verify",
                                 registry=reg, buckets=_HASH_BUCKETS)
        self._latency = Histogram("gatehouse_request_duration_seconds", "Request latency by route template",
                                  ["method", "route"], registry=reg, buckets=_LATENCY_BUCKETS)
        self._latency_children: dict[tuple[str, str], Any] = {}

    def login(self, result: LoginResult) -> None:
        self._logins[result].inc()

    def refresh(self, result: RefreshResult) -> None:
        self._refreshes[result].inc()

    def token_verified(self, result: VerificationResult) -> None:
        self._verifications[result].inc()

    def notification(self, kind: NotificationKind, outcome: DeliveryOutcome) -> None:
        self._notifications[kind, outcome].inc()

    def rate_limited(self, limit: RateLimit) -> None:
        self._limits[limit].inc()

    def password_hashed(self, seconds: float) -> None:
        self._hashes.observe(seconds)

    def request_finished(self, method: str, route: str, seconds: float) -> None:
        """`route` is a route's template (or "unmatched"): a fixed set; so is `method`, once any method but the
        usual ones (a client may send any token there) is counted as "other"."""
        if method not in _METHODS:
            method = "other"
        child = self._latency_children.get((method, route))
        if child is None:
            child = self._latency_children[method, route] = self._latency.labels(method, route)
        child.observe(seconds)

    def exposition(self, backlog: tuple[int, datetime | None] | None, now: datetime) -> bytes:
        """The text format: every worker's counts (multiprocess mode) or this process's, and the outbox's
        backlog (how many queued, since when) as the database has it now (None: it did not answer)."""
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.core import GaugeMetricFamily
        from prometheus_client.multiprocess import MultiProcessCollector

        def outbox() -> Iterator[Any]:
            if backlog is None:
                return
            queued, oldest_queued_at = backlog
            yield GaugeMetricFamily("gatehouse_outbox_queued", "Notifications waiting to be delivered", queued)
            age = (now - oldest_queued_at).total_seconds() if oldest_queued_at else 0.0
            yield GaugeMetricFamily("gatehouse_outbox_oldest_queued_age_seconds",
                                    "Age of the oldest notification waiting (0: none)", max(age, 0.0))

        scrape = CollectorRegistry(auto_describe=False)
        if os.environ.get(MULTIPROC_ENV):
            MultiProcessCollector(scrape)  # type: ignore[no-untyped-call]
        else:
            scrape.register(_Collected(self._registry.collect))
        scrape.register(_Collected(outbox))
        return bytes(generate_latest(scrape))


class _Collected:
    def __init__(self, collect: Any) -> None:
        self.collect = collect


async def outbox_backlog(units: SqlUnitOfWorkFactory) -> tuple[int, datetime | None]:
    """How many notifications are queued, and when the oldest was recorded."""
    async with units.statements() as db:
        row = await db.one(sql.OUTBOX_BACKLOG, {})
    if row is None:
        return 0, None
    oldest: datetime | None = row["oldest"]
    return int(row["queued"]), oldest


_FRESH_PREFIX = "gatehouse-metrics-"


def fresh_multiprocess_dir() -> str:
    """A new directory for this server's workers, in the system's temporary directory, named after this
    process (which becomes uvicorn's, `gatehouse serve` execs it); directories of servers no longer running
    are removed first. One per server: two servers on one host never add up or delete each other's counts."""
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        pid = name[len(_FRESH_PREFIX):].split("-", 1)[0]
        if name.startswith(_FRESH_PREFIX) and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{_FRESH_PREFIX}{os.getpid()}-")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def prepare_multiprocess_dir(path: str) -> None:
    """Empty the directory the workers will write to (counts of an earlier run would be added up)."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.unlink(os.path.join(path, name))
