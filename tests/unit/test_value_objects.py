"""Value objects: Email normalisation and invariants, TokenDigest, PasswordHash privacy."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import timedelta
from uuid import UUID

import pytest

from domain.errors import InvalidEmail
from domain.tokens import TokenDigest
from domain.user import MAX_EMAIL_LENGTH, Email, PasswordHash, User
from tests.fakes import T0

# -- Email --------------------------------------------------------------------------------------------


def test_parsing_an_email_trims_surrounding_whitespace() -> None:
    assert Email.parse("  \talice@example.com \n").value == "alice@example.com"


def test_parsing_an_email_lowercases_the_whole_address_local_part_included() -> None:
    assert Email.parse("Alice.Smith@Example.COM").value == "alice.smith@example.com"


def test_parsing_an_email_composes_decomposed_characters_to_nfc() -> None:
    decomposed = "jose\u0301@example.com"  # e + COMBINING ACUTE ACCENT

    email = Email.parse(decomposed)

    assert email.value == "jos\u00e9@example.com"
    assert unicodedata.is_normalized("NFC", email.value)


def test_parsing_an_email_lowercases_non_ascii_letters() -> None:
    assert Email.parse("J\u00d6RG@B\u00dcCHER.DE").value == "j\u00f6rg@b\u00fccher.de"


def test_spellings_of_one_address_parse_to_equal_emails() -> None:
    spellings = ["Jos\u00e9@Example.com", " jose\u0301@EXAMPLE.COM", "JOSE\u0301@example.com  "]

    assert {Email.parse(s) for s in spellings} == {Email("jos\u00e9@example.com")}


def test_parsing_an_address_whose_lowercase_form_is_not_nfc_still_gives_an_nfc_address() -> None:
    # U+0130 (I WITH DOT ABOVE) lowercases to i + U+0307; followed by U+0316 (combining class 220) the
    # lowercased marks are out of canonical order, so the lowercased text is no longer NFC.
    email = Email.parse("x\u0130\u0316@example.com")

    assert unicodedata.is_normalized("NFC", email.value)
    assert email.value == unicodedata.normalize("NFC", "xi\u0307\u0316@example.com")


def test_an_email_renders_as_its_normalized_value() -> None:
    assert str(Email.parse(" Bob@Example.org")) == "bob@example.org"


@pytest.mark.parametrize("raw", ["Alice@example.com", " alice@example.com", "jose\u0301@example.com"])
def test_constructing_an_email_from_a_value_that_is_not_normalized_is_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        Email(raw)


@pytest.mark.parametrize("raw", ["", "   ", "alice.example.com"])
def test_an_empty_address_or_one_without_an_at_sign_is_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        Email.parse(raw)


def test_an_address_longer_than_the_limit_is_refused() -> None:
    local = "a" * (MAX_EMAIL_LENGTH - len("@example.com") + 1)

    with pytest.raises(InvalidEmail):
        Email.parse(f"{local}@example.com")


def test_an_address_exactly_at_the_length_limit_is_accepted() -> None:
    local = "a" * (MAX_EMAIL_LENGTH - len("@example.com"))

    assert len(Email.parse(f"{local}@example.com").value) == MAX_EMAIL_LENGTH


def test_an_email_is_immutable() -> None:
    email = Email.parse("alice@example.com")

    with pytest.raises(AttributeError):
        email.value = "mallory@example.com"  # type: ignore[misc]


# -- PasswordHash -------------------------------------------------------------------------------------


def test_a_password_hash_never_shows_in_its_repr() -> None:
    assert "s3cret-hash" not in repr(PasswordHash("s3cret-hash"))


def test_a_user_never_shows_its_password_hash_in_its_repr() -> None:
    user = User(id=UUID(int=1), email=Email.parse("alice@example.com"), password_hash=PasswordHash("s3cret-hash"),
                full_name="Alice", created_at=T0, updated_at=T0)

    assert "s3cret-hash" not in repr(user)
    assert "alice@example.com" in repr(user)


def test_changing_a_users_password_hash_stamps_the_update_time() -> None:
    user = User(id=UUID(int=1), email=Email.parse("alice@example.com"), password_hash=PasswordHash("old"),
                full_name=None, created_at=T0, updated_at=T0)

    user.change_password_hash(PasswordHash("new"), T0 + timedelta(hours=1))

    assert user.password_hash == PasswordHash("new")
    assert user.updated_at == T0 + timedelta(hours=1)
    assert user.created_at == T0


# -- TokenDigest --------------------------------------------------------------------------------------


def test_a_token_digest_is_the_sha256_hex_of_the_token() -> None:
    assert TokenDigest.of("opaque-token").value == hashlib.sha256(b"opaque-token").hexdigest()


def test_the_same_token_always_gives_the_same_digest_and_different_tokens_differ() -> None:
    assert TokenDigest.of("a") == TokenDigest.of("a")
    assert TokenDigest.of("a") != TokenDigest.of("b")


def test_a_digest_matches_only_an_equal_digest() -> None:
    digest = TokenDigest.of("token")

    assert digest.matches(TokenDigest.of("token"))
    assert not digest.matches(TokenDigest.of("token2"))


def test_a_digest_never_contains_the_token_itself() -> None:
    assert "my-refresh-token" not in TokenDigest.of("my-refresh-token").value


@pytest.mark.parametrize("value", [
    "",
    "a" * 63,
    "a" * 65,
    "A" * 64,  # uppercase hex is not the canonical form
    "g" * 64,
    "0123456789abcdef" * 3 + "0123456789abcde ",
])
def test_a_digest_must_be_64_lowercase_hex_characters(value: str) -> None:
    with pytest.raises(ValueError, match="64 lowercase hex"):
        TokenDigest(value)


def test_a_digest_of_64_lowercase_hex_characters_is_accepted() -> None:
    assert TokenDigest("0123456789abcdef" * 4).value == "0123456789abcdef" * 4


@pytest.mark.parametrize(("raw", "stored"), [
    ("a@ｅxample.com", "a@example.com"),  # NFKC: fullwidth letters are the ASCII ones
    ("Ａlice@Example.COM", "alice@example.com"),
    ("ﬁnn@example.com", "finn@example.com"),
    ("a@xn--bcher-kva.example", "a@bücher.example"),  # IDNA: the A-label is the U-label, kept in Unicode
    ("a@BÜCHER.example", "a@bücher.example"),
])
def test_every_spelling_of_one_mailbox_is_stored_as_one(raw: str, stored: str) -> None:
    assert Email.parse(raw).value == stored


def test_an_address_stored_under_the_earlier_rule_is_still_an_address() -> None:
    """Accounts that collided when the rule changed keep their v1 (NFC) spelling (migration 0006)."""
    assert Email("a@ｅxample.com").value == "a@ｅxample.com"
    assert Email.earlier_spelling(" A@ｅxample.com") == "a@ｅxample.com"
