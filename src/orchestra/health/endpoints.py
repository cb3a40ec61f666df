from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from orchestra.api_deps import Readiness, ReadinessDep, SchedulerDep, SchedulerHandle
from orchestra.definitions.schema_export import suite_json_schema, testcase_json_schema
from orchestra.testdata.plans.dataplan_model import dataplan_json_schema

router = APIRouter(tags=["health"])


async def _readiness(process: Readiness, scheduler: SchedulerHandle) -> JSONResponse:
    checks: dict[str, Any] = {"api": "ok", **await process.readiness()}
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    if process.runs_scheduler:
        body["scheduler_role"] = scheduler.role
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/health")
async def health(process: ReadinessDep, scheduler: SchedulerDep) -> JSONResponse:
    """200 once the API, the database (migrations at head), the broker and, in this process, the scheduler
    and executor are ready; 503 with the failing checks otherwise."""
    return await _readiness(process, scheduler)


@router.get("/health/ready")
async def ready(process: ReadinessDep, scheduler: SchedulerDep) -> JSONResponse:
    """Readiness for orchestrators (same checks as /health)."""
    return await _readiness(process, scheduler)


@router.get("/health/live")
async def live() -> dict[str, str]:
    """Liveness: the process answers (no dependency checked, so a database outage does not restart it)."""
    return {"status": "ok"}


@router.get("/schemas/testcase.json")
async def testcase_schema() -> dict[str, Any]:
    return testcase_json_schema()


@router.get("/schemas/suite.json")
async def suite_schema() -> dict[str, Any]:
    return suite_json_schema()


@router.get("/schemas/dataplan.json")
async def dataplan_schema() -> dict[str, Any]:
    return dataplan_json_schema()
