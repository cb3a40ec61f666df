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
