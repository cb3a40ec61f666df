from __future__ import annotations

import uuid
from typing import Literal, cast

from pydantic import BaseModel, Field

from orchestra.actor import Actor, Role
from orchestra.config import Settings

WEB_SCOPE = "openid profile email"

RoleName = Literal["viewer", "editor", "admin"]


class MeOut(BaseModel):
    name: str = Field(description="User name, token:<name> or token:local admin.")
    kind: str = Field(description="How the caller signed in: oidc, token or local-admin.")
    role: RoleName
    platform_admin: bool = Field(description="May change platform-wide limits and tenant weights.")
    project_id: uuid.UUID | None = Field(description="A project-scoped token's project; null: every project.")
    manages_tokens: bool = Field(description="May list, create and revoke API tokens (API tokens may not).")

    @classmethod
    def of(cls, actor: Actor) -> MeOut:
        return cls(
            name=actor.name,
            kind=actor.kind,
            role=cast(RoleName, actor.role.label),
            platform_admin=actor.platform_admin,
            project_id=actor.project_id,
            manages_tokens=actor.kind != "token" and actor.has(Role.EDITOR),
        )


class OidcClientOut(BaseModel):
    issuer: str = Field(description="The OpenID Connect issuer the web application redirects to.")
    client_id: str = Field(description="The public client it signs in as (authorization code + PKCE).")
    scope: str = Field(description="The scopes it asks for.")


class SignInOptionsOut(BaseModel):
    oidc: OidcClientOut | None = Field(
        description="Single sign-on, when configured; null: sign in with an API token (or the local admin's)."
    )

    @classmethod
    def of(cls, settings: Settings) -> SignInOptionsOut:
        if not settings.oidc_issuer or not settings.oidc_web_client_id:
            return cls(oidc=None)
        return cls(
            oidc=OidcClientOut(
                issuer=settings.oidc_issuer, client_id=settings.oidc_web_client_id, scope=WEB_SCOPE
            )
        )
