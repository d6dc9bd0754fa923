"""IntrospectToken and the service-client use cases over the in-memory fakes."""

from __future__ import annotations

import uuid

import pytest

from application.administration import SYSTEM
from domain.errors import ClientNameTaken, InvalidClient, InvalidClientName, NotFound
from tests.unit.conftest import Gatehouse


async def test_a_client_is_admitted_only_with_its_secret(gatehouse: Gatehouse) -> None:
    c = gatehouse.container
    made, secret = await c.create_service_client().execute("orders")
    assert (await c.introspect_token().authenticate(made.client_id, secret)).client_id == made.client_id
    for client_id, presented in ((made.client_id, secret[:-1]), (made.client_id, ""), (uuid.uuid4().hex, secret),
                                 ("", secret)):
        with pytest.raises(InvalidClient):
            await c.introspect_token().authenticate(client_id, presented)
    assert gatehouse.store.clients[made.client_id].secret.value != secret  # only the digest is kept


async def test_names_are_checked_and_unique(gatehouse: Gatehouse) -> None:
    c = gatehouse.container
    await c.create_service_client().execute("orders")
    with pytest.raises(ClientNameTaken):
        await c.create_service_client().execute("orders")
    for bad in ("", "   ", "x" * 101, "tab\there"):
        with pytest.raises(InvalidClientName):
            await c.create_service_client().execute(bad)
    with pytest.raises(NotFound):
        await c.delete_service_client().execute("no-such-client")


async def test_a_token_is_active_while_its_session_and_user_are(gatehouse: Gatehouse) -> None:
    c = gatehouse.container
    user = await gatehouse.sign_up()
    tokens = await gatehouse.sign_in()
    await c.update_user().execute(SYSTEM, user.id, roles=("support",))
    found = await c.introspect_token().execute(tokens.access_token)
    assert found is not None
    assert found.roles == ("support",)  # now, not the token's
    assert found.claims.session_id == tokens.session_id
    assert await c.introspect_token().execute(tokens.refresh_token) is None
    assert await c.introspect_token().execute("garbage") is None
    await c.disable_user().execute(SYSTEM, user.id, None)
    assert await c.introspect_token().execute(tokens.access_token) is None


async def test_a_token_of_a_deleted_user_is_inactive_even_if_its_session_were_cached(gatehouse: Gatehouse) -> None:
    user = await gatehouse.sign_up()
    tokens = await gatehouse.sign_in()
    del gatehouse.store.users[user.id]  # the account gone, its session row left (what the check must not trust)
    assert await gatehouse.container.introspect_token().execute(tokens.access_token) is None
