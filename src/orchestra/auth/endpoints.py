"""``GET /me``: who the caller is, so a client shows what its role allows."""

from __future__ import annotations

from fastapi import APIRouter

from orchestra.api_deps import ViewerDep
from orchestra.auth.schemas import WhoAmI

router = APIRouter(tags=["auth"])


@router.get("/me", response_model=WhoAmI)
async def who_am_i(actor: ViewerDep) -> WhoAmI:
    return WhoAmI.of(actor)
