"""SMTP delivery with aiosmtplib (async all the way: a slow mail server never blocks the loop)."""

from __future__ import annotations

import asyncio
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
    product_name: str = "Gatehouse"


class SmtpNotifier(Notifier):
    mails_people = True

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def deliver(self, notification: Notification, recipient: Email, link: str | None = None) -> None:
        message = EmailMessage()
        message["From"] = self._config.sender
        to = recipient.with_ascii_domain()  # a Unicode domain as its A-label: no SMTPUTF8 needed for it
        message["To"] = to
        message["Subject"] = f"{self._config.product_name}: {notification.subject}"
        message["Message-ID"] = make_msgid(idstring=notification.id.hex, domain="gatehouse")
        # Quoted-printable: a long link is soft-wrapped in transit and whole again in the decoded text.
        message.set_content(notification.mail_text(link), cte="quoted-printable")
        c = self._config
        import aiosmtplib  # only processes that send mail load it

        # `timeout` bounds each step; the whole delivery is bounded too, so it ends inside the lease it
        # was claimed under (settings: lease >= timeout + 2) however slowly the server answers each step,
        # and no other worker can claim it meanwhile and send it again.
        async with asyncio.timeout(c.timeout):
            await aiosmtplib.send(
                message, recipients=[to], hostname=c.host, port=c.port, username=c.username,
                password=c.password, use_tls=c.tls == "tls", start_tls=c.tls == "starttls", timeout=c.timeout,
            )
