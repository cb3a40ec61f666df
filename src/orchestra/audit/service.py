"""Writing and reading the audit log. Rows are written in the transaction of the change they describe, so
a change and its record commit (or roll back) together."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.audit import repository
from orchestra.audit.schemas import AuditEventOut
from orchestra.kit.pagination import Page, PageParams
from orchestra.models import AuditEvent
from orchestra.projects import repository as projects

_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)
# Fields of a request body worth naming in the record (never values such as secrets or variables).
_NAMING_FIELDS = ("name", "role", "project", "environment", "test_case", "suite")


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | None = None,
    object_name: str | None = None,
    project_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            tenant_id=actor.tenant_id,
            actor=actor.name[:300],
            actor_kind=actor.kind,
            action=action[:60],
            object_type=object_type[:40],
            object_id=object_id[:100] if object_id else None,
            object_name=object_name[:300] if object_name else None,
            project_id=project_id or actor.project_id,
            details=details or {},
        )
    )
    await session.flush()


async def _naming_fields(request: Request) -> dict[str, Any]:
    """The identifying fields of the JSON body the route already read (FastAPI keeps it on the request)."""
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, RuntimeError):
        return {}
    if not isinstance(body, dict):
        return {}
    return {key: body[key] for key in _NAMING_FIELDS if isinstance(body.get(key), str)}


async def record_request(session: AsyncSession, actor: Actor, request: Request) -> None:
    """Record a successful change made through the API: the route names the action (``create_project``,
    ``cancel_run`` …), the path and body name the object."""
    route = request.scope.get("route")
    action = getattr(route, "name", None) or request.method.lower()
    template = str(getattr(route, "path", request.url.path))
    params = {key: str(value) for key, value in request.path_params.items()}
    named = await _naming_fields(request)
    segments = [part for part in template.split("/") if part and not part.startswith("{")]
    object_type = segments[-1] if segments else "api"
    object_ref = next(reversed(params.values()), None) if params else None
    await record(
        session,
        actor,
        action,
        object_type,
        object_id=object_ref,
        object_name=str(named.get("name") or object_ref or "") or None,
        project_id=await _project_of(session, actor, template, params, named),
        details={"method": request.method, "path": template, "params": params, "body": named},
    )


async def _project_of(
    session: AsyncSession, actor: Actor, template: str, params: dict[str, str], named: dict[str, Any]
) -> uuid.UUID | None:
    """The project the change happened in (so a project's own tokens see its history)."""
    ref = params.get("project") or named.get("project")
    if template == "/projects" and ref is None:  # create_project: the body names the new project
        ref = named.get("name")
    if not isinstance(ref, str):
        return None
    project = await projects.find(session, actor.tenant_id, ref)
    return project.id if project is not None else None


async def list_page(
    session: AsyncSession,
    actor: Actor,
    page: PageParams,
    action: str | None = None,
    since: datetime | None = None,
) -> Page[AuditEventOut]:
    if since is not None:  # any time is a valid bound; these keep it where the database's times are
        since = min(max(since, _EARLIEST), _LATEST)
    rows, total = await repository.page(session, actor.tenant_id, action, since, page.limit, page.offset)
    return Page(
        items=[AuditEventOut.model_validate(row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
