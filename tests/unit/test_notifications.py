"""Notification use cases over the fakes: recording, listing, delivery with retries, recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import RateLimited
from domain.notifications import DeliveryPolicy, Handoff, Notification, NotificationKind, NotificationStatus
from domain.tokens import Principal
from domain.user import Email
from tests.fakes import T0, FakeNotifier
from tests.unit.conftest import Gatehouse


async def principal_for(gatehouse: Gatehouse, email: str = "alice@example.com") -> Principal:
    await gatehouse.sign_up(email)
    result = await gatehouse.sign_in(email)
    gatehouse.store.notifications.clear()  # drop the new_login notice: these tests count their own
    return await gatehouse.principal(result)


@pytest.fixture
async def alice(gatehouse: Gatehouse) -> Principal:
    return await principal_for(gatehouse)


async def send(gatehouse: Gatehouse, who: Principal, message: str = "hello") -> Notification:
    return await gatehouse.container.send_message().execute(who, message)


def stored(gatehouse: Gatehouse, notification: Notification) -> Notification:
    return gatehouse.store.notifications[notification.id]


# -- recording and listing ------------------------------------------------------------------------------------


async def test_sending_a_message_records_it_queued(gatehouse: Gatehouse, alice: Principal) -> None:
    notification = await send(gatehouse, alice, "remember the milk")

    record = stored(gatehouse, notification)
    assert record.kind is NotificationKind.MESSAGE
    assert record.status is NotificationStatus.QUEUED
    assert record.message == "remember the milk"
    assert record.user_id == alice.user_id
    assert record.created_at == T0
    assert gatehouse.notifier.sent == []  # recorded only: delivery happens after the response


async def test_sending_a_blank_message_records_nothing(gatehouse: Gatehouse, alice: Principal) -> None:
    with pytest.raises(ValueError, match="message"):
        await send(gatehouse, alice, "   ")

    assert gatehouse.store.notifications == {}


async def test_the_eleventh_message_in_an_hour_is_rate_limited_and_not_recorded(
        gatehouse: Gatehouse, alice: Principal) -> None:
    for n in range(10):
        await send(gatehouse, alice, f"message {n}")

    with pytest.raises(RateLimited) as caught:
        await send(gatehouse, alice, "one too many")

    assert caught.value.code == "rate_limited"
    assert "messages" in caught.value.detail
    assert len(gatehouse.store.notifications) == 10
    bob = await principal_for(gatehouse, "bob@example.com")
    await send(gatehouse, bob)  # a count per user


async def test_a_blank_message_is_not_counted(gatehouse: Gatehouse, alice: Principal) -> None:
    with pytest.raises(ValueError, match="message"):
        await send(gatehouse, alice, "   ")
    assert gatehouse.messages.failures == {}


async def test_listing_notifications_shows_only_mine_newest_first(gatehouse: Gatehouse, alice: Principal) -> None:
    bob = await principal_for(gatehouse, "bob@example.com")
    first = await send(gatehouse, alice, "first")
    gatehouse.clock.advance(minutes=1)
    await send(gatehouse, bob, "not yours")
    second = await send(gatehouse, alice, "second")

    listed = await gatehouse.container.list_notifications().execute(alice)

    assert [n.id for n in listed] == [second.id, first.id]


# -- delivery ----------------------------------------------------------------------------------------------------


async def test_delivering_sends_the_notification_to_the_users_email(gatehouse: Gatehouse, alice: Principal) -> None:
    notification = await send(gatehouse, alice)
    gatehouse.clock.advance(milliseconds=300)

    await gatehouse.deliver_notifications().execute((Handoff(notification),))

    [(sent, recipient)] = gatehouse.notifier.sent
    assert sent.id == notification.id
    assert recipient == Email("alice@example.com")
    record = stored(gatehouse, notification)
    assert record.status is NotificationStatus.DELIVERED
    assert record.delivered_at == T0 + timedelta(milliseconds=300)
    assert record.attempts == 1
    assert record.last_error is None


async def test_a_failed_attempt_is_retried_after_a_backoff_and_then_delivered(
        gatehouse: Gatehouse, alice: Principal, sleeps: list[float]) -> None:
    gatehouse.notifier.fail_times = 1
    notification = await send(gatehouse, alice)

    await gatehouse.deliver_notifications().execute((Handoff(notification),))

    record = stored(gatehouse, notification)
    assert record.status is NotificationStatus.DELIVERED
    assert record.attempts == 2
    assert record.last_error is None
    assert len(gatehouse.notifier.sent) == 1
    assert sleeps == [pytest.approx(1.05)]


async def test_delivery_gives_up_after_the_maximum_attempts_and_keeps_the_reason(
        gatehouse: Gatehouse, alice: Principal, sleeps: list[float]) -> None:
    gatehouse.notifier.fail_times = 10
    notification = await send(gatehouse, alice)

    await gatehouse.deliver_notifications(DeliveryPolicy(max_attempts=3)).execute((Handoff(notification),))

    record = stored(gatehouse, notification)
    assert record.status is NotificationStatus.FAILED
    assert record.attempts == 3
    assert record.delivered_at is None
    assert record.last_error == "ConnectionError: mail server said no"
    assert gatehouse.notifier.sent == []
    assert gatehouse.notifier.fail_times == 7  # exactly three attempts were made
    assert sleeps == [pytest.approx(1.05), pytest.approx(2.05)]


async def test_a_failed_notification_is_never_retried_by_recovery(
        gatehouse: Gatehouse, alice: Principal, sleeps: list[float]) -> None:
    gatehouse.notifier.fail_times = 3
    notification = await send(gatehouse, alice)
    await gatehouse.deliver_notifications(DeliveryPolicy(max_attempts=3)).execute((Handoff(notification),))
    gatehouse.clock.advance(hours=1)

    assert await gatehouse.deliver_notifications().recover() == 0

    assert stored(gatehouse, notification).status is NotificationStatus.FAILED
    assert gatehouse.notifier.sent == []


async def test_a_notification_whose_recipient_is_gone_fails_with_the_reason(
        gatehouse: Gatehouse, alice: Principal, sleeps: list[float]) -> None:
    notification = await send(gatehouse, alice)
    gatehouse.store.users.clear()

    await gatehouse.deliver_notifications(DeliveryPolicy(max_attempts=1)).execute((Handoff(notification),))

    record = stored(gatehouse, notification)
    assert record.status is NotificationStatus.FAILED
    assert record.last_error == "LookupError: recipient account no longer exists"
    assert sleeps == []


async def test_an_overlong_failure_reason_is_cut_to_a_bounded_length(
        gatehouse: Gatehouse, alice: Principal, sleeps: list[float]) -> None:
    class Chatty(FakeNotifier):
        async def deliver(self, notification: Notification, recipient: Email, link: str | None = None) -> None:
            raise RuntimeError("x" * 5000)

    gatehouse.use_notifier(Chatty(mails_people=False))
    notification = await send(gatehouse, alice)

    await gatehouse.deliver_notifications(DeliveryPolicy(max_attempts=1)).execute((Handoff(notification),))

    last_error = stored(gatehouse, notification).last_error
    assert last_error is not None
    assert last_error.startswith("RuntimeError: xxx")
    assert len(last_error) == 500


async def test_a_handoff_is_delivered_without_claiming_it_again(gatehouse: Gatehouse, alice: Principal) -> None:
    notification = await send(gatehouse, alice)
    assert stored(gatehouse, notification).attempts == 1  # claimed when it was recorded

    await gatehouse.deliver_notifications().execute((Handoff(notification),))

    assert stored(gatehouse, notification).attempts == 1
    assert stored(gatehouse, notification).status is NotificationStatus.DELIVERED


async def test_a_late_handoff_is_claimed_first_and_so_never_sent_twice(gatehouse: Gatehouse, alice: Principal) -> None:
    notification = await send(gatehouse, alice)
    deliver = gatehouse.deliver_notifications()
    await deliver.execute((Handoff(notification),))
    gatehouse.clock.advance(seconds=2)  # past the handoff window: the creator's claim is not trusted

    await deliver.execute((Handoff(notification),))

    assert len(gatehouse.notifier.sent) == 1
    assert stored(gatehouse, notification).attempts == 1


async def test_a_late_handoff_renews_its_creators_claim_and_is_delivered_at_once(
        gatehouse: Gatehouse, alice: Principal) -> None:
    notification = await send(gatehouse, alice)
    gatehouse.clock.advance(seconds=2)  # past the handoff window, still under the creator's lease

    await gatehouse.deliver_notifications().execute((Handoff(notification),))

    assert len(gatehouse.notifier.sent) == 1
    assert stored(gatehouse, notification).attempts == 1  # a renewed claim is not another attempt
    assert stored(gatehouse, notification).status is NotificationStatus.DELIVERED


async def test_a_late_handoff_whose_claim_someone_else_took_is_left_to_them(
        gatehouse: Gatehouse, alice: Principal) -> None:
    notification = await send(gatehouse, alice)
    gatehouse.clock.advance(seconds=61)  # the creator's lease ran out ...
    now = gatehouse.clock.now()
    taken = await gatehouse.uow().notifications.claim_for_delivery(notification.id, now, now + timedelta(seconds=60))
    assert taken is not None  # ... and another worker took it

    await gatehouse.deliver_notifications().execute((Handoff(notification),))

    assert gatehouse.notifier.sent == []


async def test_delivering_several_notifications_sends_each_once(gatehouse: Gatehouse, alice: Principal) -> None:
    notifications = [await send(gatehouse, alice, f"message {n}") for n in range(3)]

    await gatehouse.deliver_notifications().execute(tuple(Handoff(n) for n in notifications))

    assert [sent.message for sent, _ in gatehouse.notifier.sent] == ["message 0", "message 1", "message 2"]


async def test_a_login_notification_is_delivered_from_what_the_login_handed_to_delivery(
        gatehouse: Gatehouse) -> None:
    await gatehouse.sign_up()
    await gatehouse.sign_in()

    await gatehouse.deliver_notifications().execute(gatehouse.handed_to_delivery_of(NotificationKind.NEW_LOGIN))

    [(sent, _)] = gatehouse.notifier.sent
    assert sent.kind is NotificationKind.NEW_LOGIN


# -- recovery ------------------------------------------------------------------------------------------------------


async def test_recovery_delivers_notifications_left_queued(gatehouse: Gatehouse, alice: Principal) -> None:
    notification = await send(gatehouse, alice)  # its creator died before delivering it
    gatehouse.clock.advance(seconds=61)  # its claim (the 60 s lease) has run out

    assert await gatehouse.deliver_notifications().recover() == 1

    assert stored(gatehouse, notification).status is NotificationStatus.DELIVERED
    assert [sent.id for sent, _ in gatehouse.notifier.sent] == [notification.id]


async def test_recovery_leaves_fresh_notifications_to_their_own_delivery(gatehouse: Gatehouse,
                                                                         alice: Principal) -> None:
    notification = await send(gatehouse, alice)
    gatehouse.clock.advance(seconds=10)

    assert await gatehouse.deliver_notifications().recover() == 0

    assert stored(gatehouse, notification).status is NotificationStatus.QUEUED
    assert gatehouse.notifier.sent == []


async def test_recovery_never_delivers_a_notification_twice(gatehouse: Gatehouse, alice: Principal) -> None:
    delivered = await send(gatehouse, alice, "already delivered")
    left_behind = await send(gatehouse, alice, "left behind")
    deliver = gatehouse.deliver_notifications()
    await deliver.execute((Handoff(delivered),))
    gatehouse.clock.advance(minutes=5)

    assert await deliver.recover() == 1
    assert await deliver.recover() == 0
    gatehouse.clock.advance(seconds=2)
    await deliver.execute((Handoff(delivered), Handoff(left_behind)))  # late handoffs: claimed first

    assert sorted(sent.message for sent, _ in gatehouse.notifier.sent) == ["already delivered", "left behind"]


async def test_recovery_skips_a_notification_another_worker_holds(gatehouse: Gatehouse, alice: Principal) -> None:
    notification = await send(gatehouse, alice)
    gatehouse.clock.advance(seconds=61)  # its creator's claim ran out; another worker claims it
    now = gatehouse.clock.now()
    claimed = await gatehouse.uow().notifications.claim_for_delivery(notification.id, now, now + timedelta(seconds=60))
    assert claimed is not None

    assert await gatehouse.deliver_notifications().recover() == 0

    assert gatehouse.notifier.sent == []
    gatehouse.clock.advance(seconds=61)  # the other worker died: its lease runs out
    assert await gatehouse.deliver_notifications().recover() == 1
    assert len(gatehouse.notifier.sent) == 1


async def test_recovery_takes_at_most_one_batch(gatehouse: Gatehouse, alice: Principal) -> None:
    for n in range(5):
        await send(gatehouse, alice, f"message {n}")
    gatehouse.clock.advance(minutes=1)
    deliver = gatehouse.deliver_notifications()

    assert await deliver.recover(batch=2) == 2
    assert await deliver.recover(batch=2) == 2
    assert await deliver.recover(batch=2) == 1
    assert len(gatehouse.notifier.sent) == 5
