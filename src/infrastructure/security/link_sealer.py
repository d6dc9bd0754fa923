"""Secret mail links sealed while they wait in the outbox: AES-256-GCM under a key derived from the server's
signing secrets (KeyRing.derive), so the database alone never yields a usable reset or verification link."""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.ports import LinkSealer

_NONCE_BYTES = 12
_AAD = b"gatehouse mail link v1"


class AesGcmLinkSealer(LinkSealer):
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the link-sealing key is 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, link: str) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, link.encode("utf-8"), _AAD)
        return base64.urlsafe_b64encode(sealed).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD).decode("utf-8")
        except (InvalidTag, ValueError, UnicodeError) as exc:
            raise ValueError("this link was not sealed by this server's key (were the keys changed?)") from exc
