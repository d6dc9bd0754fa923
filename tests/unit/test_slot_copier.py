"""slot_copier: a shallow copy equal to the original, independent of it, for slotted classes only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.user import Email, PasswordHash, User
from infrastructure.utils.copying import slot_copier


def test_a_copy_is_equal_and_independent() -> None:
    now = datetime.now(UTC)
    user = User(id=uuid4(), email=Email("a@example.com"), password_hash=PasswordHash("$argon2id$x"), full_name="A",
                created_at=now, updated_at=now, roles=("admin",), disabled_reason=None)
    copy = slot_copier(User)(user)
    assert copy == user
    assert copy is not user
    copy.rename("B", now)
    copy.roles = ()
    assert (user.full_name, user.roles) == ("A", ("admin",))


@dataclass
class Plain:
    value: int


@dataclass(slots=True, frozen=True)
class Frozen:
    value: int


@dataclass(slots=True)
class Base:
    value: int


@dataclass(slots=True)
class Derived(Base):
    more: list[int] = field(default_factory=list)


@dataclass(slots=True, weakref_slot=True)
class WeaklyReferenced:
    value: int


class Private:
    __slots__ = ("__secret",)


def test_a_weakref_slot_is_not_copied() -> None:
    copy = slot_copier(WeaklyReferenced)(WeaklyReferenced(7))
    assert copy == WeaklyReferenced(7)


@pytest.mark.parametrize("cls", [Plain, Frozen, Derived, Private])
def test_only_for_classes_with_all_their_state_in_their_own_slots(cls: type) -> None:
    with pytest.raises(TypeError):
        slot_copier(cls)
