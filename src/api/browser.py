"""Cookie transport for browser apps: the three cookies, and the Origin and CSRF checks they need.

The access cookie is read by the one bearer dependency (api/deps.py) when a request has no `Authorization`
header; the browser endpoints (api/routers/browser.py) set, rotate and clear the cookies. A request that acts on
cookies with an unsafe method needs an allowed `Origin` and an `X-CSRF-Token` equal to the CSRF cookie (checked
first, before anything is read), which must also be the token of the session it acts on (checked once the
session is known, before anything changes). See "Browsers: cookies with CSRF protection" in docs/API.md.

Why it is built this way: docs/adr/0006-browser-cookies-and-csrf.md.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from starlette.requests import cookie_parser
from starlette.responses import Response

from domain.errors import CsrfFailed
from infrastructure.settings import Settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BROWSER_PATH = "/auth/browser"  # the refresh cookie travels only here
CSRF_HEADER = "X-CSRF-Token"
_CSRF_HEADER = CSRF_HEADER.lower().encode()
Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class CookieNames:
    access: str
    refresh: str
    csrf: str


SECURE_NAMES = CookieNames("__Host-gatehouse_access", "__Secure-gatehouse_refresh", "__Host-gatehouse_csrf")
PLAIN_NAMES = CookieNames("gatehouse_access", "gatehouse_refresh", "gatehouse_csrf")  # GATEHOUSE_COOKIE_SECURE=false


@dataclass(frozen=True, slots=True)
class BrowserCookies:
    access: str | None
    refresh: str | None
    csrf: str | None


class BrowserTransport:
    def __init__(self, settings: Settings) -> None:
        self.secure = settings.cookie_secure
        self.names = SECURE_NAMES if self.secure else PLAIN_NAMES
        self.origins = frozenset({*settings.allowed_origins, settings.own_origin})

    def cookies(self, headers: Headers) -> BrowserCookies:
        jar: dict[str, str] = {}
        for name, value in headers:
            if name == b"cookie":
                jar.update(cookie_parser(value.decode("latin-1")))
        return BrowserCookies(jar.get(self.names.access) or None, jar.get(self.names.refresh) or None,
                              jar.get(self.names.csrf) or None)

    def check_origin(self, headers: Headers) -> None:
        """The request comes from an allowed origin or Gatehouse's own; a missing Origin is refused."""
        origin = _header(headers, b"origin")
        if origin is None:
            raise CsrfFailed("This request needs an Origin header: browsers send one; a page of an allowed "
                             "origin (GATEHOUSE_ALLOWED_ORIGINS) may make it")
        if origin.rstrip("/").lower() not in self.origins:
            raise CsrfFailed(f"Requests from {origin[:100]} may not use the browser session: it is not in "
                             "GATEHOUSE_ALLOWED_ORIGINS")

    def check_csrf(self, headers: Headers, cookies: BrowserCookies) -> str:
        """An allowed Origin and an X-CSRF-Token equal to the CSRF cookie: the token, for the session check."""
        self.check_origin(headers)
        presented = _header(headers, _CSRF_HEADER)
        if not presented or cookies.csrf is None or not hmac.compare_digest(presented.encode(), cookies.csrf.encode()):
            raise CsrfFailed(f"This request needs the {CSRF_HEADER} header with the csrf_token of the session "
                             "(answered by /auth/browser/login, /auth/browser/refresh and /auth/browser/session)")
        return presented

    def set_session(self, response: Response, access_token: str, access_seconds: int, refresh_token: str,
                    session_seconds: int, csrf_token: str) -> None:
        self._set(response, self.names.access, access_token, "/", "Lax", access_seconds, http_only=True)
        self._set(response, self.names.refresh, refresh_token, BROWSER_PATH, "Strict", session_seconds,
                  http_only=True)
        self._set(response, self.names.csrf, csrf_token, "/", "Strict", session_seconds, http_only=False)

    def clear(self, response: Response) -> None:
        """The three cookies removed: the same name, Path and Secure, Max-Age=0."""
        self._set(response, self.names.access, "", "/", "Lax", 0, http_only=True)
        self._set(response, self.names.refresh, "", BROWSER_PATH, "Strict", 0, http_only=True)
        self._set(response, self.names.csrf, "", "/", "Strict", 0, http_only=False)

    def _set(self, response: Response, name: str, value: str, path: str, same_site: str, max_age: int, *,
             http_only: bool) -> None:
        attributes = [f"{name}={value}"]
        if http_only:
            attributes.append("HttpOnly")
        if self.secure:
            attributes.append("Secure")
        attributes += [f"SameSite={same_site}", f"Path={path}", f"Max-Age={max(0, max_age)}"]
        response.headers.append("set-cookie", "; ".join(attributes))


def _header(headers: Headers, wanted: bytes) -> str | None:
    for name, value in headers:
        if name == wanted:
            return value.decode("latin-1")
    return None
