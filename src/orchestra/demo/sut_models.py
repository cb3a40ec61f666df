"""Request bodies the demo shop SUT accepts. Strict: no type coercion, unknown fields rejected."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

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


# Checked by the SUT and declared in its OpenAPI (format: email), so a generator that honours the
# description produces addresses the SUT accepts. email-validator is not a dependency, hence a pattern.
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
Email = Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN, json_schema_extra={"format": "email"})]
Tier = Literal["basic", "gold", "platinum"]
ResourceId = Annotated[str, Field(min_length=1, max_length=100)]


class CustomerCreate(StrictBody):
    """Body of ``POST /customers``."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    email: Email
    tier: Tier = "basic"
    # JSON has no date type: an ISO date string, so this one field is not strict.
    birthDate: Annotated[date | None, Field(strict=False)] = None


class OrderCreate(StrictBody):
    """Body of ``POST /orders``: the customer and item must exist."""

    customerId: ResourceId
    itemId: ResourceId
    quantity: Annotated[int, Field(ge=1, le=100)]
    note: Annotated[str, Field(max_length=200)] | None = None


class CustomerOut(BaseModel):
    id: str
    name: str
    email: str
    tier: Tier
    birthDate: date | None
    createdAt: str


class OrderOut(BaseModel):
    id: str
    customerId: str
    itemId: str
    quantity: int
    note: str | None
    createdAt: str


class ItemOut(BaseModel):
    id: str
    name: str
    price: float
    tags: list[str]
    stock: int
    created_at: str
