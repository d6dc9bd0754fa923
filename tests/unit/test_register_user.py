"""RegisterUser over the fakes."""

from __future__ import annotations

import pytest

from application.dto import RegisterCommand
from domain.errors import EmailTaken, InvalidEmail, WeakPassword
from domain.user import MAX_PASSWORD_LENGTH, Email, PasswordHash
from tests.fakes import T0
from tests.unit.conftest import PASSWORD, Gatehouse


async def test_registering_stores_a_user_with_a_normalized_email_and_hashed_password(gatehouse: Gatehouse) -> None:
    user = await gatehouse.container.register_user().execute(
        RegisterCommand("  Alice@Example.COM ", PASSWORD, "Alice Liddell"))

    stored = gatehouse.store.users[user.id]
    assert stored.email == Email("alice@example.com")
    assert stored.full_name == "Alice Liddell"
    assert stored.created_at == stored.updated_at == T0
    assert stored.password_hash == PasswordHash(f"fake$v1${PASSWORD}")
    assert gatehouse.commits == 1


async def test_the_registered_user_is_returned_as_stored(gatehouse: Gatehouse) -> None:
    user = await gatehouse.sign_up("bob@example.com")

    assert user == gatehouse.store.users[user.id]


async def test_registering_without_a_full_name_leaves_it_null(gatehouse: Gatehouse) -> None:
    user = await gatehouse.sign_up()

    assert user.full_name is None


async def test_registering_an_email_that_is_taken_in_another_spelling_is_refused(gatehouse: Gatehouse) -> None:
    await gatehouse.sign_up("alice@example.com")

    with pytest.raises(EmailTaken):
        await gatehouse.sign_up(" ALICE@example.com")

    assert len(gatehouse.store.users) == 1


@pytest.mark.parametrize("password", ["", "short", "7-chars"])
async def test_a_password_shorter_than_eight_characters_is_refused(gatehouse: Gatehouse, password: str) -> None:
    with pytest.raises(WeakPassword, match="at least 8") as caught:
        await gatehouse.sign_up(password=password)

    assert caught.value.field == "password"
    assert gatehouse.store.users == {}


async def test_a_password_of_exactly_eight_characters_is_accepted(gatehouse: Gatehouse) -> None:
    user = await gatehouse.sign_up(password="8-chars!")

    assert user.id in gatehouse.store.users


async def test_a_password_longer_than_the_limit_is_refused(gatehouse: Gatehouse) -> None:
    with pytest.raises(WeakPassword, match="at most"):
        await gatehouse.sign_up(password="x" * (MAX_PASSWORD_LENGTH + 1))

    assert gatehouse.store.users == {}


async def test_a_password_at_the_length_limit_is_accepted(gatehouse: Gatehouse) -> None:
    user = await gatehouse.sign_up(password="x" * MAX_PASSWORD_LENGTH)

    assert user.id in gatehouse.store.users


@pytest.mark.parametrize("password", ["password123", "PASSWORD123", "PassWord123", "QwertyUiop"])
async def test_a_common_password_is_refused_whatever_its_case(gatehouse: Gatehouse, password: str) -> None:
    with pytest.raises(WeakPassword, match="common"):
        await gatehouse.sign_up(password=password)

    assert gatehouse.store.users == {}


async def test_an_address_without_an_at_sign_is_refused(gatehouse: Gatehouse) -> None:
    with pytest.raises(InvalidEmail):
        await gatehouse.sign_up("not-an-email")

    assert gatehouse.store.users == {}


async def test_the_password_is_stored_only_as_the_hashers_output(gatehouse: Gatehouse) -> None:
    gatehouse.hasher.version = "v9"

    user = await gatehouse.sign_up()

    assert gatehouse.store.users[user.id].password_hash.value == f"fake$v9${PASSWORD}"
