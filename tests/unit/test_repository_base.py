"""The repository base: references no row can hold never reach the database, pages stay within bounds, and
the statements are the ones the features used to write out (scope, order, count without ordering)."""

from __future__ import annotations

import re
import uuid
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.repository import (
    ProjectScoped,
    TenantScoped,
    reachable,
    reachable_only,
    row_page,
    scalar_page,
)
from orchestra.models import Environment, Project

TENANT = uuid.UUID("00000000-0000-0000-0000-00000000000a")
PROJECT = uuid.UUID("00000000-0000-0000-0000-00000000000b")


class _Result:
    def __init__(self, value: Any) -> None:
        self.value = value

    def scalar_one(self) -> Any:
        return self.value

    def scalar_one_or_none(self) -> Any:
        return self.value

    def scalars(self) -> list[Any]:
        return list(self.value)

    def __iter__(self) -> Any:
        return iter(self.value)


class FakeSession:
    """Answers each statement with the next prepared value and keeps the SQL it was sent."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.sql: list[str] = []

    async def execute(self, statement: Any) -> _Result:
        sql = str(statement.compile(dialect=postgresql.dialect()))
        self.sql.append(" ".join(re.sub(r"::[A-Z]+", "", sql).split()))  # without casts and line breaks
        return _Result(self.answers.pop(0))


def session_of(fake: FakeSession) -> AsyncSession:
    return cast(AsyncSession, fake)


@pytest.mark.parametrize("ref", ["a", "", "nightly run", "3f2c1a56-0000-4000-8000-000000000000", "é ✓"])
def test_text_a_row_can_hold_is_reachable(ref: str) -> None:
    assert reachable(ref)


@pytest.mark.parametrize("ref", ["\x00", "a\x00b", "\ud800", "x\udfff"])
def test_nul_and_lone_surrogates_are_not_reachable(ref: str) -> None:
    assert not reachable(ref)


def test_reachable_only_keeps_order_and_drops_the_impossible() -> None:
    assert reachable_only(["b", "a\x00", "a", "\ud800", "b"]) == ["b", "a", "b"]


ENVIRONMENTS = ProjectScoped(
    Environment, Environment.id, Environment.name, (Environment.tenant_id, Environment.project_id)
)
PROJECTS = TenantScoped(Project, Project.id, Project.name, (Project.tenant_id,))


@pytest.mark.parametrize("ref", ["a\x00b", "\ud800"])
async def test_an_unreachable_reference_finds_nothing_without_a_query(ref: str) -> None:
    fake = FakeSession()
    assert await ENVIRONMENTS.find(session_of(fake), TENANT, PROJECT, ref) is None
    assert await ENVIRONMENTS.find_by_name(session_of(fake), TENANT, PROJECT, ref, lock=True) is None
    assert await PROJECTS.find(session_of(fake), TENANT, ref) is None
    assert await PROJECTS.find_by_name(session_of(fake), TENANT, ref) is None
    assert fake.sql == []


async def test_find_looks_in_the_scope_by_name_or_id() -> None:
    fake = FakeSession("by name", "by id or name", "locked")
    session = session_of(fake)
    assert await ENVIRONMENTS.find(session, TENANT, PROJECT, "staging") == "by name"
    assert await ENVIRONMENTS.find(session, TENANT, PROJECT, str(PROJECT)) == "by id or name"
    assert await ENVIRONMENTS.find(session, TENANT, PROJECT, "staging", lock=True) == "locked"
    by_name, by_id, locked = fake.sql
    scope = "environments.tenant_id = %(tenant_id_1)s AND environments.project_id = %(project_id_1)s"
    assert scope in by_name
    assert "environments.name = %(name_1)s" in by_name
    assert "environments.id" not in by_name.split("WHERE")[1]  # a plain name is never compared with ids
    assert "(environments.id = %(id_1)s OR environments.name = %(name_1)s)" in by_id
    assert "FOR UPDATE" not in by_name
    assert locked.endswith("FOR UPDATE")


async def test_find_by_name_does_not_look_for_an_id() -> None:
    fake = FakeSession(None)
    assert await PROJECTS.find_by_name(session_of(fake), TENANT, str(PROJECT)) is None
    (sql,) = fake.sql
    assert "projects.tenant_id = %(tenant_id_1)s AND projects.name = %(name_1)s" in sql


def test_the_scope_has_the_size_the_class_names() -> None:
    with pytest.raises(TypeError, match="scoped by 2"):
        ProjectScoped(Environment, Environment.id, Environment.name, (Environment.tenant_id,))
    with pytest.raises(TypeError, match="scoped by 1"):
        TenantScoped(Project, Project.id, Project.name, (Project.tenant_id, Project.id))


async def test_a_page_counts_the_whole_query_then_reads_the_window_in_order() -> None:
    fake = FakeSession(7, ["b", "c"])
    items, total = await ENVIRONMENTS.page(session_of(fake), TENANT, PROJECT, limit=2, offset=1)
    assert (items, total) == (["b", "c"], 7)
    count, window = fake.sql
    assert count.startswith("SELECT count(*) AS count_1 FROM (SELECT")
    assert "ORDER BY" not in count
    assert "LIMIT" not in count
    assert "environments.project_id = %(project_id_1)s" in count
    assert window.endswith("ORDER BY environments.name LIMIT %(param_1)s OFFSET %(param_2)s")


async def test_a_page_past_the_end_or_of_no_rows_reads_nothing_more() -> None:
    for limit, offset, total in [(10, 3, 3), (10, 50, 3), (0, 0, 3), (10, 0, 0)]:
        fake = FakeSession(total)
        assert await PROJECTS.page(session_of(fake), TENANT, limit, offset) == ([], total)
        assert len(fake.sql) == 1  # the count only


@pytest.mark.parametrize(("limit", "offset"), [(-1, 0), (1, -1)])
async def test_a_negative_window_is_a_programming_error(limit: int, offset: int) -> None:
    fake = FakeSession()
    with pytest.raises(ValueError, match="at least 0"):
        await scalar_page(session_of(fake), ENVIRONMENTS.scoped((TENANT, PROJECT)), limit, offset)
    with pytest.raises(ValueError, match="at least 0"):
        await row_page(session_of(fake), ENVIRONMENTS.scoped((TENANT, PROJECT)), limit, offset)
    assert fake.sql == []


async def test_a_row_page_gives_plain_tuples() -> None:
    fake = FakeSession(2, [["a", 1], ["b", 2]])  # rows, as sequences
    query = select(Environment.name, Environment.max_active_runs).order_by(Environment.name)
    assert await row_page(session_of(fake), query, 5, 0) == ([("a", 1), ("b", 2)], 2)
