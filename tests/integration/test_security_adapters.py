"""The real PyJWT signer, key handling and Argon2id hasher (no database)."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from domain.errors import InvalidToken
from domain.tokens import AccessTokenClaims
from infrastructure.security import argon2_hasher
from infrastructure.security.argon2_hasher import Argon2PasswordHasher
from infrastructure.security.common_passwords import ZxcvbnCommonPasswords, load_password_list
from infrastructure.security.jwt_signer import PyJwtAccessTokenSigner
from infrastructure.security.keys import KeyConfigurationError, KeyRing, load_keyring
from infrastructure.settings import Settings
from infrastructure.utils.glibc_heap import glibc_heap
from tests.conftest import make_settings

ISSUER, AUDIENCE = "http://issuer.test", "gatehouse"


def _claims(ttl: int = 300, **overrides: object) -> AccessTokenClaims:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "issuer": ISSUER, "audience": AUDIENCE, "subject": uuid.uuid4(), "session_id": uuid.uuid4(),
        "token_id": uuid.uuid4().hex, "issued_at": now, "expires_at": now + timedelta(seconds=ttl)}
    values.update(overrides)
    return AccessTokenClaims(**values)  # type: ignore[arg-type]


def _signer(keyring: KeyRing) -> PyJwtAccessTokenSigner:
    return PyJwtAccessTokenSigner(keyring, issuer=ISSUER, audience=AUDIENCE, leeway_seconds=5)


def _pem(key: ed25519.Ed25519PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256", "RS256", "HS256"])
def test_each_algorithm_signs_tokens_it_then_verifies(tmp_path: Path, algorithm: str) -> None:
    keyring = load_keyring(make_settings(tmp_path, jwt_algorithm=algorithm))
    signer = _signer(keyring)
    claims = _claims()
    token = signer.issue(claims)
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == algorithm
    assert header["kid"] == keyring.signing_kid
    verified = signer.verify(token)
    assert (verified.subject, verified.session_id) == (claims.subject, claims.session_id)
    assert (keyring.public_jwks == ()) == (algorithm == "HS256")


def test_the_development_key_is_created_once_and_reused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first, second = load_keyring(settings), load_keyring(settings)
    assert first.signing_kid == second.signing_kid
    key_file = settings.data_dir / "dev-signing-key-eddsa.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_a_token_of_the_previous_key_still_verifies_after_rotation(tmp_path: Path) -> None:
    old, new = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    old_public = old.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    before = load_keyring(make_settings(tmp_path, jwt_private_key=_pem(old)))
    token = _signer(before).issue(_claims())
    after = load_keyring(make_settings(tmp_path, jwt_private_key=_pem(new), jwt_verify_keys=[old_public]))
    assert len(after.public_jwks) == 2
    assert _signer(after).verify(token).token_id
    without_old = load_keyring(make_settings(tmp_path, jwt_private_key=_pem(new)))
    with pytest.raises(InvalidToken):
        _signer(without_old).verify(token)


def test_a_key_of_the_wrong_type_for_the_algorithm_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError):
        load_keyring(make_settings(tmp_path, jwt_algorithm="ES256",
                                   jwt_private_key=_pem(ed25519.Ed25519PrivateKey.generate())))


def test_forged_and_malformed_tokens_are_refused(tmp_path: Path) -> None:
    keyring = load_keyring(make_settings(tmp_path))
    signer = _signer(keyring)
    good = signer.issue(_claims())
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    public_pem = keyring.signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    foreign = load_keyring(make_settings(tmp_path / "other"))
    forged = [
        f"{_b64({'alg': 'none', 'typ': 'at+jwt', 'kid': keyring.signing_kid})}.{payload}.",
        f"{_b64({'alg': 'none', 'typ': 'at+jwt', 'kid': keyring.signing_kid})}.{payload}",
        f"{header}.{payload}.",
        f"{header}.{_b64({**claims, 'sub': str(uuid.uuid4())})}.{signature}",
        _signer(foreign).issue(_claims()),
        # algorithm confusion: HS256 keyed with the published public key
        _hs256(claims, public_pem, keyring.signing_kid),
        _with_header(keyring, claims, {"kid": "../../etc/passwd"}),
        _with_header(keyring, claims, {"kid": "' OR 1=1 --"}),
        _with_header(keyring, claims, {"typ": "JWT"}),
        signer.issue(_claims(issuer="http://evil.test")),
        signer.issue(_claims(issuer="http://issuer")),  # a part of the issuer (PyJWT < 2.10.1 took it)
        signer.issue(_claims(issuer="issuer.test")),
        signer.issue(_claims(audience="someone-else")),
        signer.issue(_claims(ttl=-60)),
        signer.issue(_claims(issued_at=datetime.now(UTC) + timedelta(minutes=10), ttl=900)),
        "x" * 100_000,
        "not-a-jwt",
    ]
    for token in forged:
        with pytest.raises(InvalidToken):
            signer.verify(token)


def _hs256(claims: dict[str, object], secret: bytes, kid: str) -> str:
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'at+jwt', 'kid': kid})}.{_b64(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _with_header(keyring: KeyRing, claims: dict[str, object], header: dict[str, str]) -> str:
    return jwt.encode(claims, keyring.signing_key, algorithm="EdDSA",
                      headers={"kid": keyring.signing_kid, "typ": "at+jwt", **header})


def test_missing_required_claims_are_refused(tmp_path: Path) -> None:
    keyring = load_keyring(make_settings(tmp_path))
    now = int(time.time())
    full = {"iss": ISSUER, "aud": AUDIENCE, "sub": str(uuid.uuid4()), "sid": str(uuid.uuid4()),
            "jti": "j", "iat": now, "exp": now + 300}
    for claim in ("iss", "aud", "sub", "sid", "exp", "iat", "jti"):
        token = jwt.encode({k: v for k, v in full.items() if k != claim}, keyring.signing_key, algorithm="EdDSA",
                           headers={"kid": keyring.signing_kid, "typ": "at+jwt"})
        with pytest.raises(InvalidToken):
            _signer(keyring).verify(token)


async def test_argon2id_hashes_verify_and_upgrade_when_parameters_change() -> None:
    weak = Argon2PasswordHasher(time_cost=1, memory_kib=8192, parallelism=1, concurrency=2)
    strong = Argon2PasswordHasher(time_cost=2, memory_kib=19_456, parallelism=1, concurrency=2)
    stored = await weak.hash("correct horse battery staple")
    assert stored.value.startswith("$argon2id$")
    assert await strong.verify(stored, "correct horse battery staple")
    assert not await strong.verify(stored, "wrong")
    assert strong.needs_rehash(stored)
    assert not weak.needs_rehash(stored)


async def test_hashing_runs_off_the_event_loop() -> None:
    hasher = Argon2PasswordHasher(time_cost=2, memory_kib=19_456, parallelism=1, concurrency=2)
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.gather(*(hasher.hash(f"password-{n}") for n in range(4)))
    done.set()
    await task
    # had a hash blocked the loop, the ticker could not have run between the hashes' start and end
    assert ticks > 50


# --- common passwords ----------------------------------------------------------------------------------

def test_the_common_password_list_is_zxcvbns_without_importing_its_other_lists() -> None:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    assert load_password_list() == list(FREQUENCY_LISTS["passwords"])
    assert len(load_password_list()) >= 30_000


def test_common_passwords_are_refused_whatever_their_case() -> None:
    common = ZxcvbnCommonPasswords()
    assert common.is_common("password1")
    assert common.is_common("PassWord1")
    assert common.is_common("letmein")
    assert not common.is_common("correct horse battery staple 42")
    assert not common.is_common("password,dragon")  # two listed passwords are not one
    assert not common.is_common("asswor")  # nor is a part of one
    assert not common.is_common("")


def _rss_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


@pytest.mark.skipif(glibc_heap is None, reason="handing heap memory back is glibc-specific")
async def test_hashing_buffers_are_handed_back_once_hashing_goes_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(argon2_hasher, "IDLE_SECONDS_BEFORE_RELEASE", 0.1)
    hasher = Argon2PasswordHasher(time_cost=1, memory_kib=19_456, parallelism=1, concurrency=2)
    stored = await hasher.hash("a long enough passphrase")
    for _ in range(3):
        await asyncio.gather(*(hasher.verify(stored, "a long enough passphrase") for _ in range(4)))
    busy = _rss_mib()
    await asyncio.sleep(1.0)
    idle = _rss_mib()
    assert busy - idle > 19  # both threads' 19 MiB buffers (at least one and a half of them) went back
    assert await hasher.verify(stored, "a long enough passphrase")  # and hashing works on afterwards
    assert await hasher.verify(stored, "a long enough passphrase")


async def test_a_hash_under_cheaper_old_parameters_is_padded_to_what_a_verify_costs_today() -> None:
    """A dormant account hashed before the cost was raised must not answer a wrong password faster than
    an unknown address (whose dummy verify runs at today's cost): the difference is waited out."""
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    old = await Argon2PasswordHasher(time_cost=1, memory_kib=8192, parallelism=1, concurrency=1).hash("pw-old")
    today = Argon2PasswordHasher(time_cost=3, memory_kib=65_536, parallelism=1, concurrency=1, sleep=record)
    for _ in range(3):
        await today.verify_dummy("wrong")
    cost = today._current_cost
    assert cost is not None

    assert not await today.verify(old, "wrong")
    assert await today.verify(old, "pw-old")  # a correct one too: it is rehashed next, costing more anyway

    assert len(slept) == 2
    assert all(0 < pause < cost for pause in slept)
    current = await today.hash("pw-today")
    assert await today.verify(current, "pw-today")
    assert len(slept) == 2  # a hash at today's parameters is never padded


def test_a_development_key_is_refused_on_postgres_unless_allowed(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:9/nowhere"  # never connected to: keys load first
    for algorithm in ("EdDSA", "HS256"):
        settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=url, jwt_algorithm=algorithm)
        with pytest.raises(KeyConfigurationError, match="GATEHOUSE_DEV_SIGNING_KEY=true"):
            load_keyring(settings)
        assert not (tmp_path / "data").exists()  # nothing made
        allowed = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=url, jwt_algorithm=algorithm,
                           dev_signing_key=True)
        assert load_keyring(allowed).algorithm == algorithm
        shutil.rmtree(tmp_path / "data")
