"""The recovery use cases over the in-memory fakes: what each writes, defers, voids and ends."""

from __future__ import annotations

import pytest

from application.dto import ClientInfo, LoginCommand
from domain.account_tokens import AccountTokenKind
from domain.errors import EmailNotVerified, InvalidResetToken, RateLimited
from domain.notifications import Handoff, NotificationKind, NotificationStatus
from domain.security_events import Actor, SecurityEventType
from domain.user import Email
from tests.fakes import FakeNotifier
from tests.unit.conftest import IP, PASSWORD, USER_AGENT, Gatehouse

CLIENT = ClientInfo(IP, USER_AGENT)


def _events(gatehouse: Gatehouse) -> list[SecurityEventType]:
    return [e.type for e in gatehouse.store.events]


async def _reset_token(gatehouse: Gatehouse, email: str = "alice@example.com") -> str:
    await gatehouse.container.request_password_reset().execute(email, CLIENT)
    await gatehouse.deliveries.run_deferred()
    [notification] = gatehouse.notifications(NotificationKind.PASSWORD_RESET)[-1:]
    assert notification.sealed_link is not None
    link = gatehouse.sealer.open(notification.sealed_link)
    return link.split("#token=", 1)[1]


async def test_a_reset_request_does_nothing_until_after_the_response(gatehouse: Gatehouse) -> None:
    await gatehouse.sign_up()
    await gatehouse.container.request_password_reset().execute("alice@example.com", CLIENT)
    assert gatehouse.notifications(NotificationKind.PASSWORD_RESET) == []
    assert not any(t.kind is AccountTokenKind.PASSWORD_RESET for t, _ in gatehouse.store.account_tokens.values())
    assert await gatehouse.deliveries.run_deferred() == 1
    assert len(gatehouse.notifications(NotificationKind.PASSWORD_RESET)) == 1
    assert _events(gatehouse)[-1] is SecurityEventType.PASSWORD_RESET_REQUESTED


async def test_a_reset_request_for_an_unknown_address_defers_the_same_work_and_records_nothing(
        gatehouse: Gatehouse) -> None:
    await gatehouse.container.request_password_reset().execute("nobody@example.com", CLIENT)
    assert await gatehouse.deliveries.run_deferred() == 1
    assert gatehouse.store.notifications == {}
    assert gatehouse.store.events == []
    assert gatehouse.reset_mails.failures == {}  # an unknown address counts against nothing


async def test_the_per_client_limit_is_decided_before_the_answer(gatehouse: Gatehouse) -> None:
    gatehouse.reset_requests.max = 1
    await gatehouse.container.request_password_reset().execute("a@example.com", CLIENT)
    with pytest.raises(RateLimited):
        await gatehouse.container.request_password_reset().execute("b@example.com", CLIENT)
    assert len(gatehouse.deliveries.jobs) == 1


async def test_a_confirmed_reset_ends_every_session_and_is_recorded(gatehouse: Gatehouse) -> None:
    await gatehouse.sign_up()
    first, second = await gatehouse.sign_in(), await gatehouse.sign_in()
    token = await _reset_token(gatehouse)

    await gatehouse.container.reset_password().execute(token, "a brand new passphrase", CLIENT)

    assert all(s.revoked_reason == "password_reset" for s in gatehouse.store.sessions.values())
    assert {first.session_id, second.session_id} <= set(gatehouse.activity.forgotten)
    user = next(iter(gatehouse.store.users.values()))
    assert user.email_verified
    assert user.credential_version == 1
    assert _events(gatehouse)[-1] is SecurityEventType.PASSWORD_RESET_COMPLETED
    assert gatehouse.notifications(NotificationKind.PASSWORD_CHANGED)
    with pytest.raises(InvalidResetToken):
        await gatehouse.container.reset_password().execute(token, "another new passphrase", CLIENT)


async def test_a_reset_token_of_another_kind_is_not_a_reset_token(gatehouse: Gatehouse) -> None:
    await gatehouse.sign_up()
    [verification] = gatehouse.notifications(NotificationKind.EMAIL_VERIFICATION)
    assert verification.sealed_link is not None
    token = gatehouse.sealer.open(verification.sealed_link).split("#token=", 1)[1]
    with pytest.raises(InvalidResetToken):
        await gatehouse.container.reset_password().execute(token, "a brand new passphrase", CLIENT)


async def test_a_mailing_notifier_withholds_all_but_verification_and_reset_mail_from_an_unproven_address(
        gatehouse: Gatehouse) -> None:
    mailer = FakeNotifier(mails_people=True)
    gatehouse.use_notifier(mailer)
    await gatehouse.sign_up()
    await gatehouse.sign_in()
    await _reset_token(gatehouse)
    await gatehouse.deliver_notifications().execute(gatehouse.handed_to_delivery)

    statuses = {n.kind: n.status for n in gatehouse.store.notifications.values()}
    assert statuses == {NotificationKind.EMAIL_VERIFICATION: NotificationStatus.DELIVERED,
                        NotificationKind.NEW_LOGIN: NotificationStatus.WITHHELD,
                        NotificationKind.PASSWORD_RESET: NotificationStatus.DELIVERED}
    assert [n.kind for n, _ in mailer.sent] == [NotificationKind.EMAIL_VERIFICATION, NotificationKind.PASSWORD_RESET]
    assert all(link and "#token=" in link for link in mailer.links)  # opened for the mail only
    assert all(n.sealed_link is None for n in gatehouse.store.notifications.values())  # dropped once sent


async def test_a_change_of_address_notice_goes_to_the_old_address_as_proven_as_it_was(gatehouse: Gatehouse) -> None:
    await gatehouse.sign_up()
    tokens = await gatehouse.sign_in()
    principal = await gatehouse.principal(tokens)
    await gatehouse.container.change_email().execute(principal, "new@example.com", PASSWORD, CLIENT)
    [verification] = [n for n in gatehouse.notifications(NotificationKind.EMAIL_VERIFICATION)
                      if n.recipient == Email("new@example.com")]
    assert verification.recipient is not None
    assert verification.recipient.value == "new@example.com"
    assert verification.sealed_link is not None
    token = gatehouse.sealer.open(verification.sealed_link).split("#token=", 1)[1]

    user = await gatehouse.container.confirm_email().execute(token, CLIENT)

    assert user.email.value == "new@example.com"
    [changed] = gatehouse.notifications(NotificationKind.EMAIL_CHANGED)
    assert changed.recipient is not None
    assert (changed.recipient.value, changed.recipient_verified) == ("alice@example.com", False)
    handoff = next(h for h in gatehouse.handed_to_delivery if h.notification.id == changed.id)
    assert handoff == Handoff(changed, changed.recipient, False)
    # Every mail of the change is addressed when recorded, so a retry after the change goes where it was meant to.
    [notice] = gatehouse.notifications(NotificationKind.EMAIL_CHANGE_REQUESTED)
    assert notice.recipient == Email("alice@example.com")


async def test_deleting_the_account_keeps_its_security_log(gatehouse: Gatehouse) -> None:
    await gatehouse.sign_up()
    tokens = await gatehouse.sign_in()
    principal = await gatehouse.principal(tokens)
    await gatehouse.container.delete_account().execute(principal, PASSWORD, CLIENT)
    assert gatehouse.store.users == {}
    assert gatehouse.store.sessions == {}
    assert tokens.session_id in gatehouse.activity.forgotten
    assert _events(gatehouse)[-1] is SecurityEventType.USER_DELETED


async def test_failed_logins_are_recorded_after_the_response_and_only_for_registered_addresses(
        gatehouse: Gatehouse) -> None:
    await gatehouse.sign_up()
    log_in = gatehouse.container.log_in()
    for email in ("alice@example.com", "nobody@example.com"):
        with pytest.raises(Exception, match="wrong"):
            await log_in.execute(LoginCommand(email, "not the password", CLIENT))
    assert _events(gatehouse) == []  # nothing before the response
    await gatehouse.deliveries.run_deferred()
    assert _events(gatehouse) == [SecurityEventType.LOGIN_FAILED]


async def test_a_lock_out_is_recorded_once_by_the_system(gatehouse: Gatehouse) -> None:
    await gatehouse.sign_up()
    gatehouse.limiter.max = 1
    log_in = gatehouse.container.log_in()
    with pytest.raises(Exception, match="wrong"):
        await log_in.execute(LoginCommand("alice@example.com", "not the password", CLIENT))
    for _ in range(3):
        with pytest.raises(RateLimited):
            await log_in.execute(LoginCommand("alice@example.com", PASSWORD, CLIENT))
    await gatehouse.deliveries.run_deferred()
    limited = [e for e in gatehouse.store.events if e.type is SecurityEventType.LOGIN_RATE_LIMITED]
    assert len(limited) == 1
    assert limited[0].actor is Actor.SYSTEM


async def test_an_unverified_account_cannot_log_in_when_verification_is_required(gatehouse: Gatehouse) -> None:
    await gatehouse.sign_up()
    gatehouse.container.log_in.reset()
    gatehouse.container.settings().require_verified_email = True
    with pytest.raises(EmailNotVerified):
        await gatehouse.container.log_in().execute(LoginCommand("alice@example.com", PASSWORD, CLIENT))
    assert gatehouse.store.sessions == {}
