"""Item use cases over the fakes: ownership isolation, pagination, partial updates."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from application.dto import ItemChanges
from domain.errors import NotFound
from domain.items import Item
from domain.tokens import Principal
from tests.fakes import T0
from tests.unit.conftest import Gatehouse


async def principal_for(gatehouse: Gatehouse, email: str) -> Principal:
    await gatehouse.sign_up(email)
    return await gatehouse.principal(await gatehouse.sign_in(email))


@pytest.fixture
async def alice(gatehouse: Gatehouse) -> Principal:
    return await principal_for(gatehouse, "alice@example.com")


@pytest.fixture
async def bob(gatehouse: Gatehouse) -> Principal:
    return await principal_for(gatehouse, "bob@example.com")


async def create(gatehouse: Gatehouse, owner: Principal, title: str = "Groceries",
                 description: str | None = "milk") -> Item:
    return await gatehouse.container.create_item().execute(owner, title, description)


async def test_creating_an_item_stores_it_for_the_caller(gatehouse: Gatehouse, alice: Principal) -> None:
    item = await create(gatehouse, alice)

    stored = gatehouse.store.items[item.id]
    assert stored.owner_id == alice.user_id
    assert (stored.title, stored.description) == ("Groceries", "milk")
    assert stored.created_at == stored.updated_at == T0


async def test_creating_an_item_with_a_blank_title_stores_nothing(gatehouse: Gatehouse, alice: Principal) -> None:
    with pytest.raises(ValueError, match="title"):
        await create(gatehouse, alice, title="  ")

    assert gatehouse.store.items == {}


async def test_reading_my_item_returns_it(gatehouse: Gatehouse, alice: Principal) -> None:
    item = await create(gatehouse, alice)

    assert await gatehouse.container.get_item().execute(alice, item.id) == item


async def test_reading_another_users_item_is_not_found(gatehouse: Gatehouse, alice: Principal,
                                                       bob: Principal) -> None:
    item = await create(gatehouse, alice)

    with pytest.raises(NotFound) as foreign:
        await gatehouse.container.get_item().execute(bob, item.id)
    with pytest.raises(NotFound) as missing:
        await gatehouse.container.get_item().execute(bob, UUID(int=999_999))

    assert foreign.value.detail == missing.value.detail


async def test_changing_another_users_item_is_not_found_and_changes_nothing(
        gatehouse: Gatehouse, alice: Principal, bob: Principal) -> None:
    item = await create(gatehouse, alice)

    with pytest.raises(NotFound):
        await gatehouse.container.update_item().execute(bob, item.id, ItemChanges(title="Hijacked"))

    assert gatehouse.store.items[item.id].title == "Groceries"


async def test_deleting_another_users_item_is_not_found_and_keeps_it(
        gatehouse: Gatehouse, alice: Principal, bob: Principal) -> None:
    item = await create(gatehouse, alice)

    with pytest.raises(NotFound):
        await gatehouse.container.delete_item().execute(bob, item.id)

    assert item.id in gatehouse.store.items


async def test_deleting_my_item_removes_it(gatehouse: Gatehouse, alice: Principal) -> None:
    item = await create(gatehouse, alice)

    await gatehouse.container.delete_item().execute(alice, item.id)

    assert item.id not in gatehouse.store.items
    with pytest.raises(NotFound):
        await gatehouse.container.get_item().execute(alice, item.id)


async def test_deleting_an_item_twice_is_not_found_the_second_time(gatehouse: Gatehouse, alice: Principal) -> None:
    item = await create(gatehouse, alice)
    await gatehouse.container.delete_item().execute(alice, item.id)

    with pytest.raises(NotFound):
        await gatehouse.container.delete_item().execute(alice, item.id)


async def test_listing_shows_only_my_items(gatehouse: Gatehouse, alice: Principal, bob: Principal) -> None:
    mine = await create(gatehouse, alice, "mine")
    await create(gatehouse, bob, "theirs")

    page = await gatehouse.container.list_items().execute(alice, 50, 0)

    assert [i.id for i in page.items] == [mine.id]
    assert page.total == 1


async def test_listing_pages_through_my_items_newest_first(gatehouse: Gatehouse, alice: Principal) -> None:
    titles = [f"item {n}" for n in range(5)]
    for title in titles:
        await create(gatehouse, alice, title)
        gatehouse.clock.advance(minutes=1)

    first = await gatehouse.container.list_items().execute(alice, 2, 0)
    second = await gatehouse.container.list_items().execute(alice, 2, 2)
    last = await gatehouse.container.list_items().execute(alice, 2, 4)

    assert [i.title for i in first.items] == ["item 4", "item 3"]
    assert [i.title for i in second.items] == ["item 2", "item 1"]
    assert [i.title for i in last.items] == ["item 0"]
    assert first.total == second.total == last.total == 5


async def test_an_offset_past_the_end_gives_an_empty_page_with_the_total(gatehouse: Gatehouse,
                                                                          alice: Principal) -> None:
    await create(gatehouse, alice)

    page = await gatehouse.container.list_items().execute(alice, 10, 5)

    assert page.items == []
    assert page.total == 1


async def test_patching_only_the_title_leaves_the_description(gatehouse: Gatehouse, alice: Principal) -> None:
    item = await create(gatehouse, alice)
    gatehouse.clock.advance(minutes=5)

    updated = await gatehouse.container.update_item().execute(alice, item.id, ItemChanges(title="Errands"))

    stored = gatehouse.store.items[item.id]
    assert (stored.title, stored.description) == ("Errands", "milk")
    assert stored.updated_at == T0 + timedelta(minutes=5)
    assert stored.created_at == T0
    assert updated == stored


async def test_patching_only_the_description_leaves_the_title(gatehouse: Gatehouse, alice: Principal) -> None:
    item = await create(gatehouse, alice)

    await gatehouse.container.update_item().execute(alice, item.id,
                                                    ItemChanges(description="bread", description_given=True))

    stored = gatehouse.store.items[item.id]
    assert (stored.title, stored.description) == ("Groceries", "bread")


async def test_patching_the_description_to_null_clears_it(gatehouse: Gatehouse, alice: Principal) -> None:
    item = await create(gatehouse, alice)

    await gatehouse.container.update_item().execute(alice, item.id,
                                                    ItemChanges(description=None, description_given=True))

    assert gatehouse.store.items[item.id].description is None


async def test_a_patch_that_does_not_mention_the_description_keeps_it(gatehouse: Gatehouse, alice: Principal) -> None:
    item = await create(gatehouse, alice)

    await gatehouse.container.update_item().execute(alice, item.id, ItemChanges())

    stored = gatehouse.store.items[item.id]
    assert (stored.title, stored.description) == ("Groceries", "milk")
