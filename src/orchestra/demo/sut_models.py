"""Request bodies the demo shop SUT accepts. Strict: no type coercion, unknown fields rejected."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

ItemName = Annotated[str, Field(min_length=1, max_length=100)]
Price = Annotated[float, Field(gt=0)]
Stock = Annotated[int, Field(ge=0)]
Tags = Annotated[list[Annotated[str, Field(min_length=1, max_length=50)]], Field(max_length=20)]


class StrictBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class TokenRequest(StrictBody):
    username: str
    password: str


class ItemCreate(StrictBody):
    """Body of ``POST /items`` and ``PUT /items/{id}`` (a full replacement)."""

    name: ItemName
    price: Price
    tags: Tags = Field(default_factory=list)
    stock: Stock = 0


class ItemPatch(StrictBody):
    """Body of ``PATCH /items/{id}``: any subset of the item's fields, none of them null."""

    name: ItemName | None = None
    price: Price | None = None
    tags: Tags | None = None
    stock: Stock | None = None

    @field_validator("*", mode="before")
    @classmethod
    def reject_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null")
        return value


class JobCreate(StrictBody):
    kind: Annotated[str, Field(min_length=1, max_length=50)] = "report"
    duration_ms: Annotated[int, Field(ge=0, le=10_000)] = 300


class ChainStep(StrictBody):
    value: int
