"""All SQL of webhooks: the webhooks, queuing events (the outbox), claiming and recording deliveries."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import cast, func, insert, literal, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from orchestra.kit.repository import ProjectScoped, scalar_page
from orchestra.models import Environment, Project, Suite, SuiteRun, Webhook, WebhookAttempt, WebhookDelivery

_webhooks = ProjectScoped(Webhook, Webhook.id, Webhook.name, (Webhook.tenant_id, Webhook.project_id))

find = _webhooks.find
find_by_name = _webhooks.find_by_name
page = _webhooks.page


def event_id_of(key: str) -> uuid.UUID:
    """The id of the event named ``key``: md5 of the key, as the run trigger (migration 0021) makes it."""
    return uuid.UUID(hashlib.md5(key.encode("utf-8"), usedforsecurity=False).hexdigest())


async def queue_event(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    event_type: str,
    key: str,
    event: dict[str, Any],
    webhook_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """A delivery of the event for every enabled webhook of the project that wants it (or for
    ``webhook_id`` alone, whatever it wants: a test delivery), in the caller's transaction. An event
    already queued for a webhook (same key) is not queued again. Returns the deliveries queued."""
    wanted = (
        Webhook.id == webhook_id
        if webhook_id is not None
        else Webhook.enabled & literal(event_type).op("=")(func.any(Webhook.events))
    )
    chosen = select(
        func.gen_random_uuid(),
        literal(tenant_id),
        literal(project_id),
        Webhook.id,
        literal(event_id_of(key)),
        literal(event_type),
        literal(key),
        cast(literal(json.dumps(event, default=str)), JSONB),
    ).where(Webhook.tenant_id == tenant_id, Webhook.project_id == project_id, wanted)
    statement = (
        pg_insert(WebhookDelivery)
        .from_select(
            ["id", "tenant_id", "project_id", "webhook_id", "event_id", "event_type", "event_key", "event"],
            chosen,
        )
        .on_conflict_do_nothing()
        .returning(WebhookDelivery.id)
    )
    return list((await session.execute(statement)).scalars())


async def deliveries_page(
    session: AsyncSession, webhook_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[WebhookDelivery], int]:
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
    )
    return await scalar_page(session, query, limit, offset)


async def delivery(
    session: AsyncSession, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery | None:
    query = select(WebhookDelivery).where(
        WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.id == delivery_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def attempts_of(session: AsyncSession, delivery_id: uuid.UUID) -> list[WebhookAttempt]:
    query = (
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(WebhookAttempt.attempt, WebhookAttempt.id)
    )
    return list((await session.execute(query)).scalars())


# -- the deliverers (webhooks/delivery.py) ---------------------------------------------------------------

_TENANTS = text("SELECT * FROM orchestra_sys_webhook_tenants(now()) AS tenant_id")


async def tenants_with_due_deliveries(conn: AsyncConnection) -> list[uuid.UUID]:
    return [row[0] for row in await conn.execute(_TENANTS)]


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery claimed for one attempt, with what sending it needs."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    project_id: uuid.UUID
    webhook_id: uuid.UUID
    webhook_name: str
    kind: str
    url: str  # encrypted, as stored
    secret: str  # encrypted, as stored
    event_id: uuid.UUID
    event_type: str
    event: dict[str, Any]
    attempt: int


async def claim(session: AsyncSession, batch: int, lease_s: float) -> list[Claimed]:
    """Up to ``batch`` due deliveries of enabled webhooks (of the session's tenant), each given one more
    attempt and hidden from other claims for ``lease_s``: should this process die before it records the
    outcome, the delivery is due again once the lease has passed. Rows another transaction is claiming are
    skipped (FOR UPDATE SKIP LOCKED), so any number of deliverers may claim at once."""
    due = (
        select(WebhookDelivery.id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.state == "pending",
            WebhookDelivery.next_attempt_at <= func.now(),
            Webhook.enabled,
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(batch)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    claimed = (
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(due.scalar_subquery()))
        .values(
            attempts=WebhookDelivery.attempts + 1,
            next_attempt_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, lease_s),
        )
        .returning(WebhookDelivery)
    )
    rows = list((await session.execute(claimed.execution_options(synchronize_session=False))).scalars())
    if not rows:
        return []
    hooks = {
        hook.id: hook
        for hook in (
            await session.execute(select(Webhook).where(Webhook.id.in_({row.webhook_id for row in rows})))
        ).scalars()
    }
    return [
        Claimed(
            id=row.id,
            tenant_id=row.tenant_id,
            project_id=row.project_id,
            webhook_id=row.webhook_id,
            webhook_name=hooks[row.webhook_id].name,
            kind=hooks[row.webhook_id].kind,
            url=hooks[row.webhook_id].url,
            secret=hooks[row.webhook_id].secret,
            event_id=row.event_id,
            event_type=row.event_type,
            event=dict(row.event),
            attempt=row.attempts,
        )
        for row in rows
    ]


async def names(session: AsyncSession, project_id: uuid.UUID, event: dict[str, Any]) -> dict[str, Any]:
    """The project's name, and the names the event's ids stand for (environment, suite run, suite)."""
    found: dict[str, Any] = {
        "project": (await session.execute(select(Project.name).where(Project.id == project_id))).scalar()
    }
    subject = event.get("run") or event.get("suite_run") or {}
    environment_id = subject.get("environment_id")
    if environment_id:
        named = select(Environment.name).where(Environment.id == uuid.UUID(str(environment_id)))
        found["environment"] = (await session.execute(named)).scalar()
    suite_run_id = (event.get("suite_run") or {}).get("id")
    if suite_run_id:
        query = (
            select(SuiteRun.name, Suite.name)
            .outerjoin(Suite, Suite.id == SuiteRun.suite_id)
            .where(SuiteRun.id == uuid.UUID(str(suite_run_id)))
        )
        row = (await session.execute(query)).first()
        if row is not None:
            found["suite_run"], found["suite"] = row[0], row[1]
    return found


async def record(
    session: AsyncSession,
    claimed: Claimed,
    *,
    at: datetime,
    duration_ms: float,
    status_code: int | None,
    error: str | None,
    response_excerpt: str | None,
    outcome: str,
    retry_in_s: float | None,
) -> bool:
    """Log the attempt, then set the delivery's outcome (``delivered``, ``failed``, or ``pending`` again in
    ``retry_in_s``) — only while this attempt is still the delivery's latest (a claim whose lease passed
    and was claimed again writes its log line but decides nothing). Whether the outcome was written."""
    await session.execute(
        insert(WebhookAttempt).values(
            tenant_id=claimed.tenant_id,
            project_id=claimed.project_id,
            webhook_id=claimed.webhook_id,
            delivery_id=claimed.id,
            attempt=claimed.attempt,
            at=at,
            duration_ms=duration_ms,
            status_code=status_code,
            error=error,
            response_excerpt=response_excerpt,
        )
    )
    values: dict[str, Any] = {"state": outcome, "last_status_code": status_code, "last_error": error}
    if outcome == "delivered":
        values["delivered_at"] = func.now()
    if retry_in_s is not None:
        values["next_attempt_at"] = func.now() + func.make_interval(0, 0, 0, 0, 0, 0, retry_in_s)
    statement = (
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == claimed.id,
            WebhookDelivery.attempts == claimed.attempt,
            WebhookDelivery.state == "pending",
        )
        .values(**values)
        .returning(WebhookDelivery.id)
    )
    return (await session.execute(statement.execution_options(synchronize_session=False))).first() is not None
