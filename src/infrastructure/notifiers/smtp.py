"""SMTP delivery with aiosmtplib (async all the way: a slow mail server never blocks the loop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid

from domain.notifications import Notification
from domain.ports import Notifier
from domain.user import Email


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    tls: str = "starttls"  # "none", "starttls" or "tls" (implicit TLS)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0


class SmtpNotifier(Notifier):
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def deliver(self, notification: Notification, recipient: Email) -> None:
        message = EmailMessage()
        message["From"] = self._config.sender
        message["To"] = recipient.value
        message["Subject"] = notification.subject
        message["Message-ID"] = make_msgid(idstring=notification.id.hex, domain="gatehouse")
        message.set_content(notification.message)
        c = self._config
        import aiosmtplib  # only processes that send mail load it

        await aiosmtplib.send(
            message, hostname=c.host, port=c.port, username=c.username, password=c.password,
            use_tls=c.tls == "tls", start_tls=c.tls == "starttls",
            timeout=c.timeout,
        )
