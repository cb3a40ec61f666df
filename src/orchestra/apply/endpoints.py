"""``POST /projects/{project}/apply``: sync test cases and suites from their definitions, all or nothing."""

from __future__ import annotations

from fastapi import APIRouter

from orchestra.api_deps import EditorDep, SessionDep
from orchestra.apply import service
from orchestra.apply.schemas import ApplyRequest, ApplyResult

router = APIRouter(prefix="/projects/{project}", tags=["apply"])


@router.post(
    "/apply",
    response_model=ApplyResult,
    description="Create or update the project's test cases, then its suites, in one transaction; the project "
    "is created if missing. Identical content is left unchanged. Any invalid item: 422 listing every "
    "problem, and nothing is stored.",
)
async def apply(project: str, data: ApplyRequest, session: SessionDep, actor: EditorDep) -> ApplyResult:
    return await service.apply_request(session, actor, project, data)
