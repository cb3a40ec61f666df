"""Who the caller is, as the API sees it: what a client shows and enables (the API still decides)."""

from __future__ import annotations

from fastapi import APIRouter

from orchestra.api_deps import ViewerDep
from orchestra.auth.schemas import MeOut

router = APIRouter(tags=["auth"])


@router.get(
    "/me",
    response_model=MeOut,
    description="The caller's name, how it signed in, its role and scope. Never the credential itself.",
)
async def get_me(actor: ViewerDep) -> MeOut:
    return MeOut.of(actor)
