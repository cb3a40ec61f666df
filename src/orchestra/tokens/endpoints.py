from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from orchestra.api_deps import EditorDep, IdentityProviderDep, SessionDep
from orchestra.kit.pagination import Page, PageParams
from orchestra.tokens import service
from orchestra.tokens.schemas import TokenCreate, TokenCreated, TokenOut

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.get("", response_model=Page[TokenOut])
async def list_tokens(
    session: SessionDep, actor: EditorDep, page: Annotated[PageParams, Depends()]
) -> Page[TokenOut]:
    return await service.list_page(session, actor, page)


@router.post(
    "",
    response_model=TokenCreated,
    status_code=status.HTTP_201_CREATED,
    description="Create an API token. The token is in this response only; it is stored as a hash.",
)
async def create_token(data: TokenCreate, session: SessionDep, actor: EditorDep) -> TokenCreated:
    return await service.create(session, actor, data)


@router.delete(
    "/{token_id}",
    response_model=TokenOut,
    description="Revoke a token (it stays listed). 409: the last platform-admin token, while no identity "
    "provider is configured (replace it with `orchestra admin-token --new`).",
)
async def revoke_token(
    token_id: uuid.UUID, session: SessionDep, actor: EditorDep, identity_provider: IdentityProviderDep
) -> TokenOut:
    return await service.revoke(session, actor, token_id, identity_provider=identity_provider)
