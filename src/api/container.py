"""The composition root: every adapter and use case is built here, and only here."""

from __future__ import annotations

from dependency_injector import containers, providers

from application.authenticate import Authenticate
from application.items import CreateItem, DeleteItem, GetItem, ListItems, UpdateItem
from application.log_in import LogIn
from application.log_out import LogOut
from application.notifications import DeliverNotifications, ListNotifications, SendMessage
from application.profile import ChangePassword, GetProfile, UpdateProfile
from application.refresh_tokens import RefreshTokens
from application.register_user import RegisterUser
from application.sessions import EndSession, ListSessions, LogOutEverywhere
from application.token_minting import AccessTokenMinter, TokenAudience
from infrastructure.clock import SystemClock, Uuid4Generator
from infrastructure.db.engine import create_engine
from infrastructure.db.pg_fast import asyncpg_dsn, create_fast_path
from infrastructure.db.probe import DatabaseProbe
from infrastructure.db.unit_of_work import SqlUnitOfWork
from infrastructure.db.user_cache import UserCache
from infrastructure.notifiers.log_file import LogFileNotifier
from infrastructure.notifiers.smtp import SmtpConfig, SmtpNotifier
from infrastructure.rate_limit import LimitsLoginRateLimiter
from infrastructure.security.argon2_hasher import Argon2PasswordHasher
from infrastructure.security.common_passwords import ZxcvbnCommonPasswords
from infrastructure.security.jwt_signer import PyJwtAccessTokenSigner
from infrastructure.security.keys import KeyRing, load_keyring
from infrastructure.security.refresh_tokens import SecureRefreshTokenFactory
from infrastructure.session_activity import SqlSessionActivity
from infrastructure.settings import Settings


def _refresh_token_factory(settings: Settings, keyring: KeyRing) -> SecureRefreshTokenFactory:
    if settings.refresh_grace_seconds == 0:
        return SecureRefreshTokenFactory(successor_key=None)
    configured = settings.refresh_token_secret
    key = configured.get_secret_value().encode() if configured else keyring.derive("refresh-successor")
    return SecureRefreshTokenFactory(successor_key=key)


def _user_cache(settings: Settings) -> UserCache | None:
    if settings.is_sqlite or settings.profile_cache_seconds == 0:
        return None  # SQLite: no change notifications to invalidate by, and the read is local anyway
    return UserCache(asyncpg_dsn(settings), ttl_seconds=settings.profile_cache_seconds,
                     connect_timeout=settings.db_connect_timeout)


def _smtp_config(settings: Settings) -> SmtpConfig:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpConfig(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender,
                      tls=settings.smtp_tls, username=settings.smtp_username, password=password,
                      timeout=settings.smtp_timeout_seconds)


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    # adapters
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(Uuid4Generator)
    engine = providers.Singleton(create_engine, settings)
    fast_path = providers.Singleton(create_fast_path, settings)
    user_cache = providers.Singleton(_user_cache, settings)
    unit_of_work = providers.Factory(SqlUnitOfWork, engine=engine, fast=fast_path, user_cache=user_cache)
    database_probe = providers.Singleton(DatabaseProbe, engine, timeout_seconds=2.0)
    session_policy = providers.Singleton(lambda s: s.session_policy, settings)
    delivery_policy = providers.Singleton(lambda s: s.delivery_policy, settings)
    keyring = providers.Singleton(load_keyring, settings)
    signer = providers.Singleton(
        PyJwtAccessTokenSigner, keyring, issuer=settings.provided.issuer,
        audience=settings.provided.audience, leeway_seconds=settings.provided.jwt_leeway_seconds)
    audience = providers.Singleton(TokenAudience, issuer=settings.provided.issuer,
                                   audience=settings.provided.audience)
    minter = providers.Singleton(AccessTokenMinter, signer, ids, session_policy, audience)
    refresh_token_factory = providers.Singleton(_refresh_token_factory, settings, keyring)
    hasher = providers.Singleton(
        Argon2PasswordHasher, time_cost=settings.provided.argon2_time_cost,
        memory_kib=settings.provided.argon2_memory_kib, parallelism=settings.provided.argon2_parallelism,
        concurrency=settings.provided.hash_concurrency)
    common_passwords = providers.Singleton(ZxcvbnCommonPasswords)
    rate_limiter = providers.Singleton(
        LimitsLoginRateLimiter, max_failures=settings.provided.login_max_failures,
        window_seconds=settings.provided.login_failure_window_seconds, redis_url=settings.provided.redis_url)
    session_activity = providers.Singleton(
        SqlSessionActivity, engine, session_policy, settings.provided.session_cache_seconds, fast_path)
    notifier = providers.Selector(
        settings.provided.notifier,
        log=providers.Singleton(LogFileNotifier, settings.provided.resolved_notification_log),
        smtp=providers.Singleton(SmtpNotifier, providers.Callable(_smtp_config, settings)),
    )

    # use cases
    register_user = providers.Factory(RegisterUser, unit_of_work.provider, hasher, common_passwords, clock, ids)
    log_in = providers.Factory(LogIn, unit_of_work.provider, hasher, rate_limiter, minter,
                               refresh_token_factory, clock, ids, session_policy, delivery_policy)
    refresh_tokens = providers.Factory(RefreshTokens, unit_of_work.provider, minter, refresh_token_factory,
                                       session_activity, clock, ids, session_policy, delivery_policy)
    log_out = providers.Factory(LogOut, unit_of_work.provider, signer, session_activity, clock)
    log_out_everywhere = providers.Factory(LogOutEverywhere, unit_of_work.provider, session_activity, clock)
    list_sessions = providers.Factory(ListSessions, unit_of_work.provider, clock, session_policy)
    end_session = providers.Factory(EndSession, unit_of_work.provider, session_activity, clock, session_policy)
    # Built once: both run on nearly every request, hold no per-request state, and a Factory call
    # per request showed in /users/me profiles.
    authenticate = providers.Singleton(Authenticate, signer, session_activity, clock)
    get_profile = providers.Singleton(GetProfile, unit_of_work.provider)
    update_profile = providers.Factory(UpdateProfile, unit_of_work.provider, clock)
    change_password = providers.Factory(ChangePassword, unit_of_work.provider, hasher, common_passwords,
                                        session_activity, clock, ids, delivery_policy)
    create_item = providers.Factory(CreateItem, unit_of_work.provider, clock, ids)
    list_items = providers.Factory(ListItems, unit_of_work.provider)
    get_item = providers.Factory(GetItem, unit_of_work.provider)
    update_item = providers.Factory(UpdateItem, unit_of_work.provider, clock)
    delete_item = providers.Factory(DeleteItem, unit_of_work.provider)
    send_message = providers.Factory(SendMessage, unit_of_work.provider, clock, ids, delivery_policy)
    list_notifications = providers.Factory(ListNotifications, unit_of_work.provider)
    deliver_notifications = providers.Factory(DeliverNotifications, unit_of_work.provider, notifier, clock,
                                              delivery_policy)
