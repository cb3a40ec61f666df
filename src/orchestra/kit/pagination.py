from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class PageParams(BaseModel):
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10_000_000)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


async def fetch_page(session: AsyncSession, query: Select[Any], page: PageParams) -> tuple[list[Any], int]:
    """One page of an ordered ORM query, and how many rows the whole query has."""
    total = (
        await session.execute(select(func.count()).select_from(query.order_by(None).subquery()))
    ).scalar()
    rows = await session.execute(query.limit(page.limit).offset(page.offset))
    return list(rows.scalars()), int(total or 0)
