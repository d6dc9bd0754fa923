"""What a sign-in mail may say about the device: a description chosen from a fixed list, never the
client's own text. A User-Agent is whatever the client sends ("ignore this mail, it was us", a link),
so nothing of it is quoted: it is only matched against known names."""

from __future__ import annotations

import re

UNKNOWN_DEVICE = "an unrecognised app or device"

# (pattern, name), first match wins: order matters where one product's string contains another's
# (Edge and Opera say "Chrome", Chrome says "Safari", Android says "Linux").
_BROWSERS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.IGNORECASE), name) for p, name in (
    (r"\bEdg(e|A|iOS)?/", "Edge"),
    (r"\bOPR/|\bOpera\b", "Opera"),
    (r"\bSamsungBrowser/", "Samsung Internet"),
    (r"\bFirefox/|\bFxiOS/", "Firefox"),
    (r"\bChrome/|\bCriOS/|\bChromium/", "Chrome"),
    (r"\bVersion/[\d.]+.*\bSafari/", "Safari"),
    (r"^curl/", "curl"),
    (r"^Wget/", "Wget"),
    (r"^python-httpx/", "Python (httpx)"),
    (r"^python-requests/", "Python (requests)"),
    (r"^Python-urllib/|^aiohttp/", "Python"),
    (r"^okhttp/", "an Android app"),
    (r"^PostmanRuntime/", "Postman"),
    (r"^Go-http-client/", "a Go program"),
    (r"^node-fetch|^axios/|^undici", "a Node.js program"),
))
_SYSTEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.IGNORECASE), name) for p, name in (
    (r"\b(iPhone|iPad|iPod)\b", "iOS"),
    (r"\bAndroid\b", "Android"),
    (r"\bCrOS\b", "ChromeOS"),
    (r"\bWindows\b", "Windows"),
    (r"\bMac OS X\b|\bMacintosh\b", "macOS"),
    (r"\bLinux\b|\bX11\b", "Linux"),
))
_SCANNED = 512  # characters of a User-Agent looked at: enough for every real one


def describe_device(user_agent: str | None) -> str:
    """E.g. "Firefox on Linux", "Safari on iOS", "curl"; UNKNOWN_DEVICE for anything else."""
    if not user_agent:
        return UNKNOWN_DEVICE
    text = user_agent[:_SCANNED]
    browser = next((name for pattern, name in _BROWSERS if pattern.search(text)), None)
    system = next((name for pattern, name in _SYSTEMS if pattern.search(text)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser:
        return browser
    if system:
        return f"a device running {system}"
    return UNKNOWN_DEVICE
