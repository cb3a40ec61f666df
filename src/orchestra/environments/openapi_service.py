"""Import an environment's OpenAPI description and read back what was imported."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.db import Transactions
from orchestra.environments import service as environments
from orchestra.environments.openapi_schemas import SpecImport
from orchestra.errors import NotFound
from orchestra.kit.egress import policy_of
from orchestra.models import ApiSpec
from orchestra.openapi import load, repository
from orchestra.openapi.catalogue import build_catalogue
from orchestra.openapi.operations import Catalogue, Operation

UPLOAD = "upload"


async def import_spec(
    transactions: Transactions, actor: Actor, project: str, environment_ref: str, data: SpecImport
) -> ApiSpec:
    """Parse, check and catalogue the description, then store it as the environment's current one.
    A URL is fetched under the environment's egress policy, as a test step against it would be. No
    transaction is open while it is fetched and parsed (a fetch may take seconds)."""
    async with transactions() as session:
        environment = await environments.get(session, actor, project, environment_ref)
        environment_id, policy = environment.id, policy_of(environment)
    if data.url is not None:
        document = await load.fetch_document(data.url, policy)
        source = data.url
    elif data.text is not None:
        document, source = load.parse_text(data.text), UPLOAD
    else:
        document, source = load.check_document(data.document), UPLOAD
    catalogue = build_catalogue(document)
    async with transactions() as session:
        try:
            environment = await environments.get(session, actor, project, str(environment_id))
        except NotFound:
            raise NotFound(f"environment '{environment_ref}' was deleted during the import") from None
        return await repository.upsert(
            session,
            tenant_id=actor.tenant_id,
            project_id=environment.project_id,
            environment_id=environment.id,
            source=source,
            document=document,
            catalogue=catalogue,
        )


async def get_spec(session: AsyncSession, actor: Actor, project: str, environment_ref: str) -> ApiSpec:
    environment = await environments.get(session, actor, project, environment_ref)
    spec = await repository.find(session, environment.id)
    if spec is None:
        raise NotFound(f"no OpenAPI description was imported for environment '{environment.name}'")
    return spec


async def get_document(
    session: AsyncSession, actor: Actor, project: str, environment_ref: str
) -> dict[str, Any]:
    return (await get_spec(session, actor, project, environment_ref)).document


async def get_catalogue(session: AsyncSession, actor: Actor, project: str, environment_ref: str) -> Catalogue:
    return Catalogue.from_json((await get_spec(session, actor, project, environment_ref)).catalogue)


async def get_operation(
    session: AsyncSession, actor: Actor, project: str, environment_ref: str, operation_id: str
) -> Operation:
    catalogue = await get_catalogue(session, actor, project, environment_ref)
    operation = catalogue.get(operation_id)
    if operation is None:
        raise NotFound(f"the imported description has no operation '{operation_id[:200]}'")
    return operation
