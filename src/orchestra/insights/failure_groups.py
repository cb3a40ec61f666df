"""Failure groups of a project: grouped on read (grouping.py), paged with their counts in a window, one
group in detail with what changed when it appeared, and its link to a known issue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.errors import NotFound
from orchestra.insights import comparison, grouping, trends
from orchestra.insights import group_repository as repository
from orchestra.insights.schemas import (
    FailureGroupDetail,
    FailureGroupOut,
    FirstChange,
    GroupRunOut,
    TestCaseCount,
)
from orchestra.kit.pagination import Page, PageParams
from orchestra.models import Environment, FailureGroup, StepResult, TestCaseVersion, TestRun

LATEST_RUNS = 20


def _out(group: FailureGroup, counts: repository.GroupCounts | None) -> FailureGroupOut:
    return FailureGroupOut(
        id=group.id,
        signature=group.signature,
        failures=counts.failures if counts else 0,
        test_cases=counts.test_cases if counts else 0,
        first_run_id=group.first_run_id,
        first_seen_at=group.first_seen_at,
        last_seen_at=counts.last_seen_at if counts else group.last_seen_at,
        issue_url=group.issue_url,
        issue_linked_at=group.issue_linked_at,
        failures_since_issue=counts.since_issue if counts and group.issue_url else 0,
    )


async def page_of(
    session: AsyncSession, actor: Actor, where: trends.Scope, page: PageParams, has_issue: bool | None
) -> Page[FailureGroupOut]:
    await grouping.group_failures(session, actor.tenant_id, where.project_id)
    counts, total = await repository.counts_page(
        session,
        actor.tenant_id,
        where.project_id,
        where.since,
        where.environment_id,
        where.test_case_id,
        has_issue,
        page.limit,
        page.offset,
    )
    found = await repository.groups(session, [count.group_id for count in counts])
    return Page[FailureGroupOut](
        items=[_out(found[count.group_id], count) for count in counts],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


async def _group(session: AsyncSession, actor: Actor, group_id: uuid.UUID) -> FailureGroup:
    group = await repository.get(session, actor.tenant_id, group_id)
    if group is None:
        raise NotFound(f"failure group {group_id} does not exist")
    return group


def is_labelled(group: FailureGroup, run: TestRun) -> bool:
    """A failure of a group linked to an issue is labelled with it when it happened since the link."""
    return group.issue_linked_at is not None and run.created_at >= group.issue_linked_at


async def _version(session: AsyncSession, run: TestRun | None) -> int | None:
    if run is None or run.test_case_version_id is None:
        return None
    version = await session.get(TestCaseVersion, run.test_case_version_id)
    return version.version if version else None


def _first_failed(steps: list[StepResult]) -> StepResult | None:
    return next((step for step in steps if step.status in ("failed", "error")), None)


def _status(step: StepResult | None) -> int | None:
    status = (step.response or {}).get("status") if step is not None else None
    return status if isinstance(status, int) else None


async def first_change(session: AsyncSession, group: FailureGroup) -> FirstChange | None:
    first = await session.get(TestRun, group.first_run_id)
    if first is None:
        return None
    before = await repository.run_before(session, first)
    environment = await session.get(Environment, first.environment_id)
    failed = _first_failed(await repository.steps(session, first.id))
    same = None
    if before is not None and failed is not None:
        same = next(
            (
                step
                for step in await repository.steps(session, before.id)
                if (step.phase, step.name) == (failed.phase, failed.name)
            ),
            None,
        )
    edited = (
        environment is not None
        and before is not None
        and before.created_at < environment.updated_at <= first.created_at
    )
    return FirstChange(
        first_run=first.id,
        previous_pass=before.id if before else None,
        test_case_version=(await _version(session, before), await _version(session, first)),
        environment=environment.name if environment else "",
        environment_changed=edited,
        variables=comparison.differences(before.variables if before else {}, first.variables),
        step=f"{failed.phase}/{failed.name}" if failed else None,
        response_status=(_status(same), _status(failed)),
        response_body=comparison.differences(
            comparison.body_of(same.response if same else None),
            comparison.body_of(failed.response if failed else None),
        )
        if same is not None and failed is not None
        else [],
    )


async def detail(session: AsyncSession, actor: Actor, group_id: uuid.UUID) -> FailureGroupDetail:
    group = await _group(session, actor, group_id)
    await grouping.group_failures(session, actor.tenant_id, group.project_id)
    await session.refresh(group)
    members = await repository.latest_members(session, group.id, LATEST_RUNS)
    by_case = await repository.test_cases_of(session, group.id)
    linked = group.issue_linked_at
    since_issue = await repository.failures_since(session, group.id, linked) if linked else 0
    counts = repository.GroupCounts(group.id, group.failures, len(by_case), group.last_seen_at, since_issue)
    return FailureGroupDetail(
        **_out(group, counts).model_dump(),
        total_failures=group.failures,
        by_test_case=[TestCaseCount(test_case=name, failures=count) for name, count in by_case],
        latest_runs=[
            GroupRunOut(
                id=run.id,
                test_case=case,
                environment=environment,
                status=run.status.value,
                created_at=run.created_at,
                known_issue=group.issue_url if is_labelled(group, run) else None,
            )
            for run, case, environment in members
        ],
        first_change=await first_change(session, group),
    )


async def link_issue(
    session: AsyncSession, actor: Actor, group_id: uuid.UUID, url: str
) -> FailureGroupDetail:
    """Link the group to an issue from now on (a new link replaces the old one and starts again)."""
    group = await _group(session, actor, group_id)
    group.issue_url, group.issue_linked_at = url, datetime.now(UTC)
    await session.flush()
    return await detail(session, actor, group_id)


async def unlink_issue(session: AsyncSession, actor: Actor, group_id: uuid.UUID) -> None:
    group = await _group(session, actor, group_id)
    group.issue_url, group.issue_linked_at = None, None
    await session.flush()
