"""Web origins (RFC 6454) as browsers send them in the `Origin` header."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL (lower case, default ports dropped), as a browser's Origin header says it."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return ""
    try:
        port = parts.port
    except ValueError:
        return ""
    default = {"http": 80, "https": 443}[scheme]
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"
