"""The suite-run list's query: suite runs narrowed by project, status, environment, suite, trigger, creation
window and text in the name, sorted by creation, name, status or duration.

Status and duration are read from the summary the database keeps on each suite run (models/run.py's
``SuiteRun.status``, ``started_at`` and ``finished_at``; migration 0027), so a page costs the same whatever
it is filtered or sorted by, and never aggregates a run."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, UnaryExpression, select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.refs import by_ref
from orchestra.kit.repository import reachable, scalar_page
from orchestra.models import Environment, Suite, SuiteRun
from orchestra.models.run_states import RunStatus
from orchestra.runs.repository import like_literal


@dataclass(frozen=True)
class SuiteRunNarrowing:
    """What the suite-run list is narrowed to. ``environment_id`` and ``suite_id`` are found within a
    project; ``environment_ref`` and ``suite_ref`` are an id or a name in every project. The window's
    ``created_after`` is inclusive, ``created_before`` exclusive; ``text`` is found in the name,
    case-insensitively, its LIKE wildcards taken literally."""

    project_id: uuid.UUID | None = None
    status: RunStatus | None = None
    environment_id: uuid.UUID | None = None
    environment_ref: str | None = None
    suite_id: uuid.UUID | None = None
    suite_ref: str | None = None
    trigger: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    text: str | None = None


_SORT_KEYS: dict[str, Any] = {
    "created_at": SuiteRun.created_at,
    "name": SuiteRun.name,
    "status": SuiteRun.status,
    "duration": SuiteRun.finished_at - SuiteRun.started_at,  # unended (none) last ascending, first descending
}


def suite_run_order(sort: str) -> tuple[UnaryExpression[Any], UnaryExpression[Any]]:
    """The ORDER BY of ``sort`` (a field, "-" for descending), ties broken by id in the same direction, so a
    page never repeats or skips a suite run of another."""
    key = _SORT_KEYS[sort.removeprefix("-")]
    if sort.startswith("-"):
        return key.desc(), SuiteRun.id.desc()
    return key.asc(), SuiteRun.id.asc()


def _narrowed(
    query: Select[uuid.UUID], tenant_id: uuid.UUID, wanted: SuiteRunNarrowing
) -> Select[uuid.UUID] | None:
    """``query`` with ``wanted``'s conditions on the suite run's own columns, or None when nothing can match
    (a reference or a text no row can hold)."""
    if any(
        ref is not None and not reachable(ref)
        for ref in (wanted.environment_ref, wanted.suite_ref, wanted.text)
    ):
        return None
    equal = {
        SuiteRun.project_id: wanted.project_id,
        SuiteRun.status: wanted.status,
        SuiteRun.environment_id: wanted.environment_id,
        SuiteRun.suite_id: wanted.suite_id,
        SuiteRun.trigger: wanted.trigger,
    }
    for column, value in equal.items():
        if value is not None:
            query = query.where(column == value)
    if wanted.environment_ref is not None:
        named = select(Environment.id).where(
            Environment.tenant_id == tenant_id,
            by_ref(Environment.id, Environment.name, wanted.environment_ref),
        )
        query = query.where(SuiteRun.environment_id.in_(named))
    if wanted.suite_ref is not None:
        suites = select(Suite.id).where(
            Suite.tenant_id == tenant_id, by_ref(Suite.id, Suite.name, wanted.suite_ref)
        )
        query = query.where(SuiteRun.suite_id.in_(suites))
    if wanted.created_after is not None:
        query = query.where(SuiteRun.created_at >= wanted.created_after)
    if wanted.created_before is not None:
        query = query.where(SuiteRun.created_at < wanted.created_before)
    if wanted.text is not None:
        query = query.where(SuiteRun.name.ilike(like_literal(wanted.text), escape="\\"))
    return query


async def list_suite_runs(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    limit: int,
    offset: int,
    wanted: SuiteRunNarrowing = SuiteRunNarrowing(),
    sort: str = "-created_at",
) -> tuple[list[uuid.UUID], int]:
    """The ids of one page of the suite runs ``wanted`` narrows to, in ``sort``'s order (newest first by
    default), and how many there are: ``suite_runs`` alone, along its index for that order."""
    matching = select(SuiteRun.id).where(SuiteRun.tenant_id == tenant_id)
    narrowed = _narrowed(matching, tenant_id, wanted)
    if narrowed is None:
        return [], 0
    return await scalar_page(session, narrowed.order_by(*suite_run_order(sort)), limit, offset)
