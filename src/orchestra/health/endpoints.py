from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from orchestra.api_deps import RuntimeDep
from orchestra.migrate import is_at_head
from orchestra.testcases.schema_export import suite_json_schema, testcase_json_schema

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(runtime: RuntimeDep) -> JSONResponse:
    """200 once the API, the database (migrations at head) and the executor are ready; 503 otherwise."""
    checks: dict[str, Any] = {"api": "ok"}
    try:
        checks["database"] = "ok" if await is_at_head(runtime.db.engine) else "migrations not at head"
    except Exception as error:
        checks["database"] = f"unreachable: {type(error).__name__}"
    checks["executor"] = "ok" if runtime.ready else "stopped"
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status_code=200 if healthy else 503
    )


@router.get("/schemas/testcase.json")
async def testcase_schema() -> dict[str, Any]:
    return testcase_json_schema()


@router.get("/schemas/suite.json")
async def suite_schema() -> dict[str, Any]:
    return suite_json_schema()
