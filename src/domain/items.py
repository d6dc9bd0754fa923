"""Items: the API's own protected resources, owned by the user who created them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

T = TypeVar("T")

MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000
NO_SUCH_ITEM = "No such item"  # also the answer for another user's item: ownership is not revealed


@dataclass(slots=True, kw_only=True)
class Item:
    id: UUID
    owner_id: UUID
    title: str
    description: str | None
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        check_title(self.title)
        check_description(self.description)

    def is_owned_by(self, user_id: UUID) -> bool:
        return self.owner_id == user_id

    def edit(self, *, now: datetime, title: str | None = None, description: str | None = None,
             set_description: bool = False) -> None:
        """Change only what was given; `set_description` distinguishes "set to null" from "leave"."""
        if title is not None:
            check_title(title)
            self.title = title
        if set_description:
            check_description(description)
            self.description = description
        self.updated_at = now


def check_title(title: str) -> str:
    """The title rule (the request schema applies it too, so a bad title is a 422, never a 500)."""
    if not title.strip() or len(title) > MAX_TITLE_LENGTH:
        raise ValueError(f"title must be 1 to {MAX_TITLE_LENGTH} characters, not blank")
    return title


def check_description(description: str | None) -> str | None:
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        raise ValueError(f"description must be at most {MAX_DESCRIPTION_LENGTH} characters")
    return description


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
