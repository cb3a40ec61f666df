"""Who the caller is, as the API sees it: what a client shows and enables (the API still decides)."""

from __future__ import annotations

from fastapi import APIRouter

from orchestra.api_deps import SettingsDep, ViewerDep
from orchestra.auth.schemas import MeOut, SignInOptionsOut

router = APIRouter(tags=["auth"])


@router.get(
    "/me",
    response_model=MeOut,
    description="The caller's name, how it signed in, its role and scope. Never the credential itself.",
)
async def get_me(actor: ViewerDep) -> MeOut:
    return MeOut.of(actor)


@router.get(
    "/auth/options",
    response_model=SignInOptionsOut,
    description="How the web application can sign in (no credential needed): single sign-on's issuer and "
    "public client when configured.",
)
async def sign_in_options(settings: SettingsDep) -> SignInOptionsOut:
    return SignInOptionsOut.of(settings)
