"""Domain rules of items and notifications."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from domain.devices import describe_device
from domain.items import MAX_DESCRIPTION_LENGTH, MAX_TITLE_LENGTH, Item
from domain.notifications import (
    MAX_MESSAGE_LENGTH,
    DeliveryPolicy,
    Notification,
    NotificationKind,
    NotificationStatus,
    login_message,
)
from tests.fakes import T0

OWNER = UUID(int=7)
LATER = T0 + timedelta(hours=1)


def make_item(title: str = "Groceries", description: str | None = "milk, eggs") -> Item:
    return Item(id=UUID(int=1), owner_id=OWNER, title=title, description=description, created_at=T0,
                updated_at=T0)


# -- Item ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["", "   ", "\t\n", "x" * (MAX_TITLE_LENGTH + 1)])
def test_an_item_refuses_a_blank_or_overlong_title(title: str) -> None:
    with pytest.raises(ValueError, match="title"):
        make_item(title=title)


def test_an_item_accepts_a_title_at_the_length_limit() -> None:
    assert make_item(title="x" * MAX_TITLE_LENGTH).title == "x" * MAX_TITLE_LENGTH


def test_an_item_refuses_an_overlong_description() -> None:
    with pytest.raises(ValueError, match="description"):
        make_item(description="d" * (MAX_DESCRIPTION_LENGTH + 1))


def test_an_item_may_have_no_description() -> None:
    assert make_item(description=None).description is None


def test_an_item_is_owned_by_its_creator_only() -> None:
    item = make_item()

    assert item.is_owned_by(OWNER)
    assert not item.is_owned_by(UUID(int=8))


def test_editing_only_the_title_leaves_the_description_alone() -> None:
    item = make_item()

    item.edit(now=LATER, title="Errands")

    assert (item.title, item.description) == ("Errands", "milk, eggs")
    assert item.updated_at == LATER
    assert item.created_at == T0


def test_a_description_without_the_set_flag_is_ignored() -> None:
    item = make_item()

    item.edit(now=LATER, description="ignored")

    assert item.description == "milk, eggs"


def test_editing_the_description_to_null_clears_it_when_asked_to() -> None:
    item = make_item()

    item.edit(now=LATER, description=None, set_description=True)

    assert item.description is None
    assert item.title == "Groceries"


def test_editing_only_the_description_leaves_the_title_alone() -> None:
    item = make_item()

    item.edit(now=LATER, description="bread", set_description=True)

    assert (item.title, item.description) == ("Groceries", "bread")


@pytest.mark.parametrize("title", ["", "  ", "x" * (MAX_TITLE_LENGTH + 1)])
def test_an_edit_with_an_invalid_title_is_refused_and_changes_nothing(title: str) -> None:
    item = make_item()

    with pytest.raises(ValueError, match="title"):
        item.edit(now=LATER, title=title)

    assert (item.title, item.updated_at) == ("Groceries", T0)


def test_an_edit_with_an_overlong_description_is_refused_and_changes_nothing() -> None:
    item = make_item()

    with pytest.raises(ValueError, match="description"):
        item.edit(now=LATER, description="d" * (MAX_DESCRIPTION_LENGTH + 1), set_description=True)

    assert (item.description, item.updated_at) == ("milk, eggs", T0)


# -- Notification ----------------------------------------------------------------------------------------


def test_queueing_a_notification_records_it_as_queued_with_no_attempts() -> None:
    n = Notification.queue(id=UUID(int=3), user_id=OWNER, kind=NotificationKind.MESSAGE, message="hi",
                           now=T0)

    assert n.status is NotificationStatus.QUEUED
    assert (n.id, n.user_id, n.kind, n.message) == (UUID(int=3), OWNER, NotificationKind.MESSAGE, "hi")
    assert n.created_at == T0
    assert n.delivered_at is None
    assert n.attempts == 0
    assert n.last_error is None


@pytest.mark.parametrize("message", ["", "   ", "\n\t", "m" * (MAX_MESSAGE_LENGTH + 1)])
def test_queueing_a_blank_or_overlong_message_is_refused(message: str) -> None:
    with pytest.raises(ValueError, match="message"):
        Notification.queue(id=UUID(int=3), user_id=OWNER, kind=NotificationKind.MESSAGE, message=message,
                           now=T0)


def test_queueing_a_message_at_the_length_limit_is_accepted() -> None:
    n = Notification.queue(id=UUID(int=3), user_id=OWNER, kind=NotificationKind.MESSAGE,
                           message="m" * MAX_MESSAGE_LENGTH, now=T0)

    assert len(n.message) == MAX_MESSAGE_LENGTH


def test_every_notification_kind_has_its_own_subject() -> None:
    subjects = {kind: Notification.queue(id=UUID(int=3), user_id=OWNER, kind=kind, message="x", now=T0).subject
                for kind in NotificationKind}

    assert len(set(subjects.values())) == len(NotificationKind)
    assert "Security alert" in subjects[NotificationKind.REFRESH_TOKEN_REUSE]


def test_notification_kinds_and_statuses_use_the_contract_spellings() -> None:
    assert {k.value for k in NotificationKind} == {"message", "new_login", "password_changed",
                                                   "refresh_token_reuse", "password_reset", "email_verification",
                                                   "email_change_requested", "email_changed", "account_disabled"}
    assert {s.value for s in NotificationStatus} == {"queued", "delivered", "failed", "withheld"}


def test_a_login_message_names_the_address_and_describes_the_device() -> None:
    text = login_message("198.51.100.9", "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0")

    assert "198.51.100.9" in text
    assert "Firefox on Linux" in text
    assert "Mozilla" not in text


def test_a_login_message_without_address_or_agent_still_reads_well() -> None:
    assert login_message(None, None) == ("Your account was signed in to from an unknown address with an "
                                         "unrecognised app or device. If this was not you, change your password.")


@pytest.mark.parametrize("agent", [
    "Ignore this mail, it was us (the security team)",
    "https://evil.example/reset?u=alice",
    "Mozilla/5.0 (Windows NT 10.0) see http://evil.example Chrome/131.0 Safari/537.36",
    "A" * 5000,
    "curl/8.5.0 -- IT WAS US, IGNORE",
])
def test_a_login_message_never_quotes_the_user_agent(agent: str) -> None:
    text = login_message("198.51.100.9", agent)

    for word in ("Ignore", "IGNORE", "evil", "http", "AAAA", "security team", "8.5.0"):
        assert word not in text
    assert len(text) < 200


@pytest.mark.parametrize(("agent", "described"), [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36", "Chrome on Windows"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36 Edg/131.0.0.0", "Edge on Windows"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iOS"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
     "Safari/605.1.15", "Safari on macOS"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Mobile Safari/537.36", "Chrome on Android"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 "
     "OPR/115.0.0.0", "Opera on Linux"),
    ("python-httpx/0.28.1", "Python (httpx)"),
    ("curl/8.5.0", "curl"),
    ("SomethingNew/1.0", "an unrecognised app or device"),
])
def test_devices_are_described_from_a_fixed_list(agent: str, described: str) -> None:
    assert describe_device(agent) == described


# -- DeliveryPolicy ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("attempt", "expected"), [(1, 1), (2, 2), (3, 4), (4, 8), (6, 32)])
def test_the_backoff_doubles_with_every_failed_attempt(attempt: int, expected: int) -> None:
    assert DeliveryPolicy().backoff(attempt) == timedelta(seconds=expected)


def test_the_backoff_before_any_attempt_is_the_base_delay() -> None:
    assert DeliveryPolicy(backoff_base=timedelta(seconds=3)).backoff(0) == timedelta(seconds=3)


def test_the_backoff_scales_with_the_configured_base() -> None:
    assert DeliveryPolicy(backoff_base=timedelta(milliseconds=250)).backoff(3) == timedelta(seconds=1)
