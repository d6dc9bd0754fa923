"""Strict mode: ask Gatehouse (RFC 7662) whether a token is still active, remembering each answer briefly.

An answer is remembered for at most `cache_seconds` (default and maximum 1 s), timed from before the
request was sent, so a session revoked at Gatehouse is refused here within Gatehouse's own bound plus that.
Concurrent checks of one token share one request, and a token in use has its answer renewed shortly before
it ends, so its requests do not wait for Gatehouse once a second."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from gatehouse_verify.errors import ClientRejected, Unavailable

log = logging.getLogger("gatehouse_verify")

MAX_CACHE_SECONDS = 1.0
_CACHE_LIMIT = 10_000
Answer = Mapping[str, Any] | None  # an active answer, or None for an inactive token


class Introspector:
    def __init__(self, http: httpx.AsyncClient, endpoint: Callable[[], Awaitable[str]], credentials: tuple[str, str],
                 *, cache_seconds: float = MAX_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 <= cache_seconds <= MAX_CACHE_SECONDS:
            raise ValueError(f"introspection answers are cached for at most {MAX_CACHE_SECONDS:g} s")
        client_id, secret = credentials
        if not client_id or not secret:
            raise ValueError("introspect= needs a client_id and a client_secret (`gatehouse clients create`)")
        self._http = http
        self._endpoint = endpoint
        self._auth = httpx.BasicAuth(client_id, secret)
        self._cache_seconds = cache_seconds
        # An answer in its last tenth is renewed in the background while it still serves: requests for a busy
        # token never wait for Gatehouse, and no answer older than cache_seconds is ever used.
        self._renew_ahead = cache_seconds / 10
        self._clock = clock
        self._answers: dict[str, tuple[float, Answer]] = {}
        self._inflight: dict[str, asyncio.Task[Answer]] = {}

    async def check(self, token: str) -> Answer:
        """Gatehouse's answer for `token`: its members when active, None when not. Raises Unavailable when
        Gatehouse cannot be asked or refuses this client."""
        remembered = self._answers.get(token)
        if remembered is not None:
            until, answer = remembered
            now = self._clock()
            if now < until:
                if answer is not None and now >= until - self._renew_ahead and token not in self._inflight:
                    self._ask_once(token)  # renew a busy token's answer before it ends, in the background
                return answer
            del self._answers[token]
        return await asyncio.shield(self._ask_once(token))  # a cancelled request does not cancel the others'

    def _ask_once(self, token: str) -> asyncio.Task[Answer]:
        task = self._inflight.get(token)
        if task is None:
            task = self._inflight[token] = asyncio.create_task(self._ask(token))
            task.add_done_callback(lambda done: self._asked(token, done))
        return task

    def _asked(self, token: str, task: asyncio.Task[Answer]) -> None:
        self._inflight.pop(token, None)
        if not task.cancelled():
            task.exception()  # retrieved: a renewal nobody waited for may fail quietly (the next ask says why)

    async def _ask(self, token: str) -> Answer:
        asked_at = self._clock()
        try:
            endpoint = await self._endpoint()
            response = await self._http.post(endpoint, data={"token": token, "token_type_hint": "access_token"},
                                             auth=self._auth, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise Unavailable(f"Gatehouse could not be reached to check the token ({type(error).__name__})") from None
        if response.status_code == 401:
            log.error("gatehouse_verify: Gatehouse refused this service's client credentials at %s; "
                      "check the client_id and client_secret given to introspect=", endpoint)
            raise ClientRejected("Gatehouse refused this service's client credentials")
        if response.status_code != 200:
            raise Unavailable(f"Gatehouse answered the token check with HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise Unavailable("Gatehouse's answer to the token check was not JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
            raise Unavailable("Gatehouse's answer to the token check was not an RFC 7662 answer")
        answer: Answer = body if body["active"] else None
        if self._cache_seconds > 0:
            if len(self._answers) >= _CACHE_LIMIT:
                self._answers.clear()
            self._answers[token] = (asked_at + self._cache_seconds, answer)
        return answer
