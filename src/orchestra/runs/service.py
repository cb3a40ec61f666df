"""Creating runs (PENDING; the scheduler takes it from there), reading them back, cancelling them."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.definitions.data_rows import Row, run_name
from orchestra.environments import service as environments
from orchestra.errors import Conflict, InvalidInput, NotFound
from orchestra.kit.pagination import Page, PageParams
from orchestra.models import SuiteRun, TestCase, TestCaseVersion, TestRun
from orchestra.models.run_states import TERMINAL, RunStatus, suite_status
from orchestra.projects import service as projects
from orchestra.quarantine import service as quarantine
from orchestra.runs import reports, repository, suite_phases, suite_run_list
from orchestra.runs.queue import QUEUE_STEP, queue_key
from orchestra.runs.run_variables import check_run_variables
from orchestra.runs.schemas import (
    CreatedOut,
    RunCreate,
    RunMute,
    RunOut,
    StepResultOut,
    SuitePhaseOut,
    SuiteRunCreate,
    SuiteRunOut,
)
from orchestra.scheduler.explain import Explanation, explain
from orchestra.scheduler.fair_share import Candidate
from orchestra.suites import service as suites
from orchestra.testcases import service as testcases

MAX_RUNS_PER_SUITE_RUN = 5000


def _new_run(
    actor: Actor,
    case: TestCase,
    version: TestCaseVersion,
    environment_id: uuid.UUID,
    request: RunCreate | SuiteRunCreate,
    variables: dict[str, Any],
    suite_run_id: uuid.UUID | None = None,
    key: float | None = None,
    name: str | None = None,
    suite_retry: int | None = None,
) -> TestRun:
    """``suite_retry``: the suite's ``retry_failed`` (used when the request gives none; else the test's)."""
    retry = next(
        (given for given in (request.retry_failed, suite_retry) if given is not None),
        version.definition.get("retry_failed", 0),
    )
    return TestRun(
        id=uuid.uuid4(),
        tenant_id=actor.tenant_id,
        project_id=case.project_id,
        suite_run_id=suite_run_id,
        test_case_id=case.id,
        test_case_version_id=version.id,
        environment_id=environment_id,
        name=name or case.name,
        status=RunStatus.PENDING,
        priority=request.effective_priority(),
        queue_key=queue_key(request.effective_priority()) if key is None else key,
        trigger=request.trigger,
        variables=variables,
        context={},
        timeout_s=version.definition.get("timeout_s"),
        retry_failed=retry,
    )


def _rows(version: TestCaseVersion, data: list[Row] | None) -> list[Row | None]:
    """The rows a test case runs with, one run each: its own ``parameters`` combined with each row of the
    suite run's ``data`` (a data row's values over a parameter row's); [None] when it has neither."""
    stored = version.definition.get("parameters")
    own: list[Row | None] = list(stored) if isinstance(stored, list) and stored else [None]
    given: list[Row | None] = list(data) if data else [None]
    return [
        None if first is None and second is None else {**(first or {}), **(second or {})}
        for first in own
        for second in given
    ]


async def create_run(session: AsyncSession, actor: Actor, request: RunCreate) -> CreatedOut:
    project = await projects.get(session, actor, request.project)
    environment = await environments.get(session, actor, request.project, request.environment)
    found = await testcases.list_current_versions(session, actor.tenant_id, project.id, [request.test_case])
    if not found:
        raise NotFound(f"test case '{request.test_case}' does not exist in project '{project.name}'")
    case, version = found[0]
    check_run_variables(case.name, version.definition, request.variables)
    # A data-driven test case runs once per row of its parameters (named after the row, in row order);
    # the first run's id is the answer's id, ``runs`` lists them all.
    first = queue_key(request.effective_priority())
    made = [
        _new_run(
            actor,
            case,
            version,
            environment.id,
            request,
            dict(request.variables) if row is None else {**row, **request.variables},
            key=first + at * QUEUE_STEP,
            name=None if row is None else run_name(case.name, row),
        )
        for at, row in enumerate(_rows(version, None))
    ]
    await quarantine.mute_new_runs(session, made)
    session.add_all(made)
    await session.flush()
    return CreatedOut(id=made[0].id, status=RunStatus.PENDING, runs=[run.id for run in made])


async def create_suite_run(session: AsyncSession, actor: Actor, request: SuiteRunCreate) -> CreatedOut:
    project = await projects.get(session, actor, request.project)
    environment = await environments.get(session, actor, request.project, request.environment)
    suite = await suites.get(session, actor, request.project, request.suite) if request.suite else None
    if suite is not None:
        names: list[str] = list(suite.definition.get("tests", []))
        name, defaults = suite.name, dict(suite.definition.get("variables", {}))
    else:
        names, name, defaults = list(request.tests or []), request.name or "ad-hoc", {}
    found = await testcases.list_current_versions(
        session, actor.tenant_id, project.id, None if names == ["*"] else names
    )
    missing = sorted(set(names) - {case.name for case, _ in found} - {"*"})
    if missing:
        raise InvalidInput(f"'{name}' refers to test cases that do not exist: {', '.join(missing)}")
    if not found:
        raise InvalidInput(f"'{name}' has no test cases to run")
    if names != ["*"]:  # the order the suite lists them in (["*"]: by name)
        position = {test: index for index, test in enumerate(names)}
        found = sorted(found, key=lambda pair: position[pair[0].name])
    planned = [(case, version, row) for case, version in found for row in _rows(version, request.data)]
    if len(planned) > MAX_RUNS_PER_SUITE_RUN:
        raise InvalidInput(
            f"a suite run may hold at most {MAX_RUNS_PER_SUITE_RUN} runs, '{name}' would make {len(planned)} "
            "(test cases times their data rows)"
        )
    variables = {**defaults, **request.variables}
    suite_run = SuiteRun(
        id=uuid.uuid4(),
        tenant_id=actor.tenant_id,
        project_id=project.id,
        suite_id=suite.id if suite else None,
        environment_id=environment.id,
        name=name,
        priority=request.effective_priority(),
        trigger=request.trigger,
        variables=variables,
        parallelism=request.parallelism or (suite.definition.get("parallelism") if suite else None),
    )
    session.add(suite_run)
    await session.flush()
    # Queue keys one step apart, in that order: with parallelism 1 the runs start one after another in the
    # written order; with more, that is the order they start in.
    first = queue_key(request.effective_priority())
    runs = [
        _new_run(
            actor,
            case,
            version,
            environment.id,
            request,
            variables if row is None else {**defaults, **row, **request.variables},
            suite_run.id,
            key,
            None if row is None else run_name(case.name, row),
            suite.definition.get("retry_failed") if suite else None,
        )
        for key, (case, version, row) in zip(
            (first + at * QUEUE_STEP for at in range(len(planned))), planned, strict=True
        )
    ]
    if suite is not None:  # its setup before the first test, its teardown after the last
        keys = (first - QUEUE_STEP, first + len(planned) * QUEUE_STEP)
        session.add_all(suite_phases.new_phase_runs(actor, suite_run, suite.definition, variables, keys))
    await quarantine.mute_new_runs(session, runs)
    session.add_all(runs)
    await session.flush()
    return CreatedOut(id=suite_run.id, status=RunStatus.PENDING, runs=[run.id for run in runs])


def _duration_ms(run: TestRun) -> float | None:
    if run.started_at is None or run.finished_at is None:
        return None
    return round((run.finished_at - run.started_at).total_seconds() * 1000, 3)


def _run_out(row: repository.RunRow, steps: list[StepResultOut] | None = None) -> RunOut:
    run, version, environment = row
    return RunOut(
        id=run.id,
        name=run.name,
        project_id=run.project_id,
        suite_run_id=run.suite_run_id,
        test_case_id=run.test_case_id,
        test_case_version_id=run.test_case_version_id,
        test_case_version=version,
        environment=environment,
        status=run.status,
        status_reason=run.status_reason,
        priority=run.priority,
        trigger=run.trigger,
        attempt=run.attempt,
        lease_owner=run.lease_owner,
        lease_expires_at=run.lease_expires_at,
        fencing_token=run.fencing_token,
        heartbeat_at=run.heartbeat_at,
        cancel_requested=run.cancel_requested,
        variables=run.variables,
        data_plan=run.data_plan if steps is not None else None,
        created_at=run.created_at,
        queued_at=run.queued_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_ms=_duration_ms(run),
        mute=RunMute(id=run.mute_id, reason=run.mute_reason or "") if run.mute_id else None,
        muted=quarantine.is_muted_failure(run.status, run.mute_id),
        failure_group_id=run.failure_group_id,
        retry_failed=run.retry_failed,
        retry_of=run.retry_of_id,
        flaky=run.retry_of_id is not None and run.status == RunStatus.PASSED,
        steps=steps,
    )


async def _labelled(session: AsyncSession, stored: list[TestRun], runs: list[RunOut]) -> list[RunOut]:
    """The runs with the known issue their failure is labelled with (see insights/failure_groups.py) and
    the retry each FAILED run got."""
    labels = await repository.known_issues(session, stored)
    retries = await repository.retries_of(session, stored)
    for run in runs:
        run.known_issue = labels.get(run.id)
        run.retried_by = retries.get(run.id)
    return runs


async def _explain(session: AsyncSession, run: TestRun, global_default: int) -> Explanation:
    candidate = Candidate(
        run.id, run.tenant_id, run.project_id, run.environment_id, run.suite_run_id, run.queue_key
    )
    return await explain(await session.connection(), candidate, global_default)


async def get_run(
    session: AsyncSession,
    actor: Actor,
    run_id: uuid.UUID,
    with_steps: bool = True,
    global_default: int | None = None,
) -> RunOut:
    """``global_default`` (the platform's default run limit) asks a PENDING run to explain its wait."""
    row = await repository.get_run(session, actor.tenant_id, run_id)
    if row is None:
        raise NotFound(f"run {run_id} does not exist")
    if global_default is not None and row[0].status == RunStatus.PENDING:
        explanation = await _explain(session, row[0], global_default)
        out = _run_out(row)
        out.queue_position, out.waiting_for = explanation.queue_position, explanation.waiting_for
        return out
    steps = (
        [StepResultOut.model_validate(step) for step in await repository.steps_of(session, run_id)]
        if with_steps
        else None
    )
    return (await _labelled(session, [row[0]], [_run_out(row, steps)]))[0]


@dataclass(frozen=True)
class RunFilters:
    """What ``GET /runs`` narrows the list to; ``environment`` and ``test_case`` are ids or names within
    ``project`` (one that does not exist there is a 404), or in every project when it is not given."""

    project: str | None = None
    status: RunStatus | None = None
    suite_run_id: uuid.UUID | None = None
    environment: str | None = None
    test_case: str | None = None
    trigger: str | None = None
    suite: str | None = None  # the runs of this suite's suite runs (id or name, as environment)
    tag: str | None = None  # runs of test cases whose current version has this tag
    created_after: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    text: str | None = None  # in the run's name, case-insensitive
    sort: str = "-created_at"


def _aware(moment: datetime | None) -> datetime | None:
    """A time given without an offset is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


async def list_runs(
    session: AsyncSession, actor: Actor, params: PageParams, wanted: RunFilters = RunFilters()
) -> Page[RunOut]:
    filters: dict[str, Any] = {}
    across = wanted.project is None  # environment and test case by name (or id) in every project
    if wanted.project is not None:
        owner = await projects.get(session, actor, wanted.project)
        filters["project_id"] = owner.id
        if wanted.environment is not None:
            filters["environment_id"] = (await environments.get(session, actor, owner, wanted.environment)).id
        if wanted.test_case is not None:
            filters["test_case_id"] = (await testcases.get_case(session, actor, owner, wanted.test_case)).id
    if wanted.status is not None:
        filters["status"] = wanted.status
    if wanted.suite_run_id is not None:
        filters["suite_run_id"] = wanted.suite_run_id
    if wanted.trigger is not None:
        filters["trigger"] = wanted.trigger
    # an inverted window (after later than before) is simply empty: no run was created in it
    after, before = _aware(wanted.created_after), _aware(wanted.created_before)
    suite_id = None
    if wanted.suite is not None and wanted.project is not None:
        suite_id = (await suites.get(session, actor, wanted.project, wanted.suite)).id
    rows, total = await repository.list_runs(
        session,
        actor.tenant_id,
        filters,
        params.limit,
        params.offset,
        environment_ref=wanted.environment if across else None,
        test_case_ref=wanted.test_case if across else None,
        narrowing=repository.RunNarrowing(
            suite_id=suite_id,
            suite_ref=wanted.suite if across else None,
            tag=wanted.tag,
            created_after=after,
            created_before=before,
            text=wanted.text,
        ),
        sort=wanted.sort,
    )
    items = await _labelled(session, [row[0] for row in rows], [_run_out(row) for row in rows])
    return Page[RunOut](items=items, total=total, limit=params.limit, offset=params.offset)


async def get_suite_run(
    session: AsyncSession,
    actor: Actor,
    suite_run_id: uuid.UUID,
    with_steps: bool = False,
    global_default: int | None = None,
) -> SuiteRunOut:
    found = await repository.get_suite_run(session, actor.tenant_id, suite_run_id)
    if found is None:
        raise NotFound(f"suite run {suite_run_id} does not exist")
    suite_run, environment = found
    rows = await repository.runs_of_suite_run(session, actor.tenant_id, suite_run_id)
    runs = []
    for row in rows:
        steps = None
        if with_steps:
            steps = [
                StepResultOut.model_validate(step) for step in await repository.steps_of(session, row[0].id)
            ]
        runs.append(_run_out(row, steps))
    # A muted failure does not fail the suite run: it counts as a pass in the suite run's status. A run
    # that was retried does not count at all: its retry's verdict is the test's.
    runs = await _labelled(session, [row[0] for row in rows], runs)
    tests = [run for run in runs if run.retried_by is None]
    statuses = [RunStatus.PASSED if run.muted else run.status for run in tests]
    phases = {
        run.suite_phase: suite_phases.phase_out(
            run, [StepResultOut.model_validate(step) for step in await repository.steps_of(session, run.id)]
        )
        for run in await repository.phase_runs_of(session, actor.tenant_id, suite_run_id)
    }
    status = suite_status(statuses + [phase.status for phase in phases.values()])
    waiting_for = None
    pending = [row[0] for row in rows if row[0].status == RunStatus.PENDING]
    setup = phases.get("setup")
    if setup is not None and setup.status not in TERMINAL and pending:
        waiting_for = f"the suite's setup (run {setup.id}) to end"
    elif global_default is not None and pending:
        first = min(pending, key=lambda run: run.queue_key)
        waiting_for = (await _explain(session, first, global_default)).waiting_for
    timed: list[RunOut | SuitePhaseOut] = [*runs, *phases.values()]  # from its setup to its teardown
    started = [run.started_at for run in timed if run.started_at is not None]
    finished_at = (
        max((run.finished_at for run in timed if run.finished_at), default=None)
        if status in TERMINAL
        else None
    )
    started_at = min(started, default=None)
    return SuiteRunOut(
        id=suite_run.id,
        name=suite_run.name,
        project_id=suite_run.project_id,
        suite_id=suite_run.suite_id,
        environment=environment,
        status=status,
        priority=suite_run.priority,
        trigger=suite_run.trigger,
        variables=suite_run.variables,
        counts=dict(Counter(run.status.value for run in tests)),
        muted=sum(1 for run in tests if run.muted),
        flaky=sum(1 for run in tests if run.flaky),
        total=len(tests),
        created_at=suite_run.created_at,
        started_at=started_at,
        finished_at=finished_at,
        duration_ms=round((finished_at - started_at).total_seconds() * 1000, 3)
        if finished_at and started_at
        else None,
        waiting_for=waiting_for,
        runs=runs,
        setup=phases.get("setup"),
        teardown=phases.get("teardown"),
    )


@dataclass(frozen=True)
class SuiteRunFilters:
    """What ``GET /suite-runs`` narrows the list to; ``environment`` and ``suite`` are ids or names within
    ``project`` (one that does not exist there is a 404), or in every project when it is not given."""

    project: str | None = None
    status: RunStatus | None = None  # the suite run's derived status
    environment: str | None = None
    suite: str | None = None
    trigger: str | None = None
    created_after: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    text: str | None = None  # in the suite run's name, case-insensitive
    sort: str = "-created_at"


async def _suite_run_narrowing(
    session: AsyncSession, actor: Actor, wanted: SuiteRunFilters
) -> suite_run_list.SuiteRunNarrowing:
    """``wanted`` with the project, and the environment and suite within it, resolved to ids (404 when one
    does not exist); without a project, environment and suite stay references found in every project."""
    project_id = environment_id = suite_id = None
    if wanted.project is not None:
        owner = await projects.get(session, actor, wanted.project)
        project_id = owner.id
        if wanted.environment is not None:
            environment_id = (await environments.get(session, actor, owner, wanted.environment)).id
        if wanted.suite is not None:
            suite_id = (await suites.get(session, actor, owner, wanted.suite)).id
    across = wanted.project is None
    # an inverted window (after later than before) is simply empty: no suite run was created in it
    return suite_run_list.SuiteRunNarrowing(
        project_id=project_id,
        status=wanted.status,
        environment_id=environment_id,
        environment_ref=wanted.environment if across else None,
        suite_id=suite_id,
        suite_ref=wanted.suite if across else None,
        trigger=wanted.trigger,
        created_after=_aware(wanted.created_after),
        created_before=_aware(wanted.created_before),
        text=wanted.text,
    )


async def list_suite_runs(
    session: AsyncSession, actor: Actor, params: PageParams, wanted: SuiteRunFilters = SuiteRunFilters()
) -> Page[SuiteRunOut]:
    ids, total = await suite_run_list.list_suite_runs(
        session,
        actor.tenant_id,
        params.limit,
        params.offset,
        await _suite_run_narrowing(session, actor, wanted),
        wanted.sort,
    )
    items = [await get_suite_run(session, actor, suite_run_id) for suite_run_id in ids]
    return Page[SuiteRunOut](items=items, total=total, limit=params.limit, offset=params.offset)


async def cancel_run(session: AsyncSession, actor: Actor, run_id: uuid.UUID) -> RunOut:
    run = await get_run(session, actor, run_id, with_steps=False)
    if run.status in TERMINAL:
        raise Conflict(f"run {run_id} already ended {run.status}")
    await repository.cancel(session, [run_id])
    return await get_run(session, actor, run_id, with_steps=False)


async def cancel_suite_run(session: AsyncSession, actor: Actor, suite_run_id: uuid.UUID) -> SuiteRunOut:
    suite_run = await get_suite_run(session, actor, suite_run_id)
    if suite_run.status in TERMINAL:
        raise Conflict(f"suite run {suite_run_id} already ended {suite_run.status}")
    # Its teardown is not cancelled: it runs once the rest has ended, as after any suite run.
    unfinished = [run.id for run in [*suite_run.runs, suite_run.setup] if run and run.status not in TERMINAL]
    await repository.cancel(session, unfinished)
    return await get_suite_run(session, actor, suite_run_id)


async def _project_name(session: AsyncSession, actor: Actor, project_id: uuid.UUID) -> str:
    return (await projects.get(session, actor, str(project_id))).name


async def run_report(
    session: AsyncSession, actor: Actor, run_id: uuid.UUID, fmt: str
) -> tuple[bytes | dict[str, Any], str]:
    run = await get_run(session, actor, run_id)
    if fmt == "junit":
        return reports.run_junit(run, await _project_name(session, actor, run.project_id)), "application/xml"
    return reports.json_report(run), "application/json"


async def suite_run_report(
    session: AsyncSession, actor: Actor, suite_run_id: uuid.UUID, fmt: str
) -> tuple[bytes | dict[str, Any], str]:
    suite_run = await get_suite_run(session, actor, suite_run_id, with_steps=True)
    if fmt == "junit":
        project = await _project_name(session, actor, suite_run.project_id)
        return reports.suite_run_junit(suite_run, project), "application/xml"
    return reports.json_report(suite_run), "application/json"
