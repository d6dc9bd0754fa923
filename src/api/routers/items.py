"""The API's own protected resources. Authentication is the shared Depends chain, nothing else."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query, status
from fastapi.responses import Response

from api.deps import (
    CreateItemCase,
    CurrentPrincipal,
    DeleteItemCase,
    GatehouseRouter,
    GetItemCase,
    ListItemsCase,
    UpdateItemCase,
)
from api.responses import NOT_FOUND, UNAUTHORIZED, UNAVAILABLE, VALIDATION, Responses
from api.schemas.items import ItemCreate, ItemOut, ItemPage, ItemPatch
from application.dto import ItemChanges
from domain.items import Item

router = GatehouseRouter(prefix="/items", tags=["items"])
_ERRORS: Responses = {**UNAUTHORIZED, **VALIDATION, **UNAVAILABLE}


def _out(item: Item) -> ItemOut:
    return ItemOut(id=item.id, title=item.title, description=item.description, created_at=item.created_at,
                   updated_at=item.updated_at)


# Both /items and /items/ answer directly (no redirect).
@router.get("/", summary="List my items", response_model=ItemPage, responses=_ERRORS)
@router.get("", response_model=ItemPage, include_in_schema=False)
async def list_items(principal: CurrentPrincipal, list_page: ListItemsCase,
                     limit: Annotated[int, Query(ge=1, le=100)] = 50,
                     offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0) -> ItemPage:
    """The caller's items, newest first, with `limit` (1-100, default 50) and `offset`, and the total count."""
    page = await list_page.execute(principal, limit, offset)
    return ItemPage(items=[_out(i) for i in page.items], total=page.total)


@router.post("/", summary="Create an item",
             status_code=status.HTTP_201_CREATED, response_model=ItemOut, responses=_ERRORS)
@router.post("", status_code=status.HTTP_201_CREATED, response_model=ItemOut, include_in_schema=False)
async def create_item(body: ItemCreate, principal: CurrentPrincipal, create: CreateItemCase) -> ItemOut:
    """An item of the caller's: `title` (1-200 characters) and an optional `description`."""
    return _out(await create.execute(principal, body.title, body.description))


@router.get("/{item_id}", summary="Read one of my items", response_model=ItemOut, responses={**_ERRORS, **NOT_FOUND})
async def get_item(item_id: UUID, principal: CurrentPrincipal, get: GetItemCase) -> ItemOut:
    """Another user's item is 404, like one that does not exist."""
    return _out(await get.execute(principal, item_id))


@router.patch("/{item_id}", summary="Change one of my items",
              response_model=ItemOut, responses={**_ERRORS, **NOT_FOUND})
async def update_item(item_id: UUID, body: ItemPatch, principal: CurrentPrincipal,
                      update: UpdateItemCase) -> ItemOut:
    """`PATCH` changes only the fields sent (`title`, `description`; a description may be null)."""
    changes = ItemChanges(title=body.title, description=body.description,
                          description_given="description" in body.model_fields_set)
    return _out(await update.execute(principal, item_id, changes))


@router.delete("/{item_id}", summary="Delete one of my items",
               status_code=status.HTTP_204_NO_CONTENT, responses={**_ERRORS, **NOT_FOUND})
async def delete_item(item_id: UUID, principal: CurrentPrincipal, delete: DeleteItemCase) -> Response:
    """Another user's item is 404, like one that does not exist."""
    await delete.execute(principal, item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
