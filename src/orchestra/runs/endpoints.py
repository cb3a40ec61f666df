from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Query, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from orchestra.api_deps import (
    ChangesDep,
    DatabaseDep,
    EditorDep,
    SchedulerDep,
    SessionDep,
    SettingsDep,
    ViewerDep,
)
from orchestra.kit.pagination import Page, PageParams
from orchestra.models.run_states import RunStatus
from orchestra.runs import events, rerun, service
from orchestra.runs.schemas import (
    CreatedOut,
    RunCreate,
    RunOut,
    RunSort,
    SuiteRunCreate,
    SuiteRunOut,
    SuiteRunRerun,
    Trigger,
)

router = APIRouter(tags=["runs"])
ReportFormat = Annotated[Literal["junit", "json"], Query(alias="format")]
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _report(content: bytes | dict[str, object], media_type: str) -> Response:
    if isinstance(content, bytes):
        return Response(content, media_type=media_type)
    return JSONResponse(content)


@router.post("/runs", response_model=CreatedOut, status_code=status.HTTP_201_CREATED)
async def create_run(
    data: RunCreate,
    session: SessionDep,
    actor: EditorDep,
    scheduler: SchedulerDep,
    background: BackgroundTasks,
) -> CreatedOut:
    created = await service.create_run(session, actor, data)
    background.add_task(scheduler.wake)  # after the commit, so the scheduler sees the run
    return created


@router.get("/runs", response_model=Page[RunOut])
async def list_runs(
    session: SessionDep,
    actor: ViewerDep,
    page: Annotated[PageParams, Depends()],
    project: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    status: RunStatus | None = None,
    suite_run: uuid.UUID | None = None,
    environment: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Environment id or name (within project, else in every project).",
        ),
    ] = None,
    test_case: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Test case id or name (within project, else in every project).",
        ),
    ] = None,
    trigger: Trigger | None = None,
    suite: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Suite id or name (within project, else in every project): its suite runs' runs.",
        ),
    ] = None,
    tag: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Runs of test cases whose current version has this tag.",
        ),
    ] = None,
    created_after: Annotated[
        datetime | None, Query(description="Runs created at or after this time (ISO 8601; UTC if no offset).")
    ] = None,
    created_before: Annotated[
        datetime | None, Query(description="Runs created before this time (ISO 8601; UTC if no offset).")
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Text in the run's name (case-insensitive)."),
    ] = None,
    sort: Annotated[
        RunSort,
        Query(description="Order: a field, descending with a leading '-'; ties are broken by id."),
    ] = "-created_at",
) -> Page[RunOut]:
    wanted = service.RunFilters(
        project,
        status,
        suite_run,
        environment,
        test_case,
        trigger,
        suite=suite,
        tag=tag,
        created_after=created_after,
        created_before=created_before,
        text=q,
        sort=sort,
    )
    return await service.list_runs(session, actor, page, wanted)


@router.get("/runs/{run_id}", response_model=RunOut)
async def get_run(run_id: uuid.UUID, session: SessionDep, actor: ViewerDep, settings: SettingsDep) -> RunOut:
    return await service.get_run(session, actor, run_id, global_default=settings.max_active_runs)


@router.post("/runs/{run_id}/cancel", response_model=RunOut)
async def cancel_run(run_id: uuid.UUID, session: SessionDep, actor: EditorDep) -> RunOut:
    return await service.cancel_run(session, actor, run_id)


@router.post(
    "/runs/{run_id}/rerun",
    response_model=CreatedOut,
    status_code=status.HTTP_201_CREATED,
    description="Run it again: the same test-case version, environment, variables and priority.",
)
async def rerun_run(
    run_id: uuid.UUID,
    session: SessionDep,
    actor: EditorDep,
    scheduler: SchedulerDep,
    background: BackgroundTasks,
) -> CreatedOut:
    created = await rerun.rerun(session, actor, run_id)
    background.add_task(scheduler.wake)
    return created


@router.get("/runs/{run_id}/report")
async def run_report(
    run_id: uuid.UUID, session: SessionDep, actor: ViewerDep, fmt: ReportFormat = "json"
) -> Response:
    return _report(*await service.run_report(session, actor, run_id, fmt))


@router.get("/runs/{run_id}/events")
async def run_events(
    run_id: uuid.UUID,
    session: SessionDep,
    actor: ViewerDep,
    database: DatabaseDep,
    changes: ChangesDep,
    last_event_id: Annotated[
        str | None, Header(max_length=40, description="Reconnecting: the id of the last event received.")
    ] = None,
) -> StreamingResponse:
    await service.get_run(session, actor, run_id, with_steps=False)  # 404 before the stream starts
    stream = events.run_events(database, changes, actor, run_id, events.last_step_seq(last_event_id))
    return StreamingResponse(stream, media_type="text/event-stream", headers=SSE_HEADERS)


@router.post("/suite-runs", response_model=CreatedOut, status_code=status.HTTP_201_CREATED)
async def create_suite_run(
    data: SuiteRunCreate,
    session: SessionDep,
    actor: EditorDep,
    scheduler: SchedulerDep,
    background: BackgroundTasks,
) -> CreatedOut:
    created = await service.create_suite_run(session, actor, data)
    background.add_task(scheduler.wake)
    return created


@router.get("/suite-runs", response_model=Page[SuiteRunOut])
async def list_suite_runs(
    session: SessionDep,
    actor: ViewerDep,
    page: Annotated[PageParams, Depends()],
    project: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    status: Annotated[
        RunStatus | None, Query(description="The suite run's status (derived from its runs').")
    ] = None,
    environment: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Environment id or name (within project, else in every project).",
        ),
    ] = None,
    suite: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Suite id or name (within project, else in every project).",
        ),
    ] = None,
    trigger: Trigger | None = None,
    created_after: Annotated[
        datetime | None,
        Query(description="Suite runs created at or after this time (ISO 8601; UTC if no offset)."),
    ] = None,
    created_before: Annotated[
        datetime | None,
        Query(description="Suite runs created before this time (ISO 8601; UTC if no offset)."),
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Text in the suite run's name (case-insensitive)."),
    ] = None,
    sort: Annotated[
        RunSort,
        Query(description="Order: a field, descending with a leading '-'; ties are broken by id."),
    ] = "-created_at",
) -> Page[SuiteRunOut]:
    wanted = service.SuiteRunFilters(
        project,
        status,
        environment,
        suite,
        trigger,
        created_after=created_after,
        created_before=created_before,
        text=q,
        sort=sort,
    )
    return await service.list_suite_runs(session, actor, page, wanted)


@router.get("/suite-runs/{suite_run_id}", response_model=SuiteRunOut)
async def get_suite_run(
    suite_run_id: uuid.UUID,
    session: SessionDep,
    actor: ViewerDep,
    settings: SettingsDep,
    steps: bool = False,
) -> SuiteRunOut:
    return await service.get_suite_run(
        session, actor, suite_run_id, with_steps=steps, global_default=settings.max_active_runs
    )


@router.post("/suite-runs/{suite_run_id}/cancel", response_model=SuiteRunOut)
async def cancel_suite_run(suite_run_id: uuid.UUID, session: SessionDep, actor: EditorDep) -> SuiteRunOut:
    return await service.cancel_suite_run(session, actor, suite_run_id)


@router.post(
    "/suite-runs/{suite_run_id}/rerun",
    response_model=CreatedOut,
    status_code=status.HTTP_201_CREATED,
    description="A new suite run like this one: every test, or only those that did not pass (once it ended).",
)
async def rerun_suite_run(
    suite_run_id: uuid.UUID,
    session: SessionDep,
    actor: EditorDep,
    scheduler: SchedulerDep,
    background: BackgroundTasks,
    data: SuiteRunRerun | None = None,
) -> CreatedOut:
    created = await rerun.rerun_suite_run(session, actor, suite_run_id, data or SuiteRunRerun())
    background.add_task(scheduler.wake)
    return created


@router.get("/suite-runs/{suite_run_id}/report")
async def suite_run_report(
    suite_run_id: uuid.UUID, session: SessionDep, actor: ViewerDep, fmt: ReportFormat = "json"
) -> Response:
    return _report(*await service.suite_run_report(session, actor, suite_run_id, fmt))


@router.get("/suite-runs/{suite_run_id}/events")
async def suite_run_events(
    suite_run_id: uuid.UUID,
    session: SessionDep,
    actor: ViewerDep,
    database: DatabaseDep,
    changes: ChangesDep,
) -> StreamingResponse:
    await service.get_suite_run(session, actor, suite_run_id)
    return StreamingResponse(
        events.suite_run_events(database, changes, actor, suite_run_id),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )
