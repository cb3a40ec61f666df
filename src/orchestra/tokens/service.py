"""Creating, listing and revoking API tokens. The token is returned once; only its hash is stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor, Role
from orchestra.auth import api_tokens
from orchestra.errors import Forbidden, InvalidInput, NotFound
from orchestra.kit.pagination import Page, PageParams
from orchestra.models import ApiToken
from orchestra.projects import service as projects
from orchestra.tokens import repository
from orchestra.tokens.schemas import TokenCreate, TokenCreated, TokenOut


def _may_manage(actor: Actor) -> None:
    if actor.kind == "token":
        raise Forbidden("API tokens cannot manage tokens: sign in, or use the local admin token")


async def create(session: AsyncSession, actor: Actor, data: TokenCreate) -> TokenCreated:
    _may_manage(actor)
    role = Role.parse(data.role)
    if role > actor.role:
        raise Forbidden(f"you cannot create a token with a higher role ({data.role}) than your own")
    if data.expires_at is not None and data.expires_at <= datetime.now(UTC):
        raise InvalidInput("expires_at must be in the future")
    project_id = actor.project_id
    if data.project is not None:
        project_id = (await projects.get(session, actor, data.project)).id
    if project_id is None and actor.role < Role.ADMIN:
        raise Forbidden("only an admin creates tokens for every project; name a project")
    token, row = api_tokens.issue(
        actor.tenant_id,
        name=data.name,
        role=role.label,
        created_by=actor.name,
        project_id=project_id,
        expires_at=data.expires_at,
    )
    session.add(row)
    await session.flush()
    return TokenCreated(**TokenOut.model_validate(row).model_dump(), token=token)


async def list_page(session: AsyncSession, actor: Actor, page: PageParams) -> Page[TokenOut]:
    _may_manage(actor)
    rows, total = await repository.page(session, actor.tenant_id, page.limit, page.offset)
    return Page(
        items=[TokenOut.model_validate(row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


async def revoke(session: AsyncSession, actor: Actor, token_id: uuid.UUID) -> TokenOut:
    _may_manage(actor)
    row = await session.get(ApiToken, token_id)
    if row is None or row.tenant_id != actor.tenant_id:
        raise NotFound(f"token {token_id} does not exist")
    if Role.parse(row.role) > actor.role or (row.kind == "local-admin" and actor.kind != "local-admin"):
        raise Forbidden("you cannot revoke a token with a higher role than your own")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await session.flush()
    return TokenOut.model_validate(row)
