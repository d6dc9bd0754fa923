"""Delivery adapters against real endpoints: a local SMTP server (aiosmtpd) and the log file."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from domain.notifications import Notification, NotificationKind
from domain.user import Email
from infrastructure.notifiers.log_file import LogFileNotifier
from infrastructure.notifiers.smtp import SmtpConfig, SmtpNotifier
from tests.live_server import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"



def _notification(message: str = "hello there") -> Notification:
    return Notification.queue(id=uuid.uuid4(), user_id=uuid.uuid4(), kind=NotificationKind.NEW_LOGIN,
                              message=message, now=datetime.now(UTC))


async def test_the_smtp_notifier_delivers_a_mail_the_server_receives(smtp_server: tuple[int, Inbox]) -> None:
    port, inbox = smtp_server
    notifier = SmtpNotifier(SmtpConfig(host="127.0.0.1", port=port, sender="Gatehouse <gh@example.com>",
                                       tls="none"))
    await notifier.deliver(_notification("Someone signed in"), Email("alice@example.com"))
    assert len(inbox.messages) == 1
    recipients, mail = inbox.messages[0]
    assert recipients == ["alice@example.com"]
    assert mail["Subject"] == "Gatehouse: New sign-in to your account"
    assert "Someone signed in" in mail.get_payload(decode=True).decode()


async def test_the_smtp_notifier_raises_when_no_server_listens() -> None:
    notifier = SmtpNotifier(SmtpConfig(host="127.0.0.1", port=free_port(), sender="gh@example.com",
                                       tls="none", timeout=2))
    with pytest.raises(Exception, match=r"(?i)connect|refused"):
        await notifier.deliver(_notification(), Email("alice@example.com"))


async def test_a_unicode_domain_is_sent_to_as_its_a_label(smtp_server: tuple[int, Inbox]) -> None:
    port, inbox = smtp_server
    notifier = SmtpNotifier(SmtpConfig(host="127.0.0.1", port=port, sender="gh@example.com", tls="none"))
    await notifier.deliver(_notification(), Email.parse("anna@bücher.example"))
    [(recipients, mail)] = inbox.messages
    assert recipients == ["anna@xn--bcher-kva.example"]
    assert mail["To"] == "anna@xn--bcher-kva.example"


class SlowInbox(Inbox):
    """Answers every step a little under the per-step timeout: slow, but never one step too slow."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,  # noqa: N802
                          responses: list[str]) -> list[str]:
        await asyncio.sleep(self.delay)
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          mail_options: list[str]) -> str:
        await asyncio.sleep(self.delay)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        await asyncio.sleep(self.delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


async def test_a_delivery_ends_within_its_timeout_however_slowly_each_step_is_answered() -> None:
    """Each step alone is inside the timeout; together they are not. The delivery gives up at the
    timeout (inside the lease it was claimed under), so no other worker can claim and send it too."""
    inbox = SlowInbox(delay=0.6)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        notifier = SmtpNotifier(SmtpConfig(host="127.0.0.1", port=port, sender="gh@example.com", tls="none",
                                           timeout=1.5))
        with pytest.raises(TimeoutError):
            await notifier.deliver(_notification(), Email("alice@example.com"))
    finally:
        controller.stop()
    assert inbox.messages == []


async def test_the_log_file_notifier_appends_one_json_line_each(tmp_path: Path) -> None:
    path = tmp_path / "out" / "notifications.log"
    notifier = LogFileNotifier(path)
    first, second = _notification("one"), _notification("two")
    await notifier.deliver(first, Email("a@example.com"))
    await notifier.deliver(second, Email("b@example.com"))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(line["id"], line["to"], line["message"]) for line in lines] == [
        (str(first.id), "a@example.com", "one"), (str(second.id), "b@example.com", "two")]
