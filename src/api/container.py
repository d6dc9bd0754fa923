"""The composition root: every adapter and use case is built here, and only here.

Providers name every argument. What the process opens and must close (the engine, the asyncpg pool,
the account cache's listening connection, the Redis pool) is made through `owned(...)`: the lifespan closes it all
at shutdown (infrastructure/utils/lifetime.py), so a new resource is one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from api.browser import BrowserTransport
from api.delivery import RequestDeliveries
from api.injector import containers, providers
from application.account_links import AccountLinks, LinkTargets
from application.authenticate import Authenticate
from application.change_email import ChangeEmail
from application.change_password import ChangePassword
from application.confirm_email import ConfirmEmail
from application.create_item import CreateItem
from application.create_service_client import CreateServiceClient
from application.delete_account import DeleteAccount
from application.delete_item import DeleteItem
from application.delete_service_client import DeleteServiceClient
from application.delete_user import DeleteUser
from application.deliver_notifications import DeliverNotifications
from application.disable_user import DisableUser
from application.enable_user import EnableUser
from application.end_session import EndSession
from application.end_user_sessions import EndUserSessions
from application.get_item import GetItem
from application.get_profile import GetProfile
from application.get_user import GetUser
from application.introspect_token import IntrospectToken
from application.list_items import ListItems
from application.list_notifications import ListNotifications
from application.list_security_events import ListSecurityEvents
from application.list_service_clients import ListServiceClients
from application.list_sessions import ListSessions
from application.list_user_sessions import ListUserSessions
from application.list_users import ListUsers
from application.log_in import LogIn
from application.log_out import LogOut
from application.log_out_everywhere import LogOutEverywhere
from application.passwords import CurrentPassword
from application.purge_expired_records import PurgeExpiredRecords
from application.read_browser_session import ReadBrowserSession
from application.register_user import RegisterUser
from application.request_password_reset import RequestPasswordReset
from application.require_admin import RequireAdmin
from application.resend_verification import ResendVerification
from application.reset_password import ResetPassword
from application.rotate_refresh_token import RotateRefreshToken
from application.search_security_events import SearchSecurityEvents
from application.security_log import SecurityLog
from application.send_message import SendMessage
from application.send_password_reset import SendPasswordReset
from application.session_of_refresh_token import SessionOfRefreshToken
from application.token_minting import AccessTokenMinter, IssuerAndAudience
from application.update_item import UpdateItem
from application.update_profile import UpdateProfile
from application.update_user import UpdateUser
from domain.account_tokens import RecoveryPolicy
from domain.notifications import DeliveryPolicy
from domain.observations import NO_METRICS, RateLimit
from domain.ports import Metrics, RateLimiter
from domain.session import SessionPolicy
from infrastructure.clock import SystemClock, Uuid4Generator
from infrastructure.db.asyncpg_runner import asyncpg_dsn, create_asyncpg_runner
from infrastructure.db.engine import create_engine
from infrastructure.db.probe import DatabaseProbe
from infrastructure.db.retention import SqlExpiredRecords
from infrastructure.db.unit_of_work import SqlUnitOfWorkFactory
from infrastructure.db.user_cache import Uncached, UserCache
from infrastructure.notifiers.log_file import LogFileNotifier
from infrastructure.notifiers.smtp import SmtpConfig, SmtpNotifier
from infrastructure.rate_limit import CountedRateLimiter, Limit, RateLimits, SqlRateLimits
from infrastructure.security.argon2_hasher import Argon2PasswordHasher
from infrastructure.security.common_passwords import ZxcvbnCommonPasswords
from infrastructure.security.csrf import SessionCsrfTokens
from infrastructure.security.jwt_signer import PyJwtAccessTokenSigner
from infrastructure.security.keys import KeyRing, load_keyring
from infrastructure.security.link_sealer import AesGcmLinkSealer
from infrastructure.security.refresh_tokens import SecureRefreshTokenFactory
from infrastructure.service_client_lookup import CachedServiceClients
from infrastructure.session_activity import CachedSessionActivity
from infrastructure.settings import Settings
from infrastructure.utils.lifetime import Lifetime

T = TypeVar("T")


def owned(lifetime: providers.Provider[Lifetime], provider: providers.Provider[T]) -> providers.Singleton[T]:
    """One instance of what `provider` makes, closed with everything else the process owns at shutdown."""
    return providers.Singleton(Lifetime.own, lifetime, provider)


def _session_policy(settings: Settings) -> SessionPolicy:
    return settings.session_policy


def _delivery_policy(settings: Settings) -> DeliveryPolicy:
    return settings.delivery_policy


def _browser_session_policy(settings: Settings) -> SessionPolicy:
    return settings.browser_session_policy


def _refresh_token_factory(settings: Settings, keyring: KeyRing) -> SecureRefreshTokenFactory:
    if settings.refresh_grace_seconds == 0 and settings.browser_refresh_grace_seconds == 0:
        return SecureRefreshTokenFactory(successor_key=None)
    configured = settings.refresh_token_secret
    key = configured.get_secret_value().encode() if configured else keyring.derive("refresh-successor")
    return SecureRefreshTokenFactory(successor_key=key)


def _user_cache(settings: Settings) -> UserCache | Uncached:
    if settings.is_sqlite or settings.profile_cache_seconds == 0:
        return Uncached()  # SQLite: no change notifications to invalidate by, and the read is local anyway
    return UserCache(asyncpg_dsn(settings), ttl_seconds=settings.profile_cache_seconds,
                     connect_timeout=settings.db_connect_timeout)


def _rate_limits(settings: Settings, units: SqlUnitOfWorkFactory,
                 clock: SystemClock) -> RateLimits:
    """Counted in Redis when configured, else in the database: shared by every worker either way."""
    if settings.redis_url:
        from infrastructure.redis_rate_limit import RedisRateLimits  # redis-py and limits: only when configured

        return RedisRateLimits(settings.redis_url)
    return SqlRateLimits(units, clock)


def _limiter(limits: RateLimits, name: str, max_hits: int, window_seconds: int,
             metrics: Metrics | None = None) -> RateLimiter:
    """A limit named by a `RateLimit` has its refusals counted when metrics are on."""
    limiter = limits.limiter(Limit(name, max_hits, window_seconds))
    if metrics is None or metrics is NO_METRICS or not isinstance(name, RateLimit):
        return limiter
    return CountedRateLimiter(limiter, name, metrics)


def _metrics(settings: Settings) -> Metrics:
    if settings.metrics_token is None:
        return NO_METRICS
    from infrastructure.metrics import PrometheusMetrics  # prometheus-client is loaded only when metrics are on

    return PrometheusMetrics()


def _hash_observer(metrics: Metrics) -> Callable[[float], None] | None:
    return None if metrics is NO_METRICS else metrics.password_hashed


def _smtp_config(settings: Settings) -> SmtpConfig:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpConfig(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender,
                      tls=settings.smtp_tls, username=settings.smtp_username, password=password,
                      timeout=settings.smtp_timeout_seconds, product_name=settings.product_name)


def _link_sealer(keyring: KeyRing) -> AesGcmLinkSealer:
    return AesGcmLinkSealer(keyring.derive("mail-links"))


def _link_targets(settings: Settings) -> LinkTargets:
    reset, verification = settings.link_bases
    return LinkTargets(password_reset=reset, email_verification=verification)


def _recovery_policy(settings: Settings) -> RecoveryPolicy:
    return settings.recovery_policy


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    lifetime = providers.Singleton(Lifetime)

    # -- adapters ---------------------------------------------------------------------------------
    clock = providers.Singleton(SystemClock)
    metrics = providers.Singleton(_metrics, settings=settings)
    hash_observer = providers.Singleton(_hash_observer, metrics=metrics)
    ids = providers.Singleton(Uuid4Generator)
    session_policy = providers.Singleton(_session_policy, settings=settings)
    delivery_policy = providers.Singleton(_delivery_policy, settings=settings)

    engine = owned(lifetime, providers.Factory(create_engine, settings=settings))
    asyncpg_runner = owned(lifetime, providers.Factory(create_asyncpg_runner, settings=settings))
    user_cache = owned(lifetime, providers.Factory(_user_cache, settings=settings))
    deliveries = providers.Singleton(RequestDeliveries)
    unit_of_work = providers.Singleton(SqlUnitOfWorkFactory, engine=engine, asyncpg_runner=asyncpg_runner,
                                       profiles=user_cache, deliveries=deliveries)
    database_probe = providers.Singleton(DatabaseProbe, engine=engine, timeout_seconds=2.0)

    keyring = providers.Singleton(load_keyring, settings=settings)
    signer = providers.Singleton(
        PyJwtAccessTokenSigner, keyring=keyring, issuer=settings.provided.issuer,
        audience=settings.provided.audience, leeway_seconds=settings.provided.jwt_leeway_seconds)
    addressing = providers.Singleton(IssuerAndAudience, issuer=settings.provided.issuer,
                                     audience=settings.provided.audience)
    minter = providers.Singleton(AccessTokenMinter, signer=signer, ids=ids, policy=session_policy,
                                 addressing=addressing)
    token_factory = providers.Singleton(_refresh_token_factory, settings=settings, keyring=keyring)
    hasher = providers.Singleton(
        Argon2PasswordHasher, time_cost=settings.provided.argon2_time_cost,
        memory_kib=settings.provided.argon2_memory_kib, parallelism=settings.provided.argon2_parallelism,
        concurrency=settings.provided.hash_concurrency, on_hash=hash_observer)
    common_passwords = providers.Singleton(ZxcvbnCommonPasswords)
    rate_limits = owned(lifetime, providers.Factory(_rate_limits, settings=settings, units=unit_of_work, clock=clock))
    login_limiter = providers.Singleton(  # per (email, client address): login's and the token grant's
        _limiter, limits=rate_limits, name=RateLimit.LOGIN, max_hits=settings.provided.login_max_failures,
        window_seconds=settings.provided.login_failure_window_seconds, metrics=metrics)
    password_check_limiter = providers.Singleton(  # per user: the checks of the current password
        _limiter, limits=rate_limits, name=RateLimit.PASSWORD_CHECK,
        max_hits=settings.provided.password_check_max_failures,
        window_seconds=settings.provided.password_check_window_seconds, metrics=metrics)
    message_limiter = providers.Singleton(  # per user: POST /notifications
        _limiter, limits=rate_limits, name=RateLimit.MESSAGES, max_hits=settings.provided.messages_per_hour,
        window_seconds=3600, metrics=metrics)
    lockout_notice_limiter = providers.Singleton(  # one login_rate_limited event per lock-out (login's key)
        _limiter, limits=rate_limits, name="login-lockout", max_hits=1,
        window_seconds=settings.provided.login_failure_window_seconds)
    reset_request_limiter = providers.Singleton(  # per client address: POST /auth/password-reset
        _limiter, limits=rate_limits, name=RateLimit.RESET_REQUESTS,
        max_hits=settings.provided.password_reset_max_per_ip, window_seconds=900, metrics=metrics)
    reset_mail_limiter = providers.Singleton(  # per address: reset mails
        _limiter, limits=rate_limits, name=RateLimit.RESET_MAILS,
        max_hits=settings.provided.password_reset_mails_per_hour, window_seconds=3600, metrics=metrics)
    verification_mail_limiter = providers.Singleton(  # per address: verification mails
        _limiter, limits=rate_limits, name=RateLimit.VERIFICATION_MAILS, metrics=metrics,
        max_hits=settings.provided.password_reset_mails_per_hour, window_seconds=3600)
    session_activity = providers.Singleton(CachedSessionActivity, uow=unit_of_work, policy=session_policy,
                                           ttl_seconds=settings.provided.session_cache_seconds)
    notifier = providers.Selector(
        settings.provided.notifier,
        log=providers.Singleton(LogFileNotifier, path=settings.provided.resolved_notification_log,
                                product_name=settings.provided.product_name),
        smtp=providers.Singleton(SmtpNotifier, config=providers.Callable(_smtp_config, settings=settings)),
    )

    link_sealer = providers.Singleton(_link_sealer, keyring=keyring)
    secret_tokens = providers.Singleton(SecureRefreshTokenFactory, successor_key=None)  # 256 CSPRNG bits each
    link_targets = providers.Singleton(_link_targets, settings=settings)
    recovery_policy = providers.Singleton(_recovery_policy, settings=settings)
    security_log = providers.Singleton(SecurityLog, ids=ids)
    current_password = providers.Singleton(CurrentPassword, uow=unit_of_work, hasher=hasher,
                                           limiter=password_check_limiter)  # one counter for every such check
    account_links = providers.Singleton(AccountLinks, tokens=secret_tokens, sealer=link_sealer, targets=link_targets,
                                        ids=ids, policy=recovery_policy, delivery=delivery_policy)

    # -- use cases: stateless, so each is built once -----------------------------------------------
    register_user = providers.Singleton(RegisterUser, uow=unit_of_work, hasher=hasher, common=common_passwords,
                                        clock=clock, ids=ids, links=account_links,
                                        per_address=verification_mail_limiter, log=security_log)
    log_in = providers.Singleton(LogIn, uow=unit_of_work, hasher=hasher, limiter=login_limiter, minter=minter,
                                 token_factory=token_factory, activity=session_activity, clock=clock, ids=ids,
                                 policy=session_policy, delivery=delivery_policy, log=security_log,
                                 after=deliveries, lockouts=lockout_notice_limiter, metrics=metrics,
                                 require_verified=settings.provided.require_verified_email)
    rotate_refresh_token = providers.Singleton(
        RotateRefreshToken, uow=unit_of_work, minter=minter, token_factory=token_factory,
        activity=session_activity, clock=clock, ids=ids, policy=session_policy, delivery=delivery_policy,
        log=security_log, metrics=metrics)
    log_out = providers.Singleton(LogOut, uow=unit_of_work, signer=signer, activity=session_activity, clock=clock,
                                  log=security_log)
    log_out_everywhere = providers.Singleton(LogOutEverywhere, uow=unit_of_work, activity=session_activity,
                                             clock=clock, log=security_log)
    list_sessions = providers.Singleton(ListSessions, uow=unit_of_work, clock=clock, policy=session_policy)
    end_session = providers.Singleton(EndSession, uow=unit_of_work, activity=session_activity, clock=clock,
                                      policy=session_policy, log=security_log)
    request_password_reset = providers.Singleton(
        RequestPasswordReset, uow=unit_of_work, links=account_links, log=security_log, after=deliveries,
        per_client=reset_request_limiter, per_address=reset_mail_limiter, clock=clock)
    reset_password = providers.Singleton(ResetPassword, uow=unit_of_work, hasher=hasher, common=common_passwords,
                                         activity=session_activity, log=security_log, clock=clock, ids=ids,
                                         delivery=delivery_policy)
    resend_verification = providers.Singleton(ResendVerification, uow=unit_of_work, links=account_links,
                                              per_address=verification_mail_limiter, clock=clock)
    confirm_email = providers.Singleton(ConfirmEmail, uow=unit_of_work, log=security_log, clock=clock, ids=ids,
                                        delivery=delivery_policy)
    change_email = providers.Singleton(ChangeEmail, uow=unit_of_work, current=current_password,
                                       per_address=verification_mail_limiter, links=account_links, log=security_log,
                                       clock=clock, ids=ids, delivery=delivery_policy)
    delete_account = providers.Singleton(DeleteAccount, uow=unit_of_work, current=current_password,
                                         activity=session_activity, log=security_log, clock=clock)
    list_security_events = providers.Singleton(ListSecurityEvents, uow=unit_of_work)
    authenticate = providers.Singleton(Authenticate, signer=signer, activity=session_activity, clock=clock,
                                       metrics=metrics)
    get_profile = providers.Singleton(GetProfile, uow=unit_of_work)
    update_profile = providers.Singleton(UpdateProfile, uow=unit_of_work, clock=clock)
    change_password = providers.Singleton(ChangePassword, uow=unit_of_work, hasher=hasher, common=common_passwords,
                                          current=current_password, activity=session_activity, clock=clock,
                                          ids=ids, delivery=delivery_policy, log=security_log)
    create_item = providers.Singleton(CreateItem, uow=unit_of_work, clock=clock, ids=ids)
    list_items = providers.Singleton(ListItems, uow=unit_of_work)
    get_item = providers.Singleton(GetItem, uow=unit_of_work)
    update_item = providers.Singleton(UpdateItem, uow=unit_of_work, clock=clock)
    delete_item = providers.Singleton(DeleteItem, uow=unit_of_work)
    send_message = providers.Singleton(SendMessage, uow=unit_of_work, limiter=message_limiter, clock=clock, ids=ids,
                                       delivery=delivery_policy)
    list_notifications = providers.Singleton(ListNotifications, uow=unit_of_work)

    # -- administration ------------------------------------------------------------------------------
    require_admin = providers.Singleton(RequireAdmin, uow=unit_of_work)
    list_users = providers.Singleton(ListUsers, uow=unit_of_work)
    get_user = providers.Singleton(GetUser, uow=unit_of_work)
    update_user = providers.Singleton(UpdateUser, uow=unit_of_work, log=security_log, clock=clock)
    disable_user = providers.Singleton(DisableUser, uow=unit_of_work, activity=session_activity, log=security_log,
                                       clock=clock, ids=ids, delivery=delivery_policy)
    enable_user = providers.Singleton(EnableUser, uow=unit_of_work, log=security_log, clock=clock)
    list_user_sessions = providers.Singleton(ListUserSessions, uow=unit_of_work, clock=clock, policy=session_policy)
    end_user_sessions = providers.Singleton(EndUserSessions, uow=unit_of_work, activity=session_activity,
                                            log=security_log, clock=clock)
    send_password_reset = providers.Singleton(SendPasswordReset, uow=unit_of_work, links=account_links,
                                              log=security_log, clock=clock)
    delete_user = providers.Singleton(DeleteUser, uow=unit_of_work, activity=session_activity, log=security_log,
                                      clock=clock)
    search_security_events = providers.Singleton(SearchSecurityEvents, uow=unit_of_work)

    # -- browsers ------------------------------------------------------------------------------------
    browser_session_policy = providers.Singleton(_browser_session_policy, settings=settings)
    rotate_browser_refresh_token = providers.Singleton(  # the same use case, with the browser grace window
        RotateRefreshToken, uow=unit_of_work, minter=minter, token_factory=token_factory,
        activity=session_activity, clock=clock, ids=ids, policy=session_policy, delivery=delivery_policy,
        log=security_log, browser_policy=browser_session_policy, metrics=metrics)
    read_browser_session = providers.Singleton(ReadBrowserSession, authenticate=authenticate, uow=unit_of_work,
                                               clock=clock, policy=session_policy,
                                               browser_policy=browser_session_policy)
    session_of_refresh_token = providers.Singleton(SessionOfRefreshToken, uow=unit_of_work)
    csrf_tokens = providers.Singleton(SessionCsrfTokens.from_keyring, keyring=keyring)
    browser_transport = providers.Singleton(BrowserTransport, settings=settings)

    # -- other services ------------------------------------------------------------------------------
    service_client_lookup = providers.Singleton(CachedServiceClients, uow=unit_of_work, ttl_seconds=1.0)
    create_service_client = providers.Singleton(CreateServiceClient, uow=unit_of_work, secrets=secret_tokens, ids=ids,
                                                clock=clock)
    list_service_clients = providers.Singleton(ListServiceClients, uow=unit_of_work)
    delete_service_client = providers.Singleton(DeleteServiceClient, uow=unit_of_work)
    introspect_token = providers.Singleton(IntrospectToken, clients=service_client_lookup, authenticate=authenticate,
                                           uow=unit_of_work)
    deliver_notifications = providers.Singleton(DeliverNotifications, uow=unit_of_work, notifier=notifier,
                                                sealer=link_sealer, clock=clock, policy=delivery_policy,
                                                metrics=metrics)
    expired_records = providers.Singleton(SqlExpiredRecords, engine=engine)
    purge_expired_records = providers.Singleton(PurgeExpiredRecords, records=expired_records, clock=clock,
                                                policy=settings.provided.retention_policy)
