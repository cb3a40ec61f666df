"""API token format: ``orc_<tenant id, 32 hex>_<secret, 43 base64url chars>`` (256 random bits).

Only the SHA-256 of the whole token is stored: the secret has full entropy, so a slow password hash would
add nothing. The tenant part lets the API look the token up inside its own tenant — row-level security
stays on for authentication too — and lets secret scanners recognise a leaked token by its prefix.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from orchestra.models import ApiToken

PREFIX = "orc_"
_FORMAT = re.compile(r"^orc_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class ParsedToken:
    tenant_id: uuid.UUID
    token_hash: str


def generate(tenant_id: uuid.UUID) -> str:
    return f"{PREFIX}{tenant_id.hex}_{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    """What lists show to tell tokens apart: the start of the secret part, never enough to use it."""
    return token[len(PREFIX) + 33 : len(PREFIX) + 33 + 8]


def looks_like_api_token(token: str) -> bool:
    return token.startswith(PREFIX)


def parse(token: str) -> ParsedToken | None:
    match = _FORMAT.match(token)
    if match is None:
        return None
    return ParsedToken(uuid.UUID(match.group(1)), hash_token(token))


def issue(
    tenant_id: uuid.UUID,
    *,
    name: str,
    role: str,
    created_by: str,
    kind: str = "api",
    project_id: uuid.UUID | None = None,
    platform_admin: bool = False,
    expires_at: datetime | None = None,
) -> tuple[str, ApiToken]:
    """A new token and the row that stores it (its hash only); the caller adds the row to its session."""
    token = generate(tenant_id)
    row = ApiToken(
        tenant_id=tenant_id,
        name=name,
        token_hash=hash_token(token),
        prefix=display_prefix(token),
        role=role,
        project_id=project_id,
        kind=kind,
        platform_admin=platform_admin,
        created_by=created_by,
        expires_at=expires_at,
    )
    return token, row
