"""Storage of imported descriptions: one current description (and its catalogue) per environment."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.models import ApiSpec
from orchestra.openapi.operations import Catalogue


async def find(session: AsyncSession, environment_id: uuid.UUID) -> ApiSpec | None:
    query = select(ApiSpec).where(ApiSpec.environment_id == environment_id)
    return (await session.execute(query)).scalar_one_or_none()


async def load_catalogue(session: AsyncSession, environment_id: uuid.UUID) -> Catalogue | None:
    """The catalogue of the environment's current description; None when none was imported. Only the
    catalogue column is read (the document can be megabytes). The session's tenant (row-level security)
    decides what is visible."""
    query = select(ApiSpec.catalogue).where(ApiSpec.environment_id == environment_id)
    data = (await session.execute(query)).scalar_one_or_none()
    return Catalogue.from_json(data) if data is not None else None


async def load_document(session: AsyncSession, environment_id: uuid.UUID) -> dict[str, Any] | None:
    query = select(ApiSpec.document).where(ApiSpec.environment_id == environment_id)
    return (await session.execute(query)).scalar_one_or_none()


async def upsert(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    environment_id: uuid.UUID,
    source: str,
    document: dict[str, Any],
    catalogue: Catalogue,
) -> ApiSpec:
    """Store the description as the environment's current one, replacing any earlier import (a concurrent
    import of the same environment waits on the row instead of failing)."""
    values = {
        "source": source,
        "title": catalogue.title,
        "spec_hash": catalogue.spec_hash,
        "document": document,
        "catalogue": catalogue.to_json(),
        "operation_count": len(catalogue.operations),
        "imported_at": func.now(),
    }
    statement = (
        insert(ApiSpec)
        .values(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            project_id=project_id,
            environment_id=environment_id,
            **values,
        )
        .on_conflict_do_update(index_elements=[ApiSpec.environment_id], set_=values)
        .returning(ApiSpec)
        .execution_options(populate_existing=True)
    )
    spec: ApiSpec = (await session.execute(statement)).scalar_one()
    return spec
