"""Finding the account of an address as a person typed it: one rule for login and password reset."""

from __future__ import annotations

from application.unit_of_work import UnitOfWork
from domain.errors import InvalidEmail
from domain.user import Email, User


async def account_of(uow: UnitOfWork, typed: str) -> User | None:
    """The account of the address's one spelling; or, for an account left in its earlier spelling because
    it collided with another (domain/user.py), the account of exactly that spelling."""
    normalized, earlier = Email.normalize(typed), Email.earlier_spelling(typed)
    try:
        spellings = [Email(earlier)] if earlier != normalized else []
        spellings.append(Email(normalized))
    except InvalidEmail:
        return None
    for email in spellings:
        user = await uow.users.get_by_email(email)
        if user is not None:
            return user
    return None
