"""One-off at start-up: encrypt the secret values that databases from before encryption at rest hold in clear.

It runs after the migrations, as the role that migrates (``owner_url``), because it must reach every
tenant's environments: row-level security shows the application role one tenant at a time and never the
list of tenants. The tenants are listed as ``orchestra_system`` (the role of the narrow cross-tenant reads,
migration 0006), then each tenant's environments are updated with that tenant entered (with the context
key, as the services do), so the same tenant policies hold for the owner as for the services. Idempotent:
encrypted values (``enc:v1:``) are left as they are, and a second pass finds nothing. It logs counts only,
never names or values.
"""

from __future__ import annotations

import json
import uuid

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from orchestra.db import enter_tenant
from orchestra.kit.environment_secrets import seal_plaintexts
from orchestra.kit.secret_box import PREFIX, SecretBox
from orchestra.tenant_context import ContextKey

log = structlog.get_logger(__name__)

_TENANTS = text("SELECT id FROM tenants ORDER BY id")
# Only environments holding at least one value not encrypted yet; locked, so two starting replicas do not
# both encrypt the same value (the second sees the first one's result once the lock is released).
_PLAINTEXT = text(
    """
    SELECT id, secrets FROM environments
    WHERE tenant_id = :tenant AND EXISTS (
        SELECT 1 FROM jsonb_each(secrets) AS s(name, value)
        WHERE jsonb_typeof(s.value) <> 'string' OR left(s.value #>> '{}', :prefix_len) <> :prefix
    )
    FOR UPDATE
    """
)
_STORE = text("UPDATE environments SET secrets = CAST(:secrets AS jsonb) WHERE id = :id")


async def tenant_ids(conn: AsyncConnection) -> list[uuid.UUID]:
    """Every tenant, read as orchestra_system (the owner is a member; a superuser may assume it too). The
    role lasts until the end of the caller's transaction: use it for nothing else."""
    await conn.execute(text("SET LOCAL ROLE orchestra_system"))
    return [row.id for row in await conn.execute(_TENANTS)]


async def encrypt_tenant_secrets(
    conn: AsyncConnection, tenant_id: uuid.UUID, box: SecretBox, context_key: ContextKey
) -> int:
    """Encrypt the plaintext secret values of one tenant's environments (in the caller's transaction, with
    the tenant entered here for its row-level security); returns how many values were encrypted."""
    await enter_tenant(conn, context_key, tenant_id)
    rows = await conn.execute(_PLAINTEXT, {"tenant": tenant_id, "prefix": PREFIX, "prefix_len": len(PREFIX)})
    count = 0
    for row in rows.all():
        sealed, encrypted = seal_plaintexts(box, tenant_id, row.id, row.secrets)
        if encrypted:
            await conn.execute(_STORE, {"id": row.id, "secrets": json.dumps(sealed)})
            count += encrypted
    return count


async def encrypt_plaintext_secrets(owner: str | AsyncEngine, box: SecretBox, context_key: ContextKey) -> int:
    """The pass over every tenant (one transaction per tenant); returns the number of values encrypted.
    ``owner``: the owner's URL, or an engine of the caller's (left open)."""
    engine = create_async_engine(owner, poolclass=NullPool) if isinstance(owner, str) else owner
    total = 0
    try:
        async with engine.begin() as conn:
            tenants = await tenant_ids(conn)
        for tenant_id in tenants:
            async with engine.begin() as conn:
                total += await encrypt_tenant_secrets(conn, tenant_id, box, context_key)
    finally:
        if isinstance(owner, str):
            await engine.dispose()
    if total:
        log.info("secrets.encrypted_at_rest", values=total)
    return total
