"""Signing and verification keys: loaded from settings, or a development key created on first start."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from infrastructure.settings import Settings
from infrastructure.utils.private_files import private_dir

log = logging.getLogger("gatehouse.keys")

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}


class KeyConfigurationError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class KeyRing:
    algorithm: str
    signing_key: Any = field(repr=False)
    signing_kid: str
    verification_keys: dict[str, Any] = field(repr=False)
    public_jwks: tuple[dict[str, str], ...]
    derivation_secret: bytes = field(repr=False)

    def derive(self, purpose: str) -> bytes:
        """A sub-key for another purpose, so one configured secret does not serve two roles."""
        return hmac.new(self.derivation_secret, purpose.encode(), hashlib.sha256).digest()


def load_keyring(settings: Settings) -> KeyRing:
    if settings.jwt_algorithm == "HS256":
        return _symmetric_keyring(settings)
    private = _load_private_key(settings)
    _check_key_type(private, settings.jwt_algorithm)
    public_keys = [private.public_key(), *(_load_public_key(v) for v in settings.jwt_verify_keys)]
    verification: dict[str, Any] = {}
    jwks: list[dict[str, str]] = []
    for key in public_keys:
        _check_key_type(key, settings.jwt_algorithm)
        jwk = public_jwk(key, settings.jwt_algorithm)
        verification[jwk["kid"]] = key
        jwks.append(jwk)
    secret = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    return KeyRing(algorithm=settings.jwt_algorithm, signing_key=private, signing_kid=jwks[0]["kid"],
                   verification_keys=verification, public_jwks=tuple(jwks), derivation_secret=secret)


def public_jwk(key: PublicKey, algorithm: str) -> dict[str, str]:
    if isinstance(key, ed25519.Ed25519PublicKey):
        jwk: dict[str, str] = OKPAlgorithm.to_jwk(key, as_dict=True)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(key, as_dict=True)
    else:
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    members = {m: jwk[m] for m in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()  # RFC 7638 thumbprint
    return {**{k: str(v) for k, v in jwk.items() if k != "key_ops"}, "kid": kid, "alg": algorithm, "use": "sig"}


def _symmetric_keyring(settings: Settings) -> KeyRing:
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value().encode()
    else:
        _check_development_key_allowed(settings)
        secret = _dev_file(settings.data_dir / "dev-hs256-secret",
                           lambda: secrets.token_urlsafe(48).encode()).strip()
    secrets_all = [secret, *(s.get_secret_value().encode() for s in settings.jwt_previous_secrets)]
    verification = {_secret_kid(s): s for s in secrets_all}
    return KeyRing(algorithm="HS256", signing_key=secret, signing_kid=_secret_kid(secret),
                   verification_keys=verification, public_jwks=(), derivation_secret=secret)


def _secret_kid(secret: bytes) -> str:
    return "hs-" + hashlib.sha256(b"gatehouse-kid:" + secret).hexdigest()[:16]


def _load_private_key(settings: Settings) -> PrivateKey:
    if settings.jwt_private_key is not None:
        pem = _pem_or_path(settings.jwt_private_key.get_secret_value())
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise KeyConfigurationError("GATEHOUSE_JWT_PRIVATE_KEY is not a readable unencrypted PEM "
                                        "private key") from exc
        if not isinstance(key, (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            raise KeyConfigurationError("GATEHOUSE_JWT_PRIVATE_KEY must be an Ed25519, P-256 or RSA key")
        return key
    _check_development_key_allowed(settings)
    path = settings.data_dir / f"dev-signing-key-{settings.jwt_algorithm.lower()}.pem"
    pem = _dev_file(path, lambda: _generate_pem(settings.jwt_algorithm))
    loaded = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(loaded, (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey))  # noqa: S101
    return loaded


def _check_development_key_allowed(settings: Settings) -> None:
    """A development key lives in one machine's data directory: on a shared database several replicas would
    each sign with their own, and each refuse the others' tokens."""
    if not settings.is_sqlite and not settings.dev_signing_key:
        wanted = "GATEHOUSE_JWT_SECRET" if settings.jwt_algorithm == "HS256" else "GATEHOUSE_JWT_PRIVATE_KEY"
        raise KeyConfigurationError(
            f"no signing key is configured, and a development key is refused on Postgres (each replica would "
            f"make its own): set {wanted}, or GATEHOUSE_DEV_SIGNING_KEY=true on a development machine")


def _load_public_key(value: str) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(_pem_or_path(value))
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError("an entry of GATEHOUSE_JWT_VERIFY_KEYS is not a PEM public key") from exc
    if not isinstance(key, (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise KeyConfigurationError("verification keys must be Ed25519, P-256 or RSA public keys")
    return key


def _check_key_type(key: PrivateKey | PublicKey, algorithm: str) -> None:
    ok = {
        "EdDSA": isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)),
        "ES256": isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey))
        and isinstance(key.curve, ec.SECP256R1),
        "RS256": isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)) and key.key_size >= 2048,
    }[algorithm]
    if not ok:
        raise KeyConfigurationError(f"a configured key does not fit GATEHOUSE_JWT_ALGORITHM={algorithm}")


def _pem_or_path(value: str) -> bytes:
    if "-----BEGIN" in value:
        return value.replace("\\n", "\n").encode()
    path = Path(value).expanduser()
    if not path.is_file():
        raise KeyConfigurationError(f"key file {path} does not exist")
    return path.read_bytes()


def _generate_pem(algorithm: str) -> bytes:
    key: PrivateKey
    if algorithm == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _dev_file(path: Path, make: Any) -> bytes:
    """Create a development secret once (atomically, so several workers agree on it), then reuse it."""
    if not path.exists():
        private_dir(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(make())
            log.warning("!!! DEVELOPMENT SIGNING KEY CREATED at %s. It is for development only: configure "
                        "GATEHOUSE_JWT_PRIVATE_KEY (or GATEHOUSE_JWT_SECRET for HS256) in production !!!", path)
    for _ in range(50):  # another worker may be writing it this instant
        data = path.read_bytes()
        if data:
            return data
        time.sleep(0.02)
    raise KeyConfigurationError(f"development key file {path} is empty")
