"""The local admin token: how a person reaches an Orchestra that has no identity provider.

The token belongs to the database (one per tenant, stored as a hash), so every server of a database (API
replicas) accepts the same one. It is generated at the first start of a server of the database, printed
once, and kept for the local user in that server's ``<data-dir>/admin-token`` (mode 0600). A later start
finds the file and the hash and changes nothing; another replica, with a data directory of its own, finds
the valid hash and leaves it alone. ``orchestra admin-token`` prints it from the file, or replaces it. In
embedded mode the database lives in the data directory: the file deleted, a new token replaces the old
one, which is revoked. The CLI reads the file when it talks to a server on this machine.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.auth import api_tokens
from orchestra.db import Database
from orchestra.models import ApiToken

FILE_NAME = "admin-token"
_LOCK_KEY = 0x0AD317


def token_file(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def read_token(data_dir: Path) -> str | None:
    try:
        token = token_file(data_dir).read_text().strip()
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        return None
    return token or None


def _write_private(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` readable by the owner only (never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, content.encode())
    finally:
        os.close(fd)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


@dataclass(frozen=True)
class LocalAdmin:
    """Where the database's local admin token is, after a server made sure there is one."""

    token: str | None  # the valid token ``<data-dir>/admin-token`` holds; None: another data directory's
    issued: bool  # issued just now (shown once by the caller)
    replaced: bool = False  # a valid local admin token existed and was revoked for this one


async def _holds_valid(session: AsyncSession, tenant_id: uuid.UUID, token: str | None) -> bool:
    parsed = api_tokens.parse(token) if token is not None else None
    if parsed is None or parsed.tenant_id != tenant_id:
        return False
    found = await session.execute(
        select(ApiToken.id).where(
            ApiToken.token_hash == parsed.token_hash,
            ApiToken.kind == "local-admin",
            ApiToken.revoked_at.is_(None),
        )
    )
    return found.first() is not None


async def _issue(session: AsyncSession, tenant_id: uuid.UUID, data_dir: Path) -> LocalAdmin:
    """A new local admin token in place of any other (revoked), kept in ``<data-dir>/admin-token``."""
    revoked = await session.execute(
        update(ApiToken)
        .where(ApiToken.kind == "local-admin", ApiToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .returning(ApiToken.id)
    )
    replaced = bool(revoked.all())
    token, row = api_tokens.issue(
        tenant_id,
        name="local admin",
        role="admin",
        created_by="orchestra",
        kind="local-admin",
        platform_admin=True,
    )
    session.add(row)
    await session.flush()
    _write_private(token_file(data_dir), token + "\n")
    return LocalAdmin(token, issued=True, replaced=replaced)


async def ensure_local_admin_token(
    db: Database, tenant_id: uuid.UUID, data_dir: Path, *, shared: bool | None = None
) -> LocalAdmin:
    """Make sure the database has a valid local admin token, at a server's start.

    ``<data-dir>/admin-token`` holding a valid one: nothing changes. Else, when the database already has a
    valid one, a ``shared`` database (default: any but the embedded database of the data directory) keeps
    it: another server of the database (an API replica) issued it and keeps it in its own data directory,
    and replacing it would revoke the token every other replica and client uses (``orchestra
    admin-token`` replaces it on purpose). The embedded database belongs to its data directory, where the
    file is the token's only copy: the file gone, a new token replaces the old one, which is revoked.
    With no valid token at all, a new one is issued and kept in the file."""
    if shared is None:
        shared = db.embedded is None
    async with db.transaction(tenant_id) as session:
        # Servers starting together: one at a time, each seeing what the last one did.
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        existing = read_token(data_dir)
        if await _holds_valid(session, tenant_id, existing):
            return LocalAdmin(existing, issued=False)
        if shared:
            other = await session.execute(
                select(ApiToken.id).where(ApiToken.kind == "local-admin", ApiToken.revoked_at.is_(None))
            )
            if other.first() is not None:
                return LocalAdmin(None, issued=False)
        return await _issue(session, tenant_id, data_dir)


async def local_admin_token(
    db: Database, tenant_id: uuid.UUID, data_dir: Path, *, renew: bool = False
) -> LocalAdmin:
    """The local admin token for an operator (``orchestra admin-token``): the one ``<data-dir>/admin-token``
    holds while it is valid, else (or with ``renew``) a new one, which revokes the previous one on every
    server of the database."""
    async with db.transaction(tenant_id) as session:
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        existing = read_token(data_dir)
        if not renew and await _holds_valid(session, tenant_id, existing):
            return LocalAdmin(existing, issued=False)
        return await _issue(session, tenant_id, data_dir)
