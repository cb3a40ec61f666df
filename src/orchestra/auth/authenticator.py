"""Turns an ``Authorization: Bearer …`` header into an :class:`Actor`, or refuses it (401).

Two kinds of bearer tokens are accepted: Orchestra API tokens (``orc_…``, looked up by hash inside the
tenant they name) and, when an issuer is configured, OpenID Connect access tokens (Keycloak). There is no
anonymous access, not even on localhost.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select

from orchestra.actor import Actor, Role
from orchestra.ai_client.delegation import Delegation, InvalidDelegation, looks_like_delegation
from orchestra.audit import service as audit
from orchestra.auth import api_tokens
from orchestra.db import Database
from orchestra.errors import Forbidden, Unauthorized, Unavailable
from orchestra.models import ApiToken
from orchestra.tenants.repository import ensure_tenant

if TYPE_CHECKING:
    from orchestra.auth.oidc import OidcVerifier

log = structlog.get_logger(__name__)

# A token's use is written to the audit log (and last_used_at) at most this often.
USE_RECORD_INTERVAL = timedelta(seconds=60)
MAX_HEADER = 16_384


class Authenticator:
    def __init__(
        self, db: Database, verifier: OidcVerifier | None = None, delegation: Delegation | None = None
    ) -> None:
        self.db = db
        self.verifier = verifier
        self.delegation = delegation  # the ai-service calling back (ai_client/delegation.py)
        self._tenants: dict[str, uuid.UUID] = {}

    @property
    def signs_in_people(self) -> bool:
        """People sign in through the identity provider (an OIDC issuer is configured)."""
        return self.verifier is not None

    async def aclose(self) -> None:
        if self.verifier is not None:
            await self.verifier.aclose()

    async def authenticate(self, authorization: str | None) -> Actor:
        if not authorization:
            raise Unauthorized(
                "authentication required: send Authorization: Bearer <token>", invalid_token=False
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        if len(token) > MAX_HEADER:
            raise Unauthorized("malformed token")
        if api_tokens.looks_like_api_token(token):
            return await self._api_token(token)
        if self.delegation is not None and looks_like_delegation(token):
            try:
                return self.delegation.actor(token)
            except InvalidDelegation as error:
                raise Unauthorized(str(error)) from None
        if self.verifier is None:
            raise Unauthorized("not an Orchestra API token (no identity provider is configured)")
        return await self._oidc(token)

    async def _api_token(self, token: str) -> Actor:
        parsed = api_tokens.parse(token)
        if parsed is None:
            raise Unauthorized("malformed API token")
        now = datetime.now(UTC)
        async with self.db.transaction(parsed.tenant_id) as session:
            query = select(ApiToken).where(ApiToken.token_hash == parsed.token_hash)
            row = (await session.execute(query)).scalar_one_or_none()
            if row is None:
                raise Unauthorized("unknown API token")
            if row.revoked_at is not None:
                raise Unauthorized("API token revoked")
            if row.expires_at is not None and row.expires_at <= now:
                raise Unauthorized("API token expired")
            actor = Actor(
                tenant_id=row.tenant_id,
                name=f"token:{row.name}",
                kind="local-admin" if row.kind == "local-admin" else "token",
                role=Role.parse(row.role),
                project_id=row.project_id,
                platform_admin=row.platform_admin,
                token_id=row.id,
            )
            if row.last_used_at is None or now - row.last_used_at >= USE_RECORD_INTERVAL:
                row.last_used_at = now
                await audit.record(
                    session, actor, "token.used", "api_token", str(row.id), row.name, row.project_id
                )
        return actor

    async def _oidc(self, token: str) -> Actor:
        from orchestra.auth.oidc import InvalidToken, IssuerUnavailable

        assert self.verifier is not None
        try:
            identity = await self.verifier.verify(token)
        except InvalidToken as error:
            raise Unauthorized(str(error) or "invalid token") from None
        except IssuerUnavailable:
            log.warning("auth.issuer_unavailable", exc_info=True)
            raise Unavailable("the identity provider is unreachable; try again shortly") from None
        roles = [Role.parse(name) for name in identity.roles if name.upper() in Role.__members__]
        if not roles and not identity.platform_admin:
            raise Forbidden("your account has no Orchestra role (viewer, editor or admin)")
        return Actor(
            tenant_id=await self._tenant(identity.tenant),
            name=identity.username,
            kind="oidc",
            role=max(roles, default=Role.VIEWER),
            platform_admin=identity.platform_admin,
        )

    async def _tenant(self, name: str) -> uuid.UUID:
        tenant_id = self._tenants.get(name)
        if tenant_id is None:
            async with self.db.transaction(None) as session:
                tenant_id = await ensure_tenant(session, name)
            if len(self._tenants) > 10_000:
                self._tenants.clear()
            self._tenants[name] = tenant_id
        return tenant_id
