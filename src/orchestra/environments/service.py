from __future__ import annotations

import re
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.environments import repository
from orchestra.environments.schemas import (
    MAX_KEYS,
    EnvironmentCreate,
    EnvironmentOut,
    EnvironmentPut,
    EnvironmentUpdate,
    normalise_base_url,
    stored_defaults,
)
from orchestra.errors import Conflict, InvalidInput, NotFound
from orchestra.kit.environment_secrets import seal
from orchestra.kit.pagination import Page, PageParams
from orchestra.kit.secret_box import SecretBox
from orchestra.models import Environment, Project
from orchestra.projects import service as projects
from orchestra.projects.schemas import NAME_PATTERN

_NAME = re.compile(NAME_PATTERN)


def _check_name(name: str) -> None:
    if not 1 <= len(name) <= 200 or not _NAME.fullmatch(name):
        raise InvalidInput(
            f"invalid environment name {name[:200]!r}: 1 to 200 characters, letters, digits, '.', '_', '-' "
            "and spaces, starting with a letter or digit"
        )


async def get(session: AsyncSession, actor: Actor, project: Project | str, ref: str) -> Environment:
    owner = await projects.get(session, actor, project)
    environment = await repository.find(session, actor.tenant_id, owner.id, ref)
    if environment is None:
        raise NotFound(f"environment '{ref}' does not exist in project '{owner.name}'")
    return environment


async def list_page(
    session: AsyncSession, actor: Actor, project: Project | str, params: PageParams
) -> Page[EnvironmentOut]:
    owner = await projects.get(session, actor, project)
    rows, total = await repository.list_page(session, actor.tenant_id, owner.id, params.limit, params.offset)
    return Page[EnvironmentOut](
        items=[EnvironmentOut.of(row) for row in rows], total=total, limit=params.limit, offset=params.offset
    )


async def create(
    session: AsyncSession, actor: Actor, project: Project | str, data: EnvironmentCreate, box: SecretBox
) -> Environment:
    """Secret values are stored encrypted only (``box``), bound to the new environment's id."""
    owner = await projects.get(session, actor, project)
    if await repository.find_by_name(session, actor.tenant_id, owner.id, data.name):
        raise Conflict(f"environment '{data.name}' already exists in project '{owner.name}'")
    environment_id = uuid.uuid4()
    environment = Environment(
        id=environment_id,
        tenant_id=actor.tenant_id,
        project_id=owner.id,
        name=data.name,
        base_url=data.base_url,
        variables=dict(data.variables),
        secrets=seal(box, actor.tenant_id, environment_id, data.secrets),
        idempotency_keys=data.idempotency_keys,
        max_active_runs=data.max_active_runs,
        max_requests_per_s=data.max_requests_per_s,
        allowed_hosts=list(data.allowed_hosts),
        allow_private_network=data.allow_private_network,
        defaults=stored_defaults(data.defaults),
    )
    session.add(environment)
    await session.flush()
    return environment


async def upsert(
    session: AsyncSession,
    actor: Actor,
    project: Project | str,
    name: str,
    data: EnvironmentPut,
    box: SecretBox,
) -> tuple[Environment, bool]:
    """Create the environment ``name`` or update it (maps omitted are kept). True when it was created.

    The secrets are encrypted for the id the insert would use; when the environment already exists they
    are encrypted again for its id."""
    _check_name(name)
    if data.name is not None and data.name != name:  # each is a valid name: they conflict
        raise Conflict(
            f"the body names environment '{data.name}' but the URL names '{name}'; rename with PATCH instead"
        )
    owner = await projects.get(session, actor, project)
    new_id = uuid.uuid4()
    content = {
        "id": new_id,
        "base_url": data.base_url,
        "variables": data.variables or {},
        "secrets": seal(box, actor.tenant_id, new_id, data.secrets or {}),
        "idempotency_keys": True if data.idempotency_keys is None else data.idempotency_keys,
        "max_active_runs": data.max_active_runs,
        "max_requests_per_s": data.max_requests_per_s,
        "allowed_hosts": data.allowed_hosts or [],
        "allow_private_network": bool(data.allow_private_network),
        "defaults": stored_defaults(data.defaults),
    }
    created = await repository.insert_if_missing(session, actor.tenant_id, owner.id, name, content)
    environment = await _locked(session, actor, owner, name)
    if created:
        return environment, True
    environment.base_url = data.base_url
    if data.variables is not None:
        environment.variables = dict(data.variables)
    if data.secrets is not None:
        environment.secrets = seal(box, actor.tenant_id, environment.id, data.secrets)
    if data.idempotency_keys is not None:
        environment.idempotency_keys = data.idempotency_keys
    _set_limits(environment, data)
    _set_egress(environment, data)
    _set_defaults(environment, data)
    await session.flush()
    await session.refresh(environment)
    return environment, False


def _set_limits(environment: Environment, data: EnvironmentPut | EnvironmentUpdate) -> None:
    """The limits given in the body (null: no limit); omitted ones are kept."""
    if "max_active_runs" in data.model_fields_set:
        environment.max_active_runs = data.max_active_runs
    if "max_requests_per_s" in data.model_fields_set:
        environment.max_requests_per_s = data.max_requests_per_s


def _set_egress(environment: Environment, data: EnvironmentPut | EnvironmentUpdate) -> None:
    """The egress settings given in the body; omitted (or null) ones are kept."""
    if data.allowed_hosts is not None:
        environment.allowed_hosts = list(data.allowed_hosts)
    if data.allow_private_network is not None:
        environment.allow_private_network = data.allow_private_network


def _set_defaults(environment: Environment, data: EnvironmentPut | EnvironmentUpdate) -> None:
    """The request defaults: PUT sets them when given (omitted: kept); PATCH also removes them (null)."""
    removed = isinstance(data, EnvironmentUpdate) and "defaults" in data.model_fields_set
    if data.defaults is not None or removed:
        environment.defaults = stored_defaults(data.defaults)


async def _locked(session: AsyncSession, actor: Actor, owner: Project, name: str) -> Environment:
    environment = await repository.find_by_name(session, actor.tenant_id, owner.id, name, lock=True)
    assert environment is not None  # inserted just before, by this transaction or one that committed
    return environment


async def update(
    session: AsyncSession,
    actor: Actor,
    project: Project | str,
    ref: str,
    data: EnvironmentUpdate,
    box: SecretBox,
) -> Environment:
    owner = await projects.get(session, actor, project)
    environment = await get(session, actor, owner, ref)
    if data.name is not None and data.name != environment.name:
        if await repository.find_by_name(session, actor.tenant_id, owner.id, data.name):
            raise Conflict(f"environment '{data.name}' already exists in project '{owner.name}'")
        environment.name = data.name
    if data.base_url is not None:
        environment.base_url = data.base_url
    if data.variables is not None:
        environment.variables = dict(data.variables)
    if data.idempotency_keys is not None:
        environment.idempotency_keys = data.idempotency_keys
    _set_limits(environment, data)
    _set_egress(environment, data)
    _set_defaults(environment, data)
    if data.secrets:
        secrets = dict(environment.secrets)
        for key, value in data.secrets.items():
            if value is None:
                secrets.pop(key, None)
            else:
                secrets.update(seal(box, actor.tenant_id, environment.id, {key: value}))
        if len(secrets) > MAX_KEYS:
            raise InvalidInput(f"an environment may have at most {MAX_KEYS} secrets")
        environment.secrets = secrets
    await session.flush()
    await session.refresh(environment)
    return environment


async def delete(session: AsyncSession, actor: Actor, project: Project | str, ref: str) -> None:
    environment = await get(session, actor, project, ref)
    runs = await repository.count_runs(session, actor.tenant_id, environment.id)
    if runs:
        raise Conflict(
            f"environment '{environment.name}' is used by {runs} run(s) and cannot be deleted while "
            "they exist; change it with PUT or PATCH instead"
        )
    await session.delete(environment)
    await session.flush()


async def ensure(
    session: AsyncSession,
    actor: Actor,
    project: Project | str,
    name: str,
    base_url: str,
    *,
    allow_private_network: bool = False,
) -> Environment:
    """The environment ``name`` with this base URL: created if missing, its base URL updated if different.
    Variables and secrets of an existing environment are kept (used by the CLI).
    ``allow_private_network``: set when true (the CLI was pointed at a loopback or private SUT); never
    cleared here."""
    _check_name(name)
    try:
        url = normalise_base_url(base_url)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    owner = await projects.get(session, actor, project)
    content = {
        "base_url": url,
        "variables": {},
        "secrets": {},
        "allow_private_network": allow_private_network,
    }
    created = await repository.insert_if_missing(session, actor.tenant_id, owner.id, name, content)
    environment = await _locked(session, actor, owner, name)
    stale = environment.base_url != url or (allow_private_network and not environment.allow_private_network)
    if not created and stale:
        environment.base_url = url
        environment.allow_private_network = environment.allow_private_network or allow_private_network
        await session.flush()
        await session.refresh(environment)
    return environment
