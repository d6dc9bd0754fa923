"""Configuration from the environment (prefix GATEHOUSE_) and an optional .env file, validated at start."""

from __future__ import annotations

import dataclasses
import os
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from domain.account_tokens import RecoveryPolicy
from domain.notifications import DeliveryPolicy
from domain.retention import MIN_TOKEN_HISTORY, Purgeable, RetentionPolicy
from domain.session import SessionPolicy
from infrastructure.utils.origins import origin_of

Algorithm = Literal["EdDSA", "ES256", "RS256", "HS256"]
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEHOUSE_", env_file=".env", extra="ignore")

    # storage
    data_dir: Path = Field(default=Path("data"), description="Where the embedded default keeps its files")
    database_url: str = Field(default="", description="sqlite+aiosqlite:///… or postgresql+asyncpg://…")
    auto_migrate: bool | None = Field(default=None, description="Apply migrations on start (SQLite default)")
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    db_pool_timeout: float = Field(default=5.0, gt=0)
    db_connect_timeout: float = Field(default=5.0, gt=0)
    db_command_timeout: float = Field(default=10.0, gt=0)
    db_pool_pre_ping: bool = True
    db_echo: bool = False

    # tokens
    issuer: str = "http://localhost:8000"
    audience: str = "gatehouse"
    jwt_algorithm: Algorithm = "EdDSA"
    jwt_private_key: SecretStr | None = Field(default=None, description="PEM text or path of the signing key")
    jwt_verify_keys: list[str] = Field(default_factory=list,
                                       description="Extra PEM public keys (or paths) still accepted")
    jwt_secret: SecretStr | None = Field(default=None, description="HS256 signing secret (≥ 32 bytes)")
    jwt_previous_secrets: list[SecretStr] = Field(default_factory=list)
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    dev_signing_key: bool = Field(
        default=False, description="Allow a development signing key (made in the data directory) on Postgres or "
                                   "a non-loopback bind; SQLite on loopback allows one anyway")
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=86_400)
    session_absolute_lifetime_seconds: int = Field(default=30 * 86_400, ge=60)
    session_idle_timeout_seconds: int = Field(default=7 * 86_400, ge=60)
    refresh_grace_seconds: int = Field(default=0, ge=0, le=300)
    max_sessions_per_user: int = Field(default=100, ge=1, le=100_000,
                                       description="live sessions per user; a login beyond ends the oldest")
    refresh_token_secret: SecretStr | None = Field(default=None,
                                                   description="Key deriving grace-window successors")
    session_cache_seconds: float = Field(default=1.0, ge=0, le=1.0,
                                         description="How long a live-session check is reused")
    profile_cache_seconds: float = Field(
        default=5.0, ge=0, le=60,
        description="Postgres: longest a worker reuses an account row it read (dropped at once on any change; 0: off)")

    # passwords
    argon2_time_cost: int = Field(default=2, ge=1, le=20)
    argon2_memory_kib: int = Field(default=19_456, ge=8_192, le=1_048_576)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)
    hash_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64)

    # rate limiting
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    password_check_max_failures: int = Field(
        default=5, ge=1, description="Wrong current passwords per user in the window (separate from login's)")
    password_check_window_seconds: int = Field(default=900, ge=1)
    messages_per_hour: int = Field(default=10, ge=1, description="POST /notifications per user per hour")
    redis_url: str | None = None

    # recovery and verification
    public_url: str | None = Field(default=None, description="Base of the links in mail (default: the issuer)")
    password_reset_url: str | None = Field(default=None, description="Reset links point here (`#token=` appended)")
    email_verification_url: str | None = Field(default=None,
                                               description="Verification links point here (`#token=` appended)")
    password_reset_ttl_seconds: int = Field(default=1800, ge=60, le=86_400)
    email_verification_ttl_seconds: int = Field(default=86_400, ge=300, le=30 * 86_400)
    password_reset_mails_per_hour: int = Field(
        default=3, ge=1, description="Reset mails per address per hour; verification mails have the same cap")
    password_reset_max_per_ip: int = Field(default=30, ge=1, description="Reset requests per client address per 15 min")
    require_verified_email: bool = Field(default=False, description="Refuse logins of unverified accounts")
    product_name: str = Field(default="Gatehouse", min_length=1, max_length=100,
                              description="Names the service in mail subjects")

    # notifications
    notifier: Literal["log", "smtp"] = "log"
    notification_log_file: Path | None = None
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_sender: str = "Gatehouse <no-reply@localhost>"
    notify_max_attempts: int = Field(default=3, ge=1, le=20)
    notify_backoff_seconds: float = Field(default=1.0, ge=0)
    notify_sweep_interval_seconds: float = Field(default=15.0, gt=0)
    notify_stale_after_seconds: float = Field(default=30.0, ge=0)
    notify_lease_seconds: float = Field(default=30.0, gt=0,
                                        description="A claimer that died is replaced after this long")

    # browsers: cookies with CSRF protection
    allowed_origins: list[str] = Field(
        default_factory=list, description="Origins of browser apps (JSON list): CORS with credentials, cookie "
                                          "logins and cookie-authenticated writes from them")
    cookie_secure: bool = Field(default=True, description="false: cookies without Secure and the __Host-/__Secure- "
                                                          "prefixes, for plain-http development hosts")
    browser_refresh_grace_seconds: int = Field(
        default=10, ge=0, le=300, description="Within it, tabs refreshing with one refresh cookie get one successor")

    # retention: a job in the service (one worker at a time) deletes what no rule needs any more
    retention_interval_seconds: float = Field(
        default=3600.0, ge=0,
        description="How often the retention job runs (0: never in the service; run `gatehouse purge`)")
    retention_batch_size: int = Field(default=1000, ge=1, le=100_000, description="Rows per delete")
    session_retention_seconds: int = Field(default=30 * 86_400, ge=60,
                                           description="Ended sessions are kept this long after they end")
    notification_retention_seconds: int = Field(
        default=30 * 86_400, ge=60, description="Delivered, failed and withheld notifications are kept this long")
    account_token_retention_seconds: int = Field(
        default=86_400, ge=60, description="Reset and verification tokens are kept this long after they expire")
    security_event_retention_seconds: int = Field(default=365 * 86_400, ge=86_400,
                                                  description="Security events are kept this long")

    # metrics
    metrics_token: SecretStr | None = Field(
        default=None, description="Serve GET /metrics (Prometheus) to requests with this bearer secret (≥ 32 "
                                  "characters); unset: no metrics at all")

    opentelemetry: bool = Field(
        default=False, description="FastAPI's own OpenTelemetry spans and metrics of each request (not its exception "
                                   "logs), for an OpenTelemetry SDK configured in the process (e.g. "
                                   "opentelemetry-instrument); off, FastAPI does not look for one on each request "
                                   "(~6 µs)")

    # http
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL; expected sqlite+aiosqlite:///PATH or "
                             "postgresql+asyncpg://USER@HOST/DB") from None
        backend = url.get_backend_name()
        if backend not in _DRIVERS:
            raise ValueError(f"unsupported database {backend!r}; use SQLite or PostgreSQL")
        return url.set(drivername=_DRIVERS[backend]).render_as_string(hide_password=False)

    @field_validator("issuer")
    @classmethod
    def _check_issuer(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or "?" in value or "#" in value:
            raise ValueError("the issuer is an http(s) URL without query or fragment")
        return value.rstrip("/")

    @field_validator("public_url", "password_reset_url", "email_verification_url")
    @classmethod
    def _check_link_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")) or "#" in value:
            raise ValueError("an http(s) URL without a fragment (`#token=…` is appended to it)")
        return value.rstrip("/")

    @field_validator("retention_interval_seconds")
    @classmethod
    def _check_retention_interval(cls, value: float) -> float:
        if 0 < value < 1:
            raise ValueError("the retention interval is 0 (off) or at least 1 second")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _check_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("the metrics token must be at least 32 characters (e.g. openssl rand -hex 32)")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        origins = []
        for origin in value:
            parts = urlsplit(origin)
            if not origin_of(origin) or parts.path not in ("", "/") or parts.query or parts.fragment or "@" in origin:
                raise ValueError(f"{origin!r} is not an origin: scheme://host[:port], no path (and no wildcard)")
            origins.append(origin_of(origin))
        return origins

    @model_validator(mode="after")
    def _check_keys(self) -> Settings:
        if self.jwt_algorithm == "HS256" and self.jwt_secret is not None and _too_short(self.jwt_secret):
            raise ValueError("GATEHOUSE_JWT_SECRET must be at least 32 bytes for HS256")
        if any(_too_short(secret) for secret in self.jwt_previous_secrets):
            raise ValueError("every GATEHOUSE_JWT_PREVIOUS_SECRETS entry must be at least 32 bytes")
        if self.refresh_token_secret is not None and _too_short(self.refresh_token_secret):
            raise ValueError("GATEHOUSE_REFRESH_TOKEN_SECRET must be at least 32 bytes")
        if self.notify_lease_seconds < self.smtp_timeout_seconds + 2:
            # A delivery starts up to ~1 s (the hand-off window) into its lease and may take the whole
            # SMTP timeout; the lease must outlast both, or another worker could claim it and send twice.
            raise ValueError("GATEHOUSE_NOTIFY_LEASE_SECONDS must be at least GATEHOUSE_SMTP_TIMEOUT_SECONDS + 2, "
                             "or a slow delivery could be claimed and sent twice")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'gatehouse.db'}"

    @property
    def signing_key_configured(self) -> bool:
        return (self.jwt_secret if self.jwt_algorithm == "HS256" else self.jwt_private_key) is not None

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def should_auto_migrate(self) -> bool:
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate

    @property
    def session_policy(self) -> SessionPolicy:
        return SessionPolicy(
            absolute_lifetime=timedelta(seconds=self.session_absolute_lifetime_seconds),
            idle_timeout=timedelta(seconds=self.session_idle_timeout_seconds),
            refresh_grace=timedelta(seconds=self.refresh_grace_seconds),
            access_token_ttl=timedelta(seconds=self.access_token_ttl_seconds),
            max_live_sessions=self.max_sessions_per_user,
        )

    @property
    def delivery_policy(self) -> DeliveryPolicy:
        return DeliveryPolicy(
            max_attempts=self.notify_max_attempts,
            backoff_base=timedelta(seconds=self.notify_backoff_seconds),
            stale_after=timedelta(seconds=self.notify_stale_after_seconds),
            lease=timedelta(seconds=self.notify_lease_seconds),
        )

    @property
    def recovery_policy(self) -> RecoveryPolicy:
        return RecoveryPolicy(reset_ttl=timedelta(seconds=self.password_reset_ttl_seconds),
                              verification_ttl=timedelta(seconds=self.email_verification_ttl_seconds))

    @property
    def retention_policy(self) -> RetentionPolicy:
        return RetentionPolicy(periods={
            # a spent token is reuse for as long as its session could live (contract: any spent token)
            Purgeable.TOKEN_HISTORY: max(timedelta(seconds=self.session_absolute_lifetime_seconds),
                                         MIN_TOKEN_HISTORY),
            Purgeable.SESSIONS: timedelta(seconds=self.session_retention_seconds),
            Purgeable.NOTIFICATIONS: timedelta(seconds=self.notification_retention_seconds),
            Purgeable.ACCOUNT_TOKENS: timedelta(seconds=self.account_token_retention_seconds),
            Purgeable.SECURITY_EVENTS: timedelta(seconds=self.security_event_retention_seconds),
        }, batch_size=self.retention_batch_size)

    @property
    def browser_session_policy(self) -> SessionPolicy:
        """The session rules of `/auth/browser/refresh`: the same, with the browser grace window."""
        return dataclasses.replace(self.session_policy,
                                   refresh_grace=timedelta(seconds=self.browser_refresh_grace_seconds))

    @property
    def own_origin(self) -> str:
        """The service's own origin: that of the public URL, by default the issuer's."""
        return origin_of(self.public_url or self.issuer)

    @property
    def link_bases(self) -> tuple[str, str]:
        """Where reset and verification links point: the operator's app if configured, else our pages."""
        public = self.public_url or self.issuer
        return (self.password_reset_url or f"{public}/reset-password",
                self.email_verification_url or f"{public}/verify-email")

    @property
    def resolved_notification_log(self) -> Path:
        return self.notification_log_file or self.data_dir / "notifications.log"


def describe_validation_error(exc: Exception) -> str:
    """One line per bad setting, naming the environment variable; never echoing secret values."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        name = "_".join(str(p) for p in error["loc"] if isinstance(p, str)).upper()
        where = f"GATEHOUSE_{name}" if name else "settings"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


MIN_SECRET_BYTES = 32


def _too_short(secret: SecretStr) -> bool:
    """A secret that keys an HMAC (token signatures, grace-window successors) has at least 256 bits."""
    return len(secret.get_secret_value().encode()) < MIN_SECRET_BYTES
