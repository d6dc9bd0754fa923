"""Client addresses: which ones are taken as given, and what attempts are counted against."""

from __future__ import annotations

import ipaddress

from domain.session import MAX_IP_LENGTH


def client_address(raw: str | None) -> str | None:
    """The client's IP address in its canonical spelling, or None when what came (from the socket, or
    from a trusted proxy's X-Forwarded-For) is not an IP address: it is stored, mailed and counted, so
    nothing else is taken."""
    if not raw or len(raw) > MAX_IP_LENGTH:
        return None
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    return str(address)


def rate_limit_address(ip: str | None) -> str:
    """The part of a client's address that attempts are counted against: an IPv6 client by its /64 (one
    subscriber's network: every address in it is theirs to use), an IPv4 client by its address."""
    if not ip:
        return "-"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
