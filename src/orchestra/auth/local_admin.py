"""The local admin token: how a person on the machine reaches an Orchestra that has no identity provider.

Generated at the first start of a server, printed once, kept for the local user in
``<data-dir>/admin-token`` (mode 0600) and stored as a hash. A later start finds the file and the hash and
changes nothing; when either is gone (the file deleted, the database reset) a new token replaces the old
one, which is revoked. The CLI reads the file when it talks to a server on this machine.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text, update

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


async def ensure_local_admin_token(db: Database, tenant_id: uuid.UUID, data_dir: Path) -> str | None:
    """Make sure ``<data-dir>/admin-token`` holds a valid local admin token; the new token when one was
    created (the caller prints it once), None when the existing one is still valid."""
    async with db.transaction(tenant_id) as session:
        # Replicas starting together on one data directory: one at a time, each seeing the last one's file.
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        existing = read_token(data_dir)
        if existing is not None:
            parsed = api_tokens.parse(existing)
            if parsed is not None and parsed.tenant_id == tenant_id:
                valid = await session.execute(
                    select(ApiToken.id).where(
                        ApiToken.token_hash == parsed.token_hash,
                        ApiToken.kind == "local-admin",
                        ApiToken.revoked_at.is_(None),
                    )
                )
                if valid.first() is not None:
                    return None
        await session.execute(
            update(ApiToken)
            .where(ApiToken.kind == "local-admin", ApiToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
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
    return token
