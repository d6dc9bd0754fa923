"""What attempts are counted against: rules shared by every rate limit."""

from __future__ import annotations

import ipaddress


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
