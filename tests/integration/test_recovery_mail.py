"""Recovery mail through a real SMTP server (aiosmtpd in the test process): what the user receives, what an
unproven address is never sent, and what never reaches the database or the log in clear."""

from __future__ import annotations

import asyncio
import logging
import re
from email.message import Message
from typing import Any

import pytest

from tests.api.helpers import PASSWORD, account, assert_problem, login
from tests.conftest import AppFactory, client_for
from tests.integration.test_notifiers import Inbox

LINK_LINE = re.compile(r"^http://gatehouse\.test/(reset-password|verify-email)#token=([A-Za-z0-9_-]{43,})\r?$",
                       re.MULTILINE)


def _text(mail: Message) -> str:
    """The decoded text body (quoted-printable in transit)."""
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(mail.get_content_charset() or "utf-8")


async def _mail(inbox: Inbox, to: str, subject_end: str, seconds: float = 10) -> Message:
    for _ in range(int(seconds * 20)):
        for recipients, mail in inbox.messages:
            if to in recipients and mail["Subject"].endswith(subject_end):
                return mail  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail {subject_end!r} to {to}: {[(r, m['Subject']) for r, m in inbox.messages]}")


@pytest.fixture
async def mailing_app(app_factory: AppFactory, smtp_server: tuple[int, Inbox]) -> Any:
    port, _ = smtp_server
    app, container = await app_factory(notifier="smtp", smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none",
                                       smtp_sender="Example Auth <auth@example.com>", product_name="Example")
    return app, container


async def test_an_unproven_address_gets_only_its_verification_mail_until_it_confirms(
        mailing_app: Any, smtp_server: tuple[int, Inbox]) -> None:
    app, _ = mailing_app
    _, inbox = smtp_server
    async with client_for(app) as client:
        alice = await account(client)
        mail = await _mail(inbox, alice.email, "Confirm your email address")
        assert mail["Subject"] == "Example: Confirm your email address"
        assert mail["From"] == "Example Auth <auth@example.com>"
        text = _text(mail)
        [(page, token)] = LINK_LINE.findall(text)
        assert page == "verify-email"
        assert "UTC" in text
        assert "If this was not you" in text
        withheld = await client.post("/notifications", json={"message": "to an unproven address"}, headers=alice.auth)
        listed = {n["id"]: n for n in (await client.get("/notifications", headers=alice.auth)).json()}
        assert listed[withheld.json()["id"]]["status"] == "withheld"
        assert listed[withheld.json()["id"]]["delivered_at"] is None
        assert {n["status"] for n in listed.values() if n["kind"] == "new_login"} == {"withheld"}

        confirmed = await client.post("/auth/email-verification/confirm", json={"token": token})
        assert confirmed.status_code == 200, confirmed.text
        sent = await client.post("/notifications", json={"message": "now it is proven"}, headers=alice.auth)
        await _mail(inbox, alice.email, "A message from your account")
        listed = {n["id"]: n for n in (await client.get("/notifications", headers=alice.auth)).json()}
        assert listed[sent.json()["id"]]["status"] == "delivered"
        assert listed[withheld.json()["id"]]["status"] == "withheld"  # final: never mailed later
    subjects = [m["Subject"] for recipients, m in inbox.messages if alice.email in recipients]
    assert subjects == ["Example: Confirm your email address", "Example: A message from your account"]


async def test_the_reset_mail_carries_the_link_alone_on_a_line_and_nothing_leaks_to_the_log(
        mailing_app: Any, smtp_server: tuple[int, Inbox], caplog: pytest.LogCaptureFixture) -> None:
    app, _ = mailing_app
    _, inbox = smtp_server
    caplog.set_level(logging.DEBUG)
    async with client_for(app) as client:
        alice = await account(client)
        assert (await client.post("/auth/password-reset", json={"email": alice.email})).status_code == 202
        mail = await _mail(inbox, alice.email, "Reset your password")
        text = _text(mail)
        [(page, token)] = LINK_LINE.findall(text)
        assert page == "reset-password"
        assert "If this was not you" in text
        assert re.search(r"until \d\d:\d\d UTC on ", text)
        confirm = await client.post("/auth/password-reset/confirm",
                                    json={"token": token, "new_password": "a brand new passphrase 42"})
        assert confirm.status_code == 204
        assert_problem(await client.post("/auth/login", json={"email": alice.email, "password": PASSWORD}), 401)
        await login(client, alice.email, "a brand new passphrase 42")
        changed = await _mail(inbox, alice.email, "Your password was changed")
        assert token not in _text(changed)
    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert token not in logged


async def test_a_change_of_address_mails_the_new_address_a_link_and_tells_the_old_one_before_and_after(
        mailing_app: Any, smtp_server: tuple[int, Inbox]) -> None:
    app, _ = mailing_app
    _, inbox = smtp_server
    async with client_for(app) as client:
        alice = await account(client)
        [(_, first)] = LINK_LINE.findall(_text(await _mail(inbox, alice.email, "Confirm your email address")))
        assert (await client.post("/auth/email-verification/confirm", json={"token": first})).status_code == 200
        new = f"moved-{alice.email}"
        moved = await client.post("/users/me/email", headers=alice.auth,
                                  json={"new_email": new, "current_password": PASSWORD})
        assert moved.status_code == 202
        notice = await _mail(inbox, alice.email, "A change of your email address was requested")
        assert new in _text(notice)
        [(_, token)] = LINK_LINE.findall(_text(await _mail(inbox, new, "Confirm your email address")))
        assert (await client.post("/auth/email-verification/confirm", json={"token": token})).status_code == 200
        after = await _mail(inbox, alice.email, "Your email address was changed")
        assert new in _text(after)
        assert not LINK_LINE.findall(_text(after))
