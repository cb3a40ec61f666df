"""Export a project as one document, and import such a document: created or updated, idempotently, in
one transaction (the request's). Secret values never leave nor enter this way: the import names the
secrets still to set."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.apply.schemas import ApplyRequest
from orchestra.apply.service import apply_request
from orchestra.definitions.testcase_model import RequestDefaults
from orchestra.environments import service as environments
from orchestra.environments.schemas import EnvironmentPut
from orchestra.errors import NotFound
from orchestra.kit.pagination import Page, PageParams
from orchestra.kit.secret_box import SecretBox
from orchestra.projects import service as projects
from orchestra.projects.schemas import ProjectCreate, ProjectUpdate
from orchestra.retention import service as retention
from orchestra.schedules import service as schedules
from orchestra.schedules.schemas import ScheduleCreate, ScheduleUpdate
from orchestra.suites import service as suites
from orchestra.testcases import service as testcases
from orchestra.transfer.schemas import (
    FORMAT,
    VERSION,
    ExportedEnvironment,
    ExportedEnvironmentOut,
    ExportedProjectOut,
    ExportedRetention,
    ExportedScheduleOut,
    ImportResult,
    ItemImported,
    ProjectDocument,
    ProjectExport,
    SecretToSet,
)

T = TypeVar("T")


async def _every(fetch: Callable[[PageParams], Awaitable[Page[T]]]) -> list[T]:
    items: list[T] = []
    while True:
        page = await fetch(PageParams(limit=500, offset=len(items)))
        items += page.items
        if not page.items or len(items) >= page.total:
            return items


async def export_project(
    session: AsyncSession, actor: Actor, project_ref: str, now: datetime
) -> ProjectExport:
    owner = await projects.get(session, actor, project_ref)
    cases = await testcases.list_current_versions(session, actor.tenant_id, owner.id, None)
    suite_names = [s.name for s in await _every(lambda p: suites.list_page(session, actor, owner, p))]
    suite_definitions = [(await suites.get(session, actor, owner, name)).definition for name in suite_names]
    found_environments = await _every(lambda p: environments.list_page(session, actor, owner, p))
    found_schedules = await _every(lambda p: schedules.list_page(session, actor, owner.name, p))
    policy = await retention.get(session, actor, owner)
    kept = policy.keep_days is not None or policy.keep_last is not None
    return ProjectExport(
        format=FORMAT,
        version=VERSION,
        exported_at=now,
        project=ExportedProjectOut(
            name=owner.name, description=owner.description, max_active_runs=owner.max_active_runs
        ),
        retention=ExportedRetention(keep_days=policy.keep_days, keep_last=policy.keep_last) if kept else None,
        test_cases=[dict(version.definition) for _, version in cases],
        suites=[dict(definition) for definition in suite_definitions],
        environments=[
            ExportedEnvironmentOut(
                name=env.name,
                base_url=env.base_url,
                variables=env.variables,
                secret_names=env.secret_names,
                idempotency_keys=env.idempotency_keys,
                max_active_runs=env.max_active_runs,
                max_requests_per_s=env.max_requests_per_s,
                allowed_hosts=env.allowed_hosts,
                allow_private_network=env.allow_private_network,
                defaults=env.defaults or None,
            )
            for env in found_environments
        ],
        schedules=[
            ExportedScheduleOut.model_validate(item, from_attributes=True) for item in found_schedules
        ],
    )


async def import_project(
    session: AsyncSession,
    actor: Actor,
    box: SecretBox,
    document: ProjectDocument,
    project_name: str | None,
    now: datetime,
) -> ImportResult:
    """Create or update the project (``project_name``, else the document's), then its environments, test
    cases and suites, schedules and retention; all or nothing."""
    name = project_name or document.project.name
    shown = document.project
    try:
        owner = await projects.get(session, actor, name)
        created = False
    except NotFound:
        owner = await projects.create(session, actor, ProjectCreate(name=name, description=shown.description))
        created = True
    owner = await projects.update(
        session,
        actor,
        str(owner.id),
        ProjectUpdate(description=shown.description, max_active_runs=shown.max_active_runs),
    )
    imported_environments, secrets_to_set = [], []
    for env in document.environments:
        stored, env_created = await environments.upsert(
            session, actor, owner, env.name, _environment_put(env), box
        )
        imported_environments.append(
            ItemImported(name=env.name, result="created" if env_created else "updated")
        )
        secrets_to_set += [
            SecretToSet(environment=env.name, name=secret)
            for secret in env.secret_names
            if secret not in (stored.secrets or {})
        ]
    applied = await apply_request(
        session, actor, str(owner.id), ApplyRequest(test_cases=document.test_cases, suites=document.suites)
    )
    imported_schedules = [
        await _schedule(session, actor, owner.name, item, now) for item in document.schedules
    ]
    if document.retention is not None:
        await retention.update(session, actor, owner, document.retention)
    return ImportResult(
        project=owner.name,
        created=created,
        test_cases=applied.test_cases,
        suites=applied.suites,
        environments=imported_environments,
        schedules=imported_schedules,
        secrets_to_set=secrets_to_set,
    )


def _environment_put(env: ExportedEnvironment) -> EnvironmentPut:
    """Every field given (maps and limits replaced as exported; secrets kept as they are here)."""
    return EnvironmentPut(
        base_url=env.base_url,
        variables=env.variables,
        idempotency_keys=env.idempotency_keys,
        max_active_runs=env.max_active_runs,
        max_requests_per_s=env.max_requests_per_s,
        allowed_hosts=env.allowed_hosts,
        allow_private_network=env.allow_private_network,
        defaults=env.defaults if env.defaults is not None else RequestDefaults(),
    )


async def _schedule(
    session: AsyncSession, actor: Actor, project: str, item: ScheduleCreate, now: datetime
) -> ItemImported:
    try:
        await schedules.get(session, actor, project, item.name)
    except NotFound:
        await schedules.create(session, actor, project, item, now)
        return ItemImported(name=item.name, result="created")
    fields: dict[str, Any] = item.model_dump(exclude={"name"})
    await schedules.update(session, actor, project, item.name, ScheduleUpdate(**fields), now)
    return ItemImported(name=item.name, result="updated")
