"""Delegation tokens: how the ai-service reads data on behalf of whoever asked it, and nothing more.

The API (or an executor, which holds the same secret key) mints a short-lived HS256 JWT for one tenant and
one project and hands it to the ai-service with the request; the ai-service sends it back to the API's tool
endpoints. The token always yields a viewer scoped to that project, so a model that is led astray can read
what the asker could read in that project and can never write. The signing key is derived from the secret
key (``SecretBox.derive_key``): no new secret to configure, and the encryption key itself is never used to
sign.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from orchestra.actor import Actor, Role
from orchestra.kit.secret_box import SecretBox

ISSUER = "orchestra-delegation"
AUDIENCE = "orchestra-api"
ALGORITHM = "HS256"
DEFAULT_TTL = timedelta(minutes=10)
MAX_TTL = timedelta(hours=1)
KEY_LABEL = "delegation-token-signing"
MAX_SUBJECT_CHARS = 200
_LEEWAY_S = 5


class InvalidDelegation(Exception):
    """The token is not a valid delegation token; ``str(error)`` is safe to show to the caller."""


@dataclass(frozen=True, slots=True)
class DelegatedClaims:
    tenant_id: uuid.UUID
    project_id: uuid.UUID
    subject: str
    token_id: str
    expires_at: datetime


def looks_like_delegation(token: str) -> bool:
    """Whether the token claims to be ours (unverified): decides which verifier gets it, nothing more."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    return isinstance(claims, dict) and claims.get("iss") == ISSUER


class Delegation:
    """Mints and verifies delegation tokens with a key derived from the runtime's secret key."""

    def __init__(self, secrets: SecretBox) -> None:
        self._key = secrets.derive_key(KEY_LABEL)

    def mint(
        self,
        *,
        tenant_id: uuid.UUID,
        project_id: uuid.UUID,
        subject: str,
        ttl: timedelta = DEFAULT_TTL,
        now: datetime | None = None,
    ) -> str:
        """A viewer token for one project of one tenant; ``subject`` says who asked (user or "run <id>")."""
        if not timedelta(0) < ttl <= MAX_TTL:
            raise ValueError(f"a delegation token lives between 0 and {MAX_TTL}, not {ttl}")
        issued = now or datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject[:MAX_SUBJECT_CHARS] or "unknown",
            "tid": str(tenant_id),
            "pid": str(project_id),
            "role": Role.VIEWER.label,
            "iat": int(issued.timestamp()),
            "exp": int((issued + ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> DelegatedClaims:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=_LEEWAY_S,
                options={"require": ["iss", "aud", "sub", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidDelegation("delegation token expired") from None
        except jwt.PyJWTError:
            raise InvalidDelegation("invalid delegation token") from None
        if claims.get("role") != Role.VIEWER.label:
            raise InvalidDelegation("a delegation token carries the viewer role only")
        try:
            tenant_id = uuid.UUID(str(claims["tid"]))
            project_id = uuid.UUID(str(claims["pid"]))
        except (KeyError, ValueError):
            raise InvalidDelegation("the delegation token does not name a tenant and a project") from None
        return DelegatedClaims(
            tenant_id=tenant_id,
            project_id=project_id,
            subject=str(claims["sub"]),
            token_id=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )

    def actor(self, token: str) -> Actor:
        """The actor a verified token stands for: a viewer that sees one project only."""
        claims = self.verify(token)
        return Actor(
            tenant_id=claims.tenant_id,
            name=f"delegated:{claims.subject}",
            kind="delegated",
            role=Role.VIEWER,
            project_id=claims.project_id,
        )
