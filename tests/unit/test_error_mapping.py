"""Every DomainError has an explicit HTTP status: nothing unmapped falls through to a default."""

from __future__ import annotations

import pytest

import api.app  # noqa: F401 - imports every module that could define a DomainError subclass
from api.errors import STATUS, status_of
from domain import errors as e


def all_subclasses(cls: type[e.DomainError]) -> list[type[e.DomainError]]:
    found: list[type[e.DomainError]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(all_subclasses(sub))
    return found


DOMAIN_ERRORS = sorted(set(all_subclasses(e.DomainError)), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def bare(cls: type[e.DomainError]) -> e.DomainError:
    """An instance without running __init__: status_of looks at the class only, whatever its signature."""
    return cls.__new__(cls)


def test_the_walk_finds_the_domain_errors() -> None:
    assert {e.EmailTaken, e.RateLimited, e.InvalidRefreshToken, e.StorageUnavailable} <= set(DOMAIN_ERRORS)


@pytest.mark.parametrize("error_class", DOMAIN_ERRORS, ids=lambda c: c.__name__)
def test_every_domain_error_has_its_own_explicit_error_status(error_class: type[e.DomainError]) -> None:
    assert error_class in STATUS, f"{error_class.__name__} is missing from api.errors.STATUS"
    status = status_of(bare(error_class))
    assert status == STATUS[error_class]
    assert 400 <= status <= 599


@pytest.mark.parametrize("error_class", DOMAIN_ERRORS, ids=lambda c: c.__name__)
def test_every_domain_error_carries_its_own_code_and_title(error_class: type[e.DomainError]) -> None:
    assert error_class.code != e.DomainError.code
    assert error_class.title != e.DomainError.title


@pytest.mark.parametrize(("error", "status"), [
    (e.EmailTaken(), 409),
    (e.WeakPassword("too short"), 422),
    (e.InvalidEmail(), 422),
    (e.InvalidCredentials(), 401),
    (e.WrongCurrentPassword(), 400),
    (e.RateLimited(30), 429),
    (e.InvalidRefreshToken(), 401),
    (e.NotAuthenticated(), 401),
    (e.InvalidToken(), 401),
    (e.NotFound(), 404),
    (e.StorageUnavailable(), 503),
], ids=lambda v: type(v).__name__ if isinstance(v, e.DomainError) else str(v))
def test_domain_errors_map_to_the_statuses_of_the_contract(error: e.DomainError, status: int) -> None:
    assert status_of(error) == status


@pytest.mark.parametrize(("error", "code"), [
    (e.EmailTaken(), "email_taken"),
    (e.WeakPassword("too short"), "validation_error"),
    (e.InvalidEmail(), "validation_error"),
    (e.InvalidCredentials(), "invalid_credentials"),
    (e.WrongCurrentPassword(), "invalid_credentials"),
    (e.RateLimited(30), "rate_limited"),
    (e.InvalidRefreshToken(), "invalid_refresh_token"),
    (e.NotAuthenticated(), "not_authenticated"),
    (e.InvalidToken(), "invalid_token"),
    (e.NotFound(), "not_found"),
], ids=lambda v: type(v).__name__ if isinstance(v, e.DomainError) else str(v))
def test_domain_errors_carry_the_codes_of_the_contract(error: e.DomainError, code: str) -> None:
    assert error.code == code


def test_a_rate_limit_error_never_asks_to_wait_less_than_a_second() -> None:
    assert e.RateLimited(0).retry_after_seconds == 1
    assert e.RateLimited(-5).retry_after_seconds == 1
    assert e.RateLimited(42).retry_after_seconds == 42


def test_an_error_without_detail_uses_its_title() -> None:
    error = e.NotFound()

    assert error.detail == "Not found"
