"""Creating, listing and revoking API tokens. The token is returned once; only its hash is stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor, Role
from orchestra.auth import api_tokens
from orchestra.errors import Conflict, Forbidden, InvalidInput, NotFound
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


async def revoke(
    session: AsyncSession, actor: Actor, token_id: uuid.UUID, *, identity_provider: bool
) -> TokenOut:
    """Revoke a token. ``identity_provider``: people can sign in without tokens (OIDC), so the last
    platform-admin token may go; without one it is refused, since nobody could administer Orchestra
    through the API any more (``orchestra admin-token --new`` replaces it instead)."""
    _may_manage(actor)
    row = await session.get(ApiToken, token_id)
    if row is None or row.tenant_id != actor.tenant_id:
        raise NotFound(f"token {token_id} does not exist")
    if Role.parse(row.role) > actor.role or (row.kind == "local-admin" and actor.kind != "local-admin"):
        raise Forbidden("you cannot revoke a token with a higher role than your own")
    now = datetime.now(UTC)
    if row.revoked_at is None and row.platform_admin and not identity_provider:
        if not await repository.other_valid_platform_admins(session, actor.tenant_id, row.id, now):
            raise Conflict(
                f"token {token_id} is the last platform-admin credential and no identity provider is "
                "configured (ORCHESTRA_OIDC_ISSUER): revoking it would lock every administrator out. To "
                "replace it, run `orchestra admin-token --new` with the server's settings: it revokes this "
                "token and prints a new one, which every server accepts at once"
            )
    if row.revoked_at is None:
        row.revoked_at = now
        await session.flush()
    return TokenOut.model_validate(row)
