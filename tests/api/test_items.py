"""The /items resource: CRUD, ownership, pagination."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.helpers import Account, account, assert_problem, parse_time

ITEM_FIELDS = {"id", "title", "description", "created_at", "updated_at"}


async def _create(client: httpx.AsyncClient, who: Account, title: str = "Buy milk",
                  **fields: Any) -> dict[str, Any]:
    response = await client.post("/items/", json={"title": title, **fields}, headers=who.auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


# --- POST /items/ --------------------------------------------------------------------------------

async def test_creating_an_item_is_201_with_the_item(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await client.post("/items/", json={"title": "Buy milk", "description": "semi-skimmed"},
                                 headers=alice.auth)
    assert response.status_code == 201, response.text
    item = response.json()
    assert set(item) == ITEM_FIELDS
    uuid.UUID(item["id"])
    assert item["title"] == "Buy milk"
    assert item["description"] == "semi-skimmed"
    assert parse_time(item["created_at"]) == parse_time(item["updated_at"])


async def test_a_description_that_was_never_set_is_null(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert (await _create(client, alice))["description"] is None


async def test_creating_at_items_without_the_slash_works_too(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await client.post("/items", json={"title": "No slash"}, headers=alice.auth)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("body", [{}, {"title": ""}, {"title": "   "}, {"title": "\x1f\u2028"}, {"title": None},
                                  {"title": 7},
                                  {"title": "x" * 201}, {"title": "ok", "description": 5},
                                  {"title": "nul\x00"}, {"title": "ok", "description": "nul\x00"}])
async def test_creating_an_invalid_item_is_422(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    alice = await account(client)
    problem = assert_problem(await client.post("/items/", json=body, headers=alice.auth), 422, "validation_error")
    assert problem["errors"]
    assert (await client.get("/items/", headers=alice.auth)).json()["total"] == 0


async def test_creating_an_item_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/items/", json={"title": "x"}), 401, "not_authenticated")


# --- GET /items/{id} -----------------------------------------------------------------------------

async def test_reading_an_item_returns_it(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    item = await _create(client, alice, description="d")
    response = await client.get(f"/items/{item['id']}", headers=alice.auth)
    assert response.status_code == 200, response.text
    assert response.json() == item


async def test_reading_a_missing_item_is_404_not_found(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert_problem(await client.get(f"/items/{uuid.uuid4()}", headers=alice.auth), 404, "not_found")


async def test_reading_an_item_with_a_non_uuid_id_is_422(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    body = assert_problem(await client.get("/items/123", headers=alice.auth), 422, "validation_error")
    assert any("item_id" in [str(p) for p in e["loc"]] for e in body["errors"]), body


async def test_reading_an_item_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"/items/{uuid.uuid4()}"), 401, "not_authenticated")


# --- isolation -----------------------------------------------------------------------------------

async def test_another_users_item_is_answered_exactly_like_a_missing_one(client: httpx.AsyncClient) -> None:
    alice, mallory = await account(client), await account(client)
    item = await _create(client, alice, description="private")
    missing = f"/items/{uuid.uuid4()}"
    theirs = f"/items/{item['id']}"
    cases = [("GET", None), ("PATCH", {"title": "pwned"}), ("DELETE", None)]
    for method, body in cases:
        foreign = await client.request(method, theirs, json=body, headers=mallory.auth)
        absent = await client.request(method, missing, json=body, headers=mallory.auth)
        assert assert_problem(foreign, 404, "not_found") == assert_problem(absent, 404, "not_found"), method
    assert (await client.get(theirs, headers=alice.auth)).json() == item


async def test_each_user_lists_only_their_own_items(client: httpx.AsyncClient) -> None:
    alice, bob = await account(client), await account(client)
    mine = await _create(client, alice, "alice's")
    await _create(client, bob, "bob's")
    page = (await client.get("/items/", headers=alice.auth)).json()
    assert page == {"items": [mine], "total": 1}


# --- GET /items/ ---------------------------------------------------------------------------------

async def test_listing_items_is_newest_first_with_the_total(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    created = [await _create(client, alice, f"item {n}") for n in range(5)]
    response = await client.get("/items/", headers=alice.auth)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 5
    assert [i["id"] for i in page["items"]] == [i["id"] for i in reversed(created)]


async def test_an_empty_list_is_an_empty_page(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert (await client.get("/items/", headers=alice.auth)).json() == {"items": [], "total": 0}


async def test_limit_and_offset_page_through_the_items(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    created = [await _create(client, alice, f"item {n}") for n in range(5)]
    newest_first = [i["id"] for i in reversed(created)]
    seen: list[str] = []
    for offset in (0, 2, 4):
        page = (await client.get("/items/", params={"limit": 2, "offset": offset}, headers=alice.auth)).json()
        assert page["total"] == 5
        seen += [i["id"] for i in page["items"]]
    assert seen == newest_first


async def test_the_default_limit_is_50(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    for n in range(51):
        await _create(client, alice, f"item {n}")
    page = (await client.get("/items/", headers=alice.auth)).json()
    assert page["total"] == 51
    assert len(page["items"]) == 50


async def test_an_offset_past_the_end_gives_an_empty_page(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    await _create(client, alice)
    response = await client.get("/items/", params={"offset": 10}, headers=alice.auth)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "total": 1}


@pytest.mark.parametrize("offset", [2**31, 2**53])
async def test_a_very_large_offset_gives_an_empty_page(client: httpx.AsyncClient, offset: int) -> None:
    alice = await account(client)
    await _create(client, alice)
    response = await client.get("/items/", params={"offset": offset}, headers=alice.auth)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "total": 1}


@pytest.mark.parametrize("offset", [2**63, 2**64 + 1, 10**30])
async def test_an_offset_beyond_64_bits_is_never_a_server_error(client: httpx.AsyncClient, offset: int) -> None:
    alice = await account(client)
    response = await client.get("/items/", params={"offset": offset}, headers=alice.auth)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["items"] == []


@pytest.mark.parametrize("limit", [1, 100])
async def test_a_limit_of_1_to_100_is_accepted(client: httpx.AsyncClient, limit: int) -> None:
    alice = await account(client)
    await _create(client, alice)
    await _create(client, alice)
    response = await client.get("/items/", params={"limit": limit}, headers=alice.auth)
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == min(limit, 2)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": -1}, {"limit": "ten"},
                                    {"offset": -1}, {"offset": "x"}])
async def test_a_limit_outside_1_to_100_or_a_negative_offset_is_422(client: httpx.AsyncClient,
                                                                     params: dict[str, Any]) -> None:
    alice = await account(client)
    response = await client.get("/items/", params=params, headers=alice.auth)
    body = assert_problem(response, 422, "validation_error")
    [name] = params
    assert any(e["loc"] == ["query", name] for e in body["errors"]), body


async def test_items_with_and_without_the_trailing_slash_both_answer_200_directly(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    await _create(client, alice)
    for path in ("/items", "/items/"):
        response = await client.get(path, headers=alice.auth)
        assert response.status_code == 200, (path, response.status_code, response.headers)
        assert response.json()["total"] == 1


async def test_listing_items_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    for path in ("/items", "/items/"):
        assert_problem(await client.get(path), 401, "not_authenticated")


# --- PATCH /items/{id} ---------------------------------------------------------------------------

async def test_patching_the_title_leaves_the_description(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    item = await _create(client, alice, "old", description="keep me")
    response = await client.patch(f"/items/{item['id']}", json={"title": "new"}, headers=alice.auth)
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["title"] == "new"
    assert patched["description"] == "keep me"
    assert patched["id"] == item["id"]
    assert patched["created_at"] == item["created_at"]
    assert parse_time(patched["updated_at"]) >= parse_time(item["updated_at"])
    assert (await client.get(f"/items/{item['id']}", headers=alice.auth)).json() == patched


async def test_patching_the_description_leaves_the_title(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    item = await _create(client, alice, "keep me", description="old")
    patched = (await client.patch(f"/items/{item['id']}", json={"description": "new"}, headers=alice.auth)).json()
    assert (patched["title"], patched["description"]) == ("keep me", "new")


async def test_patching_the_description_to_null_clears_it(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    item = await _create(client, alice, description="soon gone")
    response = await client.patch(f"/items/{item['id']}", json={"description": None}, headers=alice.auth)
    assert response.status_code == 200, response.text
    assert response.json()["description"] is None
    assert (await client.get(f"/items/{item['id']}", headers=alice.auth)).json()["description"] is None


async def test_patching_with_no_fields_changes_nothing(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    item = await _create(client, alice, "t", description="d")
    response = await client.patch(f"/items/{item['id']}", json={}, headers=alice.auth)
    assert response.status_code == 200, response.text
    assert (response.json()["title"], response.json()["description"]) == ("t", "d")


@pytest.mark.parametrize("body", [{"title": None}, {"title": ""}, {"title": "  "}, {"title": "x" * 201},
                                  {"description": 3}, {"title": "a\x00b"}])
async def test_an_invalid_patch_is_422_and_changes_nothing(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    alice = await account(client)
    item = await _create(client, alice, "t", description="d")
    response = await client.patch(f"/items/{item['id']}", json=body, headers=alice.auth)
    assert_problem(response, 422, "validation_error")
    assert (await client.get(f"/items/{item['id']}", headers=alice.auth)).json() == item


async def test_patching_a_missing_item_is_404(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await client.patch(f"/items/{uuid.uuid4()}", json={"title": "x"}, headers=alice.auth)
    assert_problem(response, 404, "not_found")


async def test_patching_a_non_uuid_id_is_422(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert_problem(await client.patch("/items/nope", json={"title": "x"}, headers=alice.auth), 422, "validation_error")


# --- DELETE /items/{id} --------------------------------------------------------------------------

async def test_deleting_an_item_is_204_and_it_is_gone(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    item = await _create(client, alice)
    response = await client.delete(f"/items/{item['id']}", headers=alice.auth)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_problem(await client.get(f"/items/{item['id']}", headers=alice.auth), 404, "not_found")
    assert_problem(await client.delete(f"/items/{item['id']}", headers=alice.auth), 404, "not_found")
    assert (await client.get("/items/", headers=alice.auth)).json() == {"items": [], "total": 0}


async def test_deleting_a_missing_item_is_404(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert_problem(await client.delete(f"/items/{uuid.uuid4()}", headers=alice.auth), 404, "not_found")


async def test_deleting_a_non_uuid_id_is_422(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert_problem(await client.delete("/items/1", headers=alice.auth), 422, "validation_error")


async def test_deleting_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    assert_problem(await client.delete(f"/items/{uuid.uuid4()}"), 401, "not_authenticated")
