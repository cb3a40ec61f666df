"""The repository base the features build on: a row found by reference, a page of a query, and the guard
that keeps references no row can have away from PostgreSQL.

Objects are addressed by id or by a name unique within a scope (the tenant, or a project of the tenant),
and lists are pages of an ordered query together with the size of the whole query. Every feature needs
the same three things; written once here, they cannot drift apart (when each feature wrote its own, some
lookups by name had the guard and others did not)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Generic, TypeVar, TypeVarTuple, cast

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from orchestra.kit.refs import by_ref
from orchestra.models.base import Base

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
ModelT = TypeVar("ModelT", bound=Base)

OrderBy = ColumnElement[Any] | QueryableAttribute[Any]


def reachable(ref: str) -> bool:
    """Whether a stored row can hold this text (as a name, a tag …). PostgreSQL text cannot hold NUL and
    refuses a query that compares with it; a lone surrogate cannot even be encoded for the driver. A
    reference that fails here matches nothing, so it is answered as such without asking the database."""
    if "\x00" in ref:
        return False
    try:
        ref.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def reachable_only(refs: Iterable[str]) -> list[str]:
    """Those of ``refs`` a row can hold (the others could only match nothing, or make the query fail)."""
    return [ref for ref in refs if reachable(ref)]


def _check_window(limit: int, offset: int) -> None:
    # PageParams bounds what a client asks for; a negative value here is a caller's mistake, not input.
    if limit < 0 or offset < 0:
        raise ValueError(f"a page needs a limit and an offset of at least 0 (got {limit}, {offset})")


async def _count(session: AsyncSession, query: Select[*Ts]) -> int:
    """How many rows the whole query has (its ordering does not change that, so it is dropped)."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return int((await session.execute(counted)).scalar_one())


async def scalar_page(
    session: AsyncSession, query: Select[T], limit: int, offset: int
) -> tuple[list[T], int]:
    """One page of an ordered query of one entity (or one column), and how many rows the whole query has.
    A page that starts past the end is empty without a second query."""
    _check_window(limit, offset)
    total = await _count(session, query)
    if limit == 0 or offset >= total:
        return [], total
    rows = await session.execute(query.limit(limit).offset(offset))
    return list(rows.scalars()), total


async def row_page(
    session: AsyncSession, query: Select[*Ts], limit: int, offset: int
) -> tuple[list[tuple[*Ts]], int]:
    """As ``scalar_page``, for a query of several entities or columns: each item is a plain tuple."""
    _check_window(limit, offset)
    total = await _count(session, query)
    if limit == 0 or offset >= total:
        return [], total
    rows = await session.execute(query.limit(limit).offset(offset))
    # A Row is a tuple to the type checker only; the features get plain tuples, as they always did.
    return [tuple(cast("Iterable[Any]", row)) for row in rows], total


class Repository(Generic[ModelT]):
    """Lookups and paging of a model whose rows have an id and a name unique within a scope of key columns.

    The scope is fixed by the subclasses (``TenantScoped``, ``ProjectScoped``), whose methods take the keys
    as typed arguments in the order the features have always passed them."""

    scope_size: ClassVar[int]

    def __init__(
        self,
        model: type[ModelT],
        id_column: QueryableAttribute[uuid.UUID],
        name_column: QueryableAttribute[str],
        scope: Sequence[QueryableAttribute[uuid.UUID]],
        *,
        order_by: Sequence[OrderBy] = (),
    ) -> None:
        if len(scope) != self.scope_size:
            raise TypeError(
                f"{type(self).__name__} is scoped by {self.scope_size} column(s), got {len(scope)}"
            )
        self.model = model
        self.id_column = id_column
        self.name_column = name_column
        self.scope = tuple(scope)
        self.order_by: tuple[OrderBy, ...] = tuple(order_by) or (name_column,)

    def scoped(self, keys: Sequence[uuid.UUID]) -> Select[ModelT]:
        """The rows of the scope these keys name (tenant first)."""
        return select(self.model).where(
            *(column == key for column, key in zip(self.scope, keys, strict=True))
        )

    async def _one(self, session: AsyncSession, query: Select[ModelT], lock: bool) -> ModelT | None:
        if lock:
            query = query.with_for_update()
        return (await session.execute(query)).scalar_one_or_none()

    async def _find(
        self, session: AsyncSession, keys: Sequence[uuid.UUID], ref: str, lock: bool
    ) -> ModelT | None:
        if not reachable(ref):
            return None
        return await self._one(
            session, self.scoped(keys).where(by_ref(self.id_column, self.name_column, ref)), lock
        )

    async def _find_by_name(
        self, session: AsyncSession, keys: Sequence[uuid.UUID], name: str, lock: bool
    ) -> ModelT | None:
        if not reachable(name):
            return None
        return await self._one(session, self.scoped(keys).where(self.name_column == name), lock)

    async def _page(
        self, session: AsyncSession, keys: Sequence[uuid.UUID], limit: int, offset: int
    ) -> tuple[list[ModelT], int]:
        return await scalar_page(session, self.scoped(keys).order_by(*self.order_by), limit, offset)


class TenantScoped(Repository[ModelT]):
    """A model whose names are unique within a tenant (projects)."""

    scope_size = 1

    async def find(
        self, session: AsyncSession, tenant_id: uuid.UUID, ref: str, *, lock: bool = False
    ) -> ModelT | None:
        """The tenant's row with this id or name; ``lock`` holds it until the transaction ends."""
        return await self._find(session, (tenant_id,), ref, lock)

    async def find_by_name(
        self, session: AsyncSession, tenant_id: uuid.UUID, name: str, *, lock: bool = False
    ) -> ModelT | None:
        """The tenant's row with this name (an id is not looked for)."""
        return await self._find_by_name(session, (tenant_id,), name, lock)

    async def page(
        self, session: AsyncSession, tenant_id: uuid.UUID, limit: int, offset: int
    ) -> tuple[list[ModelT], int]:
        """A page of the tenant's rows in the repository's order, and how many there are."""
        return await self._page(session, (tenant_id,), limit, offset)


class ProjectScoped(Repository[ModelT]):
    """A model whose names are unique within a project (environments, test cases, suites, schedules)."""

    scope_size = 2

    async def find(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        project_id: uuid.UUID,
        ref: str,
        *,
        lock: bool = False,
    ) -> ModelT | None:
        """The project's row with this id or name; ``lock`` holds it until the transaction ends."""
        return await self._find(session, (tenant_id, project_id), ref, lock)

    async def find_by_name(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        project_id: uuid.UUID,
        name: str,
        *,
        lock: bool = False,
    ) -> ModelT | None:
        """The project's row with this name (an id is not looked for)."""
        return await self._find_by_name(session, (tenant_id, project_id), name, lock)

    async def page(
        self, session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, limit: int, offset: int
    ) -> tuple[list[ModelT], int]:
        """A page of the project's rows in the repository's order, and how many there are."""
        return await self._page(session, (tenant_id, project_id), limit, offset)
