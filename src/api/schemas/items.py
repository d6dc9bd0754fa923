"""Bodies of the item routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field

from api.schemas.common import Text
from domain.items import MAX_DESCRIPTION_LENGTH, MAX_TITLE_LENGTH, check_description, check_title

# The domain's rules, applied while validating (a rule lives in one place; a bad value is a 422).
Title = Annotated[Text, Field(min_length=1, max_length=MAX_TITLE_LENGTH), AfterValidator(check_title)]
Description = Annotated[Text, Field(max_length=MAX_DESCRIPTION_LENGTH), AfterValidator(check_description)]


class ItemCreate(BaseModel):
    title: Title
    description: Description | None = None


class ItemPatch(BaseModel):
    # `title` may be omitted (left unchanged) but not null: the default is not validated, a null is.
    title: Title = Field(default=None)  # type: ignore[assignment]
    description: Description | None = None


class ItemOut(BaseModel):
    id: UUID
    title: str
    description: str | None
    created_at: datetime
    updated_at: datetime


class ItemPage(BaseModel):
    items: list[ItemOut]
    total: int
